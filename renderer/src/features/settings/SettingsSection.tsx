import { Card, Checkbox, Code, NativeSelect, Stack, Text, Title, useMantineColorScheme } from '@mantine/core';
import { useEffect } from 'react';
import { toScheme } from '../../app/color-scheme';
import { useConnection } from '../../app/connection-store';
import { Section } from '../../ui/Section';
import { LocalMongodCard } from './LocalMongodCard';
import { RepositoriesCard } from './RepositoriesCard';
import { useSettings, type Settings } from './settings-store';

const THEMES: { value: Settings['theme']; label: string }[] = [
  { value: 'system', label: 'Follow the system' },
  { value: 'light', label: 'Light' },
  { value: 'dark', label: 'Dark' },
];

export function SettingsSection() {
  const settings = useSettings((s) => s.settings);
  const change = useSettings((s) => s.change);
  const loadRepositories = useSettings((s) => s.loadRepositories);
  const info = useConnection((s) => s.info);
  // The theme goes through the component library's colour scheme, which stores it in the settings.
  // keepTransitions: otherwise Mantine injects a <style> (transition: none) during the switch, which the CSP refuses.
  const { setColorScheme } = useMantineColorScheme({ keepTransitions: true });

  useEffect(() => {
    void loadRepositories();
  }, [loadRepositories]);

  return (
    <Section title="Settings" lead="Preferences for this workstation, stored in the local catalog.">
      {!settings ? (
        <Text>Loading settings…</Text>
      ) : (
        <Card withBorder component="form" onSubmit={(e) => e.preventDefault()} maw={640}>
          <Title order={3} size="h5" mb="sm">
            Display and desktop
          </Title>
          <Stack gap="sm">
            <NativeSelect
              label="Theme"
              name="theme"
              value={settings.theme}
              onChange={(e) => setColorScheme(toScheme(e.currentTarget.value as Settings['theme']))}
              data={THEMES}
              maw={260}
            />
            <Checkbox
              name="closeToTray"
              checked={settings.closeToTray}
              onChange={(e) => void change({ closeToTray: e.currentTarget.checked })}
              label="Keep capturing in the tray when the window is closed (desktop)"
            />
            <Checkbox
              name="desktopNotifications"
              checked={settings.desktopNotifications}
              onChange={(e) => void change({ desktopNotifications: e.currentTarget.checked })}
              label="Show alerts as desktop notifications (desktop)"
            />
            <Checkbox
              name="showLocalTime"
              checked={settings.showLocalTime}
              onChange={(e) => void change({ showLocalTime: e.currentTarget.checked })}
              label="Show local time next to UTC in schedules (instants are always local, UTC on hover)"
            />
          </Stack>
        </Card>
      )}
      <RepositoriesCard />
      {settings && <LocalMongodCard />}
      {info && (
        <Text size="sm" c="dimmed">
          Data directory: <Code>{info.dataDir}</Code>
        </Text>
      )}
    </Section>
  );
}
