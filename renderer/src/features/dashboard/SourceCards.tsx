import type { SourceView } from '../sources/sources-store';
import { useDashboard } from './dashboard-store';
import { SourceCard } from './SourceCard';

/** A card per source, side by side where the window is wide enough. */
export function SourceCards({ sources }: { sources: readonly SourceView[] }) {
  const statuses = useDashboard((s) => s.statuses);
  const overviews = useDashboard((s) => s.overviews);
  const overviewErrors = useDashboard((s) => s.overviewErrors);
  const restoreTests = useDashboard((s) => s.restoreTests);
  return (
    <div className="source-cards">
      {sources.map((src) => (
        <SourceCard
          key={src.id}
          source={src}
          status={statuses[src.name]}
          overview={overviews[src.name]}
          overviewError={overviewErrors[src.name]}
          restoreTest={restoreTests[src.name] ?? null}
        />
      ))}
    </div>
  );
}
