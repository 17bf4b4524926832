import { Group, Tabs, Title } from '@mantine/core';
import { Alerts } from '../features/alerts/Alerts';
import { Browse } from '../features/browse/Browse';
import { Dashboard } from '../features/dashboard/Dashboard';
import { Restores } from '../features/restores/Restores';
import { SettingsSection } from '../features/settings/SettingsSection';
import { Sources } from '../features/sources/Sources';
import { Timeline } from '../features/timeline/Timeline';
import { ErrorBoundary } from './ErrorBoundary';
import { Nav } from './Nav';
import { SECTIONS, useNavigation, type SectionId } from './navigation';
import { StatusBar } from './StatusBar';

const PANELS: Record<SectionId, () => React.JSX.Element> = {
  dashboard: Dashboard,
  sources: Sources,
  timeline: Timeline,
  restores: Restores,
  browse: Browse,
  alerts: Alerts,
  settings: SettingsSection,
};

/** The window: title bar, section navigation (a vertical tab list), the section, the status bar. */
export function App() {
  const section = useNavigation((s) => s.section);
  const setSection = useNavigation((s) => s.setSection);
  return (
    <div className="app">
      <header className="app-header">
        <Group gap="xs">
          <Title order={1} size="h4">
            Mongo Backup Manager
          </Title>
        </Group>
      </header>
      <Tabs
        className="app-body"
        orientation="vertical"
        variant="pills"
        value={section}
        onChange={(v) => v && setSection(v as SectionId)}
        keepMounted={false}
      >
        <Nav />
        {SECTIONS.map((s) => {
          const Panel = PANELS[s.id];
          return (
            <Tabs.Panel key={s.id} value={s.id} className="panel" tabIndex={0}>
              <ErrorBoundary key={s.id}>
                <Panel />
              </ErrorBoundary>
            </Tabs.Panel>
          );
        })}
      </Tabs>
      <StatusBar />
    </div>
  );
}
