import { EmptyState } from '../../ui/EmptyState';
import { Section } from '../../ui/Section';
import { TimelineAxis } from './TimelineAxis';
import { useTimeline } from './timeline-store';

export function Timeline() {
  const picked = useTimeline((s) => s.picked);
  return (
    <Section title="Timeline" lead="Snapshots, oplog coverage and gaps over the retention window.">
      <EmptyState title="Nothing captured yet">
        When a backup job runs, snapshots appear here as markers on a time axis and the captured oplog as
        continuous bands. A break in a band is a gap: no point inside it can be restored. Pick any second
        inside a band to plan a restore to exactly that moment.
      </EmptyState>
      {picked && <TimelineAxis />}
    </Section>
  );
}
