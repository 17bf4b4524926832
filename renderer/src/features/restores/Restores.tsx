import { EmptyState } from '../../ui/EmptyState';
import { Section } from '../../ui/Section';
import { RestoreList } from './RestoreList';
import { useRestores } from './restores-store';

export function Restores() {
  const started = useRestores((s) => s.started);
  return (
    <Section title="Restores" lead="Restores you started, restore tests and their measured recovery times.">
      {started.length > 0 ? (
        <RestoreList />
      ) : (
        <EmptyState title="No restores yet">
          A restore brings a source back to a snapshot, a wall-clock second or an exact oplog timestamp: to a
          new target (recommended), in place (confirmed, with the source&apos;s backup paused around it), as a
          download for <code>mongorestore</code>, or queried offline without restoring at all.
        </EmptyState>
      )}
    </Section>
  );
}
