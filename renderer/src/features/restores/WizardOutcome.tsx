import { Alert, Group, Loader, Text } from '@mantine/core';
import { useEffect, useState } from 'react';
import { errorMessage } from '../../app/connection-store';
import { useTask } from '../../app/tasks-store';
import { ErrorText } from '../../ui/ErrorText';
import { bytes } from '../../ui/format';
import { RestoreReport } from './RestoreReport';
import { useRestores, type ExportResult, type RestoreStart } from './restores-store';

type Outcome =
  | { state: 'loading' }
  | { state: 'error'; message: string }
  | { state: 'restore'; id: string }
  | { state: 'export'; result: ExportResult }
  | { state: 'none' };

/**
 * Step 6: how the started task ended. A restore shows its report from the
 * history (the catalog has it; a failed one too, with what it left); an
 * export says where the dump is.
 */
export function WizardOutcome({ taskId, command }: { taskId: string; command: RestoreStart['command'] }) {
  const task = useTask(taskId);
  const [outcome, setOutcome] = useState<Outcome>({ state: 'loading' });
  const restore = useRestores((s) => (outcome.state === 'restore' ? s.restores[outcome.id] : undefined));
  const state = task?.state;
  const startedAt = task?.startedAt;

  useEffect(() => {
    if (!state || state === 'running') return;
    let live = true;
    const { resultOf, loadRestore, loadHistory } = useRestores.getState();
    const find = async (): Promise<Outcome> => {
      if (command === 'export.dump')
        return state === 'succeeded'
          ? { state: 'export', result: (await resultOf(taskId)) as ExportResult }
          : { state: 'none' };
      if (state === 'succeeded') {
        const { restoreId } = (await resultOf(taskId)) as { restoreId: string };
        await loadRestore(restoreId);
        return { state: 'restore', id: restoreId };
      }
      // A restore that failed or was cancelled returns nothing: its history entry is the one it started.
      await loadHistory();
      const since = Date.parse(startedAt ?? '') - 5000;
      const entry = (useRestores.getState().history ?? []).find(
        (r) => r.state === state && Date.parse(r.startedAt) >= since,
      );
      if (!entry) return { state: 'none' };
      await loadRestore(entry.id);
      return { state: 'restore', id: entry.id };
    };
    find().then(
      (o) => live && setOutcome(o),
      (err: unknown) => live && setOutcome({ state: 'error', message: errorMessage(err) }),
    );
    return () => {
      live = false;
    };
  }, [state, startedAt, taskId, command]);

  if (!task || outcome.state === 'loading')
    return (
      <Group gap="xs">
        <Loader size="xs" />
        <Text size="sm">Reading the report…</Text>
      </Group>
    );
  if (outcome.state === 'error') return <ErrorText message={outcome.message} />;
  if (outcome.state === 'restore' && restore) return <RestoreReport restore={restore} />;
  if (outcome.state === 'export') {
    const r = outcome.result;
    return (
      <Alert color="teal" variant="light" title="Dump written" data-testid="export-done">
        <Text size="sm">
          A mongodump {r.format}
          {r.gzip ? ' (gzip)' : ''} at <span className="mono">{r.path}</span>: {r.namespaces} namespace(s),{' '}
          {r.documents.toLocaleString('en-US')} documents, {r.oplogEntries.toLocaleString('en-US')} oplog
          entries, {bytes(r.bytes)}.
        </Text>
      </Alert>
    );
  }
  return <ErrorText message={task.error?.message ?? `The task ${task.state}.`} />;
}
