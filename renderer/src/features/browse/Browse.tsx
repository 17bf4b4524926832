import { EmptyState } from '../../ui/EmptyState';
import { Section } from '../../ui/Section';
import { IncidentList } from '../incidents/IncidentList';

/** The point-in-time browser (query any second without restoring). Filled in by the offline-views work. */
export function Browse() {
  return (
    <Section title="Browse" lead="Query any second of any source without restoring it.">
      <EmptyState title="Point-in-time browser">
        Pick a source and a second inside its window to list its databases and collections as they were, query
        them, and follow one document&apos;s history.
      </EmptyState>
      <IncidentList />
    </Section>
  );
}
