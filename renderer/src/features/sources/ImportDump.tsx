import { Button, Card, Group, SegmentedControl, Select, Stack, Text, TextInput, Title } from '@mantine/core';
import { useEffect, useState } from 'react';
import { errorMessage } from '../../app/connection-store';
import { useTask } from '../../app/tasks-store';
import { ErrorText } from '../../ui/ErrorText';
import { PathInput } from '../../ui/PathInput';
import { TaskProgress } from '../../ui/TaskProgress';
import { useSources, type ImportResult } from './sources-store';

type Gzip = 'auto' | 'yes' | 'no';

/**
 * Existing mongodump output (a directory or an --archive file) becomes a
 * snapshot of a source; a name that is not a source yet creates an imported
 * one (no connection, nothing to capture). Desktop: the system's file dialog;
 * a browser: the path is typed (the engine reads it on this machine).
 */
export function ImportDump({ onClose }: { onClose: () => void }) {
  const importDump = useSources((s) => s.importDump);
  const [source, setSource] = useState('');
  const [format, setFormat] = useState<'directory' | 'archive'>('directory');
  const [path, setPath] = useState('');
  const [gzip, setGzip] = useState<Gzip>('auto');
  const [taskId, setTaskId] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [result, setResult] = useState<ImportResult | null>(null);
  const task = useTask(taskId);
  const state = task?.state;

  useEffect(() => {
    if (state !== 'succeeded' || !taskId) return;
    let live = true;
    void useSources
      .getState()
      .importResult(taskId)
      .then((r) => live && setResult(r));
    return () => {
      live = false;
    };
  }, [state, taskId]);

  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    setError(null);
    setResult(null);
    try {
      setTaskId(
        await importDump({
          source: source.trim(),
          ...(format === 'directory' ? { dir: path.trim() } : { archive: path.trim() }),
          ...(gzip === 'auto' ? {} : { gzip: gzip === 'yes' }),
        }),
      );
    } catch (err) {
      setError(errorMessage(err));
    }
  };
  const running = state === 'running';
  return (
    <Card withBorder component="form" aria-label="Import a dump" onSubmit={(e) => void submit(e)}>
      <Stack gap="sm">
        <Title order={3} size="h4">
          Import a dump
        </Title>
        <Text size="sm" c="dimmed">
          mongodump output, with or without oplog.bson, users and roles, becomes a snapshot that can be
          planned, restored, exported and queried like any other.
        </Text>
        <TextInput
          label="Source"
          description="An existing source, or a new name: it is created as an imported source."
          value={source}
          onChange={(e) => setSource(e.currentTarget.value)}
          maw={360}
          required
        />
        <SegmentedControl
          aria-label="Dump format"
          value={format}
          onChange={(v) => setFormat(v as 'directory' | 'archive')}
          data={[
            { value: 'directory', label: 'Directory' },
            { value: 'archive', label: 'Archive file' },
          ]}
          maw={320}
        />
        <PathInput
          kind={format === 'directory' ? 'directory' : 'file'}
          label={format === 'directory' ? 'Dump directory' : 'Archive file'}
          description="On the machine the engine runs on."
          value={path}
          onChange={(e) => setPath(e.currentTarget.value)}
          onPick={setPath}
          required
        />
        <Select
          label="gzip"
          maw={240}
          allowDeselect={false}
          value={gzip}
          onChange={(v) => setGzip((v ?? 'auto') as Gzip)}
          data={[
            { value: 'auto', label: 'Detect' },
            { value: 'yes', label: 'gzip (--gzip)' },
            { value: 'no', label: 'Not compressed' },
          ]}
        />
        <Group gap="xs">
          <Button type="submit" disabled={running || !source.trim() || !path.trim()}>
            Import
          </Button>
          <Button type="button" variant="default" onClick={onClose} disabled={running}>
            {taskId ? 'Close' : 'Cancel'}
          </Button>
        </Group>
        <ErrorText message={error} />
        <TaskProgress taskId={taskId} label="Import" />
        {result && (
          <Text size="sm" role="status">
            {result.sourceCreated ? `Created the imported source ${result.source}; ` : ''}snapshot{' '}
            <span className="mono">{result.snapshotId}</span>: {result.namespaces} namespace(s),{' '}
            {result.documents.toLocaleString('en-US')} documents,{' '}
            {result.oplogEntries.toLocaleString('en-US')} oplog entries.
          </Text>
        )}
      </Stack>
    </Card>
  );
}
