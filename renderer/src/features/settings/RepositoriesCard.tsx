import { Badge, Button, Card, Code, Group, Stack, Text, TextInput, Title } from '@mantine/core';
import { useState } from 'react';
import { ErrorText } from '../../ui/ErrorText';
import { useSettings } from './settings-store';

/** Registered backup repositories; encrypted ones can be unlocked here (the desktop app remembers it in the keychain). */
export function RepositoriesCard() {
  const repositories = useSettings((s) => s.repositories);
  const loadError = useSettings((s) => s.repositoriesError);
  const unlock = useSettings((s) => s.unlockRepository);
  const [passphrase, setPassphrase] = useState<Record<string, string>>({});
  const [error, setError] = useState<Record<string, string>>({});

  return (
    <Card withBorder component="section" aria-label="Backup repositories" maw={860}>
      <Title order={3} size="h5" mb="sm">
        Backup repositories
      </Title>
      <ErrorText message={loadError} />
      {repositories?.length === 0 && (
        <Text size="sm" c="dimmed">
          None yet. Create one with <Code>npm run --silent cli -- repo init --path DIR</Code> (add{' '}
          <Code>--encrypt --passphrase-env VAR</Code> to encrypt it).
        </Text>
      )}
      <Stack gap="sm" component="ul" className="repo-list">
        {repositories?.map((r) => (
          <li key={r.id} data-testid="repository">
            <Code>{r.path}</Code>
            <Group gap="xs" mt={4}>
              <Badge variant="outline" color="gray">
                {r.compression}
              </Badge>
              <Badge variant="outline" color={r.encrypted ? (r.unlocked ? 'teal' : 'yellow') : 'gray'}>
                {r.encrypted ? (r.unlocked ? 'encrypted, unlocked' : 'encrypted, locked') : 'not encrypted'}
              </Badge>
              <Text size="sm" c="dimmed">
                {r.sources.length} source(s)
              </Text>
            </Group>
            {r.encrypted && !r.unlocked && (
              <form
                onSubmit={(e) => {
                  e.preventDefault();
                  void unlock(r.id, passphrase[r.id] ?? '').then((err) => {
                    setError((m) => ({ ...m, [r.id]: err ?? '' }));
                    if (!err) setPassphrase((m) => ({ ...m, [r.id]: '' }));
                  });
                }}
              >
                <Group gap="xs" align="flex-end" mt="xs">
                  <TextInput
                    label="Passphrase"
                    type="password"
                    autoComplete="current-password"
                    value={passphrase[r.id] ?? ''}
                    onChange={(e) => {
                      const value = e.currentTarget.value;
                      setPassphrase((m) => ({ ...m, [r.id]: value }));
                    }}
                    w={300}
                  />
                  <Button type="submit">Unlock</Button>
                </Group>
                <ErrorText message={error[r.id]} />
              </form>
            )}
          </li>
        ))}
      </Stack>
    </Card>
  );
}
