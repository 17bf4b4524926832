import { Alert, Button, Card, Code, Group, Stack, Text, Title } from '@mantine/core';
import { useId, useState } from 'react';
import { errorMessage } from '../../app/connection-store';
import { ConfirmDialog } from '../../ui/ConfirmDialog';
import { ErrorText } from '../../ui/ErrorText';
import { BackupJobCard } from './BackupJobCard';
import { ProbeReport } from './ProbeReport';
import { useSources, type SourceView } from './sources-store';

/** One source: how it is reached, its last connection test, and its backup job. */
export function SourceCard({ source, onEdit }: { source: SourceView; onEdit: () => void }) {
  const report = useSources((s) => s.probeReports[source.name]);
  const { test, remove } = useSources.getState();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [removing, setRemoving] = useState(false);
  const [removeError, setRemoveError] = useState<string | null>(null);
  const noConnectionId = useId();

  const runTest = async () => {
    setBusy(true);
    setError(null);
    try {
      await test(source.name);
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };
  const confirmRemove = async () => {
    setRemoveError(null);
    try {
      await remove(source.name);
      setRemoving(false);
    } catch (err) {
      setRemoveError(errorMessage(err));
    }
  };
  const facts = [
    `password: ${source.passwordStorage}`,
    source.readPreference && `read preference ${source.readPreference}`,
    source.tlsCaFile && `TLS CA ${source.tlsCaFile}`,
    source.tlsCertFile && `client certificate ${source.tlsCertFile}`,
  ].filter(Boolean);
  return (
    <Card withBorder component="li" data-testid={`source-${source.name}`}>
      <Stack gap="sm">
        <div>
          <Group gap="sm">
            <Title order={3} size="h4">
              {source.name}
            </Title>
            <Code>{source.uri}</Code>
          </Group>
          <Text size="sm" c="dimmed" mt={4}>
            {facts.join(' · ')}
          </Text>
        </div>
        {source.warnings.map((w) => (
          <Alert key={w} color="yellow" variant="light" py={6}>
            {w}
          </Alert>
        ))}
        <Group gap="xs">
          {/* An imported source came from a mongodump: there is no deployment to reach. */}
          <Button
            variant="default"
            disabled={busy || source.imported}
            aria-describedby={source.imported ? noConnectionId : undefined}
            onClick={() => void runTest()}
          >
            {busy ? 'Testing…' : 'Test connection'}
          </Button>
          {/* Nor a connection string to edit: an edit would give it one it never had. */}
          <Button
            variant="default"
            disabled={source.imported}
            aria-describedby={source.imported ? noConnectionId : undefined}
            onClick={onEdit}
          >
            Edit connection
          </Button>
          <Button variant="subtle" color="red" onClick={() => setRemoving(true)}>
            Remove…
          </Button>
        </Group>
        {source.imported && (
          <Text size="sm" c="dimmed" id={noConnectionId} data-testid="no-connection">
            Imported from a mongodump: {source.name} has no connection to test or edit. Its snapshots are
            restore points; nothing is captured.
          </Text>
        )}
        <ErrorText message={error} />
        {report && <ProbeReport report={report} />}
        <BackupJobCard source={source.name} />
      </Stack>
      <ConfirmDialog
        opened={removing}
        title={`Remove ${source.name}`}
        confirm={`Remove ${source.name}`}
        onConfirm={() => void confirmRemove()}
        onClose={() => {
          setRemoving(false);
          setRemoveError(null);
        }}
        error={removeError}
      >
        <Text size="sm">
          Forget {source.name}? A source with backups cannot be removed: terminate its job (deleting the
          backups) first.
        </Text>
      </ConfirmDialog>
    </Card>
  );
}
