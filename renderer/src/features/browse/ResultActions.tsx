import { Button, Group, NativeSelect, PasswordInput, Stack, Text, TextInput } from '@mantine/core';
import { useState } from 'react';
import { errorMessage } from '../../app/connection-store';
import { ConfirmDialog } from '../../ui/ConfirmDialog';
import { ErrorText } from '../../ui/ErrorText';
import { TaskProgress } from '../../ui/TaskProgress';
import { useBrowse } from './browse-store';
import { downloadText } from './download';
import { EngineError } from './EngineError';

type Which = 'selected' | 'all';

/**
 * What to do with the results: download them (canonical Extended JSON
 * lines, which mongoimport reads), write them to a file where the engine
 * runs (query.export, JSON lines or BSON), or put them back into a
 * deployment (query.restore: each replaces the document with its _id),
 * after a confirmation that names the target.
 */
export function ResultActions() {
  const rows = useBrowse((s) => s.rows);
  const selected = useBrowse((s) => s.selected);
  const ns = useBrowse((s) => s.ns);
  const at = useBrowse((s) => s.at);
  const exportTask = useBrowse((s) => s.exportTask);
  const restoreTask = useBrowse((s) => s.restoreTask);
  const actionError = useBrowse((s) => s.actionError);
  const exportLines = useBrowse((s) => s.exportLines);
  const exportToFile = useBrowse((s) => s.exportToFile);
  const restore = useBrowse((s) => s.restore);
  const [which, setWhich] = useState<Which>('selected');
  const [downloadError, setDownloadError] = useState<string | null>(null);
  const [out, setOut] = useState('');
  const [format, setFormat] = useState<'jsonl' | 'bson'>('jsonl');
  const [targetUri, setTargetUri] = useState('');
  const [targetNs, setTargetNs] = useState('');
  const [password, setPassword] = useState('');
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  if (!rows || !ns) return null;
  const scope: Which = selected.length > 0 ? which : 'all';
  const what =
    scope === 'selected' ? `${selected.length} selected documents` : 'every document the filter matches';

  async function download() {
    setDownloadError(null);
    setBusy(true);
    try {
      const lines = await exportLines(scope);
      downloadText(`${ns}-${(at ?? 'latest').replace(/[^0-9A-Za-z]+/g, '-')}.jsonl`, lines);
    } catch (err) {
      setDownloadError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Stack gap="xs" aria-label="Export and restore" component="section">
      <Group gap="xs" align="flex-end" wrap="wrap">
        <NativeSelect
          label="Documents"
          value={scope}
          onChange={(e) => setWhich(e.currentTarget.value as Which)}
          data={[
            { value: 'selected', label: `Selected (${selected.length})`, disabled: selected.length === 0 },
            { value: 'all', label: 'All matching' },
          ]}
        />
        <Button variant="default" onClick={() => void download()} loading={busy}>
          Download JSON lines
        </Button>
        <TextInput
          label="Or export to a file on the engine's machine"
          placeholder="/backups/orders.jsonl"
          value={out}
          onChange={(e) => setOut(e.currentTarget.value)}
        />
        <NativeSelect
          label="Format"
          value={format}
          onChange={(e) => setFormat(e.currentTarget.value as 'jsonl' | 'bson')}
          data={['jsonl', 'bson']}
        />
        <Button
          variant="default"
          disabled={!out.trim()}
          onClick={() => void exportToFile(scope, out.trim(), format).catch(() => {})}
        >
          Export
        </Button>
      </Group>
      <Group gap="xs" align="flex-end" wrap="wrap">
        <TextInput
          label="Restore into (connection string)"
          placeholder="mongodb://db1:27017/?replicaSet=rs0"
          value={targetUri}
          onChange={(e) => setTargetUri(e.currentTarget.value)}
          miw={280}
        />
        <TextInput
          label="Target namespace"
          placeholder={ns}
          value={targetNs}
          onChange={(e) => setTargetNs(e.currentTarget.value)}
        />
        <PasswordInput
          label="Password"
          value={password}
          onChange={(e) => setPassword(e.currentTarget.value)}
        />
        <Button color="orange" disabled={!targetUri.trim()} onClick={() => setConfirming(true)}>
          Restore…
        </Button>
      </Group>
      <ErrorText message={downloadError} />
      <EngineError error={actionError} />
      <TaskProgress taskId={exportTask} label="Export" />
      <TaskProgress taskId={restoreTask} label="Restore of documents" />
      <ConfirmDialog
        opened={confirming}
        title="Restore documents"
        confirm="Restore"
        busy={busy}
        error={actionError?.message}
        onClose={() => setConfirming(false)}
        onConfirm={() => {
          setBusy(true);
          restore(scope, targetUri.trim(), targetNs.trim() || null, password || null)
            .then(() => setConfirming(false))
            .catch(() => {})
            .finally(() => setBusy(false));
        }}
      >
        <Text size="sm">
          Write {what} of <b>{ns}</b> as they were at <b>{at}</b> into <b>{targetNs.trim() || ns}</b> on{' '}
          <b>{targetUri.trim()}</b>. Each replaces the document with the same _id there, or is inserted.
        </Text>
      </ConfirmDialog>
    </Stack>
  );
}
