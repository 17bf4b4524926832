/**
 * One lane per source, as the canvas draws it and the description reads it:
 * its cached answers, whether capture runs (the live edge then moves), the
 * edges (live, PITR window, retention horizon) and the flags on it (in-place
 * restores; incidents when the engine reports them). Pure: built from the
 * slices' state, so the description and the drawing agree.
 */
import { liveEdgeOf, pitrStartOf, type CachedTimeline } from './layout';
import type { RestoreView } from './restore-estimate';

export interface LaneFlag {
  t: number;
  kind: 'in-place restore' | 'incident';
  label: string;
  /** The second a click on the flag picks: for an incident, just before it (restore to before the damage). */
  pickAt?: number;
  /** The exact oplog point (`t:i`) a click on the flag plans, when a second is not precise enough. */
  pickExact?: string;
}

/** The flag under a pixel of a lane (within `px` of it), if any. */
export function flagNear(
  flags: readonly LaneFlag[],
  x: number,
  xOfT: (t: number) => number,
  px = 5,
): LaneFlag | null {
  let best: LaneFlag | null = null;
  let bestD = px + 1;
  for (const f of flags) {
    const d = Math.abs(xOfT(f.t) - x);
    if (d <= px && d < bestD) [best, bestD] = [f, d];
  }
  return best;
}

export interface LaneModel {
  source: string;
  imported: boolean;
  capturing: boolean;
  recoveryPointSeconds: number | null;
  cache: CachedTimeline[];
  liveEdge: number | null;
  pitrStart: number | null;
  horizon: number | null;
  flags: LaneFlag[];
}

/** What a lane needs from the source's status (dashboard slice) and list entry. */
export interface LaneSource {
  name: string;
  imported: boolean;
  captureState: string | null;
  capturedT: number | null;
  recoveryPointSeconds: number | null;
}

/** In-place restores rewrote the source at the time they ran: a flag where each started. */
export function inPlaceFlags(restores: readonly RestoreView[] | null, source: string): LaneFlag[] {
  return (restores ?? [])
    .filter((r) => r.kind === 'in-place' && r.source === source && r.state !== 'failed')
    .map((r) => ({
      t: Date.parse(r.startedAt) / 1000,
      kind: 'in-place restore' as const,
      label: `in-place restore to ${r.point}`,
    }));
}

export function buildLanes(
  sources: readonly LaneSource[],
  cache: Record<string, CachedTimeline[]>,
  horizons: Record<string, number | null>,
  restores: readonly RestoreView[] | null,
  extraFlags: (source: string, cache: CachedTimeline[]) => LaneFlag[] = () => [],
): LaneModel[] {
  return sources.map((s) => {
    const c = cache[s.name] ?? [];
    const fromCache = liveEdgeOf(c);
    const liveEdge =
      fromCache === null ? s.capturedT : s.capturedT === null ? fromCache : Math.max(fromCache, s.capturedT);
    return {
      source: s.name,
      imported: s.imported,
      capturing: s.captureState === 'capturing',
      recoveryPointSeconds: s.recoveryPointSeconds,
      cache: c,
      liveEdge,
      pitrStart: pitrStartOf(c),
      horizon: horizons[s.name] ?? null,
      flags: [...inPlaceFlags(restores, s.name), ...extraFlags(s.name, c)],
    };
  });
}
