import { useState } from 'react';
import { BackupJobCard } from '../components/BackupJobCard';
import { EmptyState } from '../components/EmptyState';
import { ErrorText } from '../components/ErrorText';
import { ProbeReport, type Probe } from '../components/ProbeReport';
import { SourceForm } from '../components/SourceForm';
import { useApp, type SourceView } from '../store';

/** One source: how it is reached, its last connection test, and its backup job. */
function SourceCard({ source, onEdit }: { source: SourceView; onEdit: () => void }) {
  const client = useApp((s) => s.client);
  const loadSources = useApp((s) => s.loadSources);
  const reports = useApp((s) => s.probeReports);
  const setReport = useApp((s) => s.setProbeReport);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [removing, setRemoving] = useState(false);
  const report = reports[source.name];

  const run = async (f: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await f();
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <li className="card" data-testid={`source-${source.name}`}>
      <strong>{source.name}</strong> <span className="mono">{source.uri}</span>
      <div className="hint">
        password: {source.passwordStorage === 'none' ? 'none' : source.passwordStorage}
        {source.readPreference ? ` · read preference ${source.readPreference}` : ''}
        {source.tlsCaFile ? ` · TLS CA ${source.tlsCaFile}` : ''}
        {source.tlsCertFile ? ` · client certificate ${source.tlsCertFile}` : ''}
      </div>
      {source.warnings.map((w) => (
        <div key={w} className="status-error">
          {w}
        </div>
      ))}
      <div className="actions">
        <button
          type="button"
          disabled={busy}
          onClick={() =>
            void run(async () =>
              setReport(source.name, await client!.invoke('source.test', { name: source.name })),
            )
          }
        >
          {busy ? 'Testing…' : 'Test connection'}
        </button>
        <button type="button" onClick={onEdit}>
          Edit connection
        </button>
        <button type="button" onClick={() => setRemoving(true)}>
          Remove…
        </button>
      </div>
      {removing && (
        <div className="actions" role="group" aria-label={`Remove ${source.name}`}>
          <span>
            Forget {source.name}? A source with backups cannot be removed: terminate its job (deleting the
            backups) first.
          </span>
          <button
            type="button"
            onClick={() =>
              void run(async () => {
                await client!.invoke('source.remove', { name: source.name, confirm: true });
                await loadSources();
              })
            }
          >
            Remove {source.name}
          </button>
          <button type="button" onClick={() => setRemoving(false)}>
            Cancel
          </button>
        </div>
      )}
      <ErrorText message={error} />
      {report && <ProbeReport report={report} />}
      <BackupJobCard source={source.name} />
    </li>
  );
}

export function Sources() {
  const sources = useApp((s) => s.sources);
  const setReport = useApp((s) => s.setProbeReport);
  // null: no form; 'new': adding; a name: editing that source.
  const [form, setForm] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const editing = sources.find((s) => s.name === form);
  const done = (name: string, report: Probe) => {
    setReport(name, report);
    setNotice(form === 'new' ? `Added ${name}; its backup job is active.` : `Saved ${name}.`);
    setForm(null);
  };
  return (
    <>
      <h2>Sources</h2>
      <p className="lead">The MongoDB deployments this workstation protects.</p>
      <div className="actions">
        <button type="button" onClick={() => setForm('new')} disabled={form !== null}>
          Add a source
        </button>
        {notice && <span role="status">{notice}</span>}
      </div>
      {form !== null && (
        <SourceForm key={form} existing={editing} onDone={done} onCancel={() => setForm(null)} />
      )}
      {sources.length > 0 && (
        <ul className="source-list">
          {sources.map((s) => (
            <SourceCard key={s.id} source={s} onEdit={() => setForm(s.name)} />
          ))}
        </ul>
      )}
      {sources.length === 0 && form === null && (
        <EmptyState title="No sources yet">
          A source is one replica set, reached with a <code>mongodb://</code> or <code>mongodb+srv://</code>{' '}
          connection string. Each source gets a backup job: scheduled snapshots plus continuous oplog capture,
          so any second inside its window can be restored. Standalone servers can only have snapshots; sharded
          clusters are not supported yet.
        </EmptyState>
      )}
    </>
  );
}
