import { EmptyState } from '../components/EmptyState';

export function Timeline() {
  return (
    <>
      <h2>Timeline</h2>
      <p className="lead">Snapshots, oplog coverage and gaps over the retention window.</p>
      <EmptyState title="Nothing captured yet">
        When a backup job runs, snapshots appear here as markers on a time axis and the captured oplog as
        continuous bands. A break in a band is a gap: no point inside it can be restored. Pick any second
        inside a band to plan a restore to exactly that moment.
      </EmptyState>
    </>
  );
}
