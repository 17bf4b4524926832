import { Button, Card, Group, Stack, Text, Title } from '@mantine/core';
import { useEffect, useState } from 'react';
import { errorMessage } from '../../app/connection-store';
import { ErrorText } from '../../ui/ErrorText';
import { PathInput } from '../../ui/PathInput';
import { useRestores } from '../restores/restores-store';
import { useSettings } from './settings-store';

/**
 * The throwaway local mongod: the binary it is started from (an air-gapped
 * workstation often has the binary but no server), whether it runs, its
 * connection string, and Stop.
 */
export function LocalMongodCard() {
  const binary = useSettings((s) => s.settings?.mongodBinary ?? null);
  const change = useSettings((s) => s.change);
  const status = useRestores((s) => s.localMongod);
  const [path, setPath] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    void useRestores
      .getState()
      .loadLocalMongod()
      .catch(() => undefined);
  }, []);
  const value = path ?? binary ?? '';
  const save = async () => {
    setError(null);
    try {
      await change({ mongodBinary: value.trim() || null });
      setPath(null);
    } catch (err) {
      setError(errorMessage(err));
    }
  };
  const stop = async () => {
    setError(null);
    try {
      await useRestores.getState().stopLocalMongod();
    } catch (err) {
      setError(errorMessage(err));
    }
  };
  return (
    <Card withBorder maw={640} data-testid="local-mongod-settings">
      <Title order={3} size="h5" mb="sm">
        Throwaway local mongod
      </Title>
      <Stack gap="sm">
        <PathInput
          kind="file"
          label="mongod binary"
          description="The app starts its throwaway local mongod from this binary (127.0.0.1 only, a port it picks, data under the data directory)."
          placeholder="/opt/mongodb/bin/mongod"
          value={value}
          onChange={(e) => setPath(e.currentTarget.value)}
          onPick={setPath}
        />
        <Group gap="xs">
          <Button variant="default" onClick={() => void save()} disabled={path === null}>
            Save
          </Button>
          {status?.state === 'running' && (
            <Button variant="light" color="red" onClick={() => void stop()}>
              Stop it
            </Button>
          )}
        </Group>
        {status && (
          <Text size="sm" role="status">
            {status.state === 'running' && status.uri ? (
              <>
                Running at <span className="mono">{status.uri}</span>
                {status.version && ` (mongod ${status.version})`}.
              </>
            ) : (
              `Not running (${status.state}).`
            )}
            {status.lastError && ` Last error: ${status.lastError}`}
          </Text>
        )}
        <ErrorText message={error} />
      </Stack>
    </Card>
  );
}
