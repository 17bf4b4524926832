import { EmptyState } from '../components/EmptyState';
import { SourceTable } from '../components/SourceTable';
import { useApp } from '../store';

export function Dashboard() {
  const info = useApp((s) => s.info);
  const sources = useApp((s) => s.sources);
  return (
    <>
      <h2>Dashboard</h2>
      <p className="lead">
        The state of protection across every source: live recovery point, last snapshot, oplog coverage,
        storage used and open alerts.
      </p>
      {sources.length > 0 ? (
        <SourceTable />
      ) : (
        <EmptyState title="No sources protected yet">
          Add a MongoDB replica set under <strong>Sources</strong>. Once its backup job is active, this page
          shows how many seconds of writes would be lost right now, the newest snapshot, gaps in oplog
          coverage and any alerts that need you.
        </EmptyState>
      )}
      {info && (
        <section className="card" aria-label="Engine">
          <h3>Engine</h3>
          <dl className="facts">
            <dt>Version</dt>
            <dd data-testid="engine-version">{info.version}</dd>
            <dt>Mode</dt>
            <dd>{info.mode}</dd>
            <dt>Data directory</dt>
            <dd className="mono">{info.dataDir}</dd>
            <dt>Catalog schema</dt>
            <dd>{info.catalogSchemaVersion}</dd>
            <dt>Engine started</dt>
            <dd>{new Date(info.engineStartedAt).toUTCString()}</dd>
          </dl>
        </section>
      )}
    </>
  );
}
