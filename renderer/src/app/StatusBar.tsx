import { Group, Text } from '@mantine/core';
import { useConnection } from './connection-store';

const LABEL = {
  connecting: 'Connecting to engine…',
  connected: 'Engine connected',
  disconnected: 'Engine disconnected — retrying',
};

/** Is the engine there, which one, and the last background failure. */
export function StatusBar() {
  const connection = useConnection((s) => s.connection);
  const info = useConnection((s) => s.info);
  const lastError = useConnection((s) => s.lastError);
  return (
    <footer className="status-bar" role="status" aria-live="polite">
      <Group gap="sm" wrap="nowrap">
        <span className={`dot dot-${connection}`} aria-hidden="true" />
        <Text size="xs" data-testid="connection-state" data-state={connection}>
          {LABEL[connection]}
        </Text>
        {info && (
          <Text size="xs" c="dimmed">
            v{info.version} · {info.mode} · catalog schema {info.catalogSchemaVersion}
          </Text>
        )}
        {lastError && (
          <Text size="xs" c="red">
            {lastError}
          </Text>
        )}
      </Group>
    </footer>
  );
}
