import { EmptyState } from '../components/EmptyState';
import { BackupJobCard } from '../components/BackupJobCard';
import { useApp } from '../store';

export function Sources() {
  const sources = useApp((s) => s.sources);
  return (
    <>
      <h2>Sources</h2>
      <p className="lead">The MongoDB deployments this workstation protects.</p>
      {sources.length > 0 && (
        <ul className="source-list">
          {sources.map((s) => (
            <li key={s.id} className="card">
              <strong>{s.name}</strong> <span className="mono">{s.uri}</span>
              <div className="hint">
                password: {s.passwordStorage === 'none' ? 'none' : s.passwordStorage}
                {s.readPreference ? ` · read preference ${s.readPreference}` : ''}
              </div>
              {s.warnings.map((w) => (
                <div key={w} className="status-error">
                  {w}
                </div>
              ))}
              <BackupJobCard source={s.name} />
            </li>
          ))}
        </ul>
      )}
      {sources.length === 0 && (
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
