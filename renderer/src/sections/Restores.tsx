import { EmptyState } from '../components/EmptyState';

export function Restores() {
  return (
    <>
      <h2>Restores</h2>
      <p className="lead">Restores you started, restore tests and their measured recovery times.</p>
      <EmptyState title="No restores yet">
        A restore brings a source back to a snapshot, a wall-clock second or an exact oplog timestamp: to a
        new target (recommended), in place (confirmed, with the source&apos;s backup paused around it), as a
        download for <code>mongorestore</code>, or queried offline without restoring at all.
      </EmptyState>
    </>
  );
}
