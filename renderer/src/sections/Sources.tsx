import { EmptyState } from '../components/EmptyState';

export function Sources() {
  return (
    <>
      <h2>Sources</h2>
      <p className="lead">The MongoDB deployments this workstation protects.</p>
      <EmptyState title="No sources yet">
        A source is one replica set, reached with a <code>mongodb://</code> or <code>mongodb+srv://</code>{' '}
        connection string. Each source gets a backup job: scheduled snapshots plus continuous oplog capture,
        so any second inside its window can be restored. Standalone servers can only have snapshots; sharded
        clusters are not supported yet.
      </EmptyState>
    </>
  );
}
