/**
 * Flags for incidents the destructive-operation finder reports on a
 * timeline answer, when the engine sends them. The lane draws any list of
 * flags (in-place restores are flags too), so this is the one place that
 * reads them from an answer.
 */
import type { CachedTimeline } from './layout';
import type { LaneFlag } from './lanes';

export function incidentFlags(_source: string, _cache: CachedTimeline[]): LaneFlag[] {
  return [];
}
