/**
 * Flags for the findings of the destructive-operation finder that the
 * engine sends with each timeline answer (`incidents`; null when a range
 * holds too many to flag one by one, and then only `incidentCounts` per
 * bucket). The lane draws any list of flags (in-place restores are flags
 * too), so this is the one place that reads them from an answer.
 *
 * A click on an incident plans the restore point just before it: the exact
 * `t:i` of the entry captured before the incident's first entry, because a
 * whole second could hold part of the damage already.
 */
import type { CachedTimeline } from './layout';
import type { LaneFlag } from './lanes';

export function incidentFlags(_source: string, cache: CachedTimeline[]): LaneFlag[] {
  const byId = new Map<number, LaneFlag>();
  for (const answer of cache) {
    for (const f of answer.data.incidents ?? []) {
      if (byId.has(f.id)) continue;
      byId.set(f.id, {
        t: f.firstTs.t,
        kind: 'incident',
        label: f.summary,
        ...(f.restoreBefore ? { pickAt: f.restoreBefore.t, pickExact: f.restoreBefore.text } : {}),
      });
    }
  }
  return [...byId.values()].sort((a, b) => a.t - b.t);
}
