/**
 * From the buckets the engine sent (timeline.get, cached by range) to what a
 * lane shows in the current view: runs of oplog coverage and restorable
 * share in pixels, snapshot markers with their tier, gaps with their cause.
 * Pure, so that it is unit-tested and the canvas code only paints. It works
 * on whatever is cached while a fetch for the new view is in flight: a
 * coarser answer is stretched, a partial one is clipped.
 */
import type { CommandOutput } from '../../../../engine/api/contract';
import { xOf, type ViewRange } from './time-scale';

export type TimelineData = CommandOutput<'timeline.get'>;

/** One answer of timeline.get, with its range in seconds. */
export interface CachedTimeline {
  from: number;
  to: number;
  data: TimelineData;
  /** Set when newer captures may have changed it (the live edge moved): drawn, but fetched again. */
  stale?: boolean;
  /** The whole history at coarse resolution, kept as the backdrop. */
  overview?: boolean;
}

export interface Run {
  x0: number;
  x1: number;
  /** Share covered in this run, quantised to quarters (0.25 … 1) so runs merge. */
  value: number;
}

export type MarkerKind = 'monthly' | 'weekly' | 'daily' | 'hourly' | 'on demand' | 'imported';

export interface MarkerLayout {
  x: number;
  t: number;
  kind: MarkerKind;
  locked: boolean;
  /** Snapshots drawn by this marker (more than one when they are bucketed). */
  count: number;
  id: string | null;
}

export interface GapLayout {
  x0: number;
  x1: number;
  from: number;
  to: number;
  cause: string;
}

const SNAPSHOT_FLAG = { hourly: 1, daily: 2, weekly: 4, monthly: 8, onDemand: 16, locked: 32 } as const;

/** What a gap's reason means to a DBA (gaps never cross: no restore inside one). */
export function gapCause(reason: TimelineData['gaps'][number]['reason']): string {
  switch (reason) {
    case 'chain-break':
      return 'oplog rolled over (capture stopped or fell behind)';
    case 'missing':
      return 'segment file missing';
    case 'corrupt':
      return 'corrupt segment';
  }
}

/**
 * The layers to draw, coarsest first so finer ones paint over them: every
 * cached answer that overlaps the view and is no coarser than needed, plus
 * the coarsest one as a backdrop. At most `max` layers (each costs a pass).
 */
export function layersFor(cache: readonly CachedTimeline[], view: ViewRange, max = 3): CachedTimeline[] {
  const overlapping = cache.filter((c) => c.to > view.from && c.from < view.to);
  // Coarsest first; of answers about as fine as each other, the current one paints last (over a stale one).
  overlapping.sort(
    (a, b) => finenessClass(b) - finenessClass(a) || freshness(a, cache) - freshness(b, cache),
  );
  if (overlapping.length <= max) return overlapping;
  return [overlapping[0]!, ...overlapping.slice(-(max - 1))];
}

/** Buckets within this factor of each other draw the view equally well. */
const SIMILAR_FINENESS = 1.5;

/** Bucket widths in steps of SIMILAR_FINENESS (a total order, unlike "within 1.5 of each other"). */
const finenessClass = (c: CachedTimeline) =>
  Math.floor(Math.log(Math.max(1e-9, c.data.bucketSeconds)) / Math.log(SIMILAR_FINENESS));

/** Orders answers by how current they are: stale ones first, then by arrival (the cache keeps the newest last). */
const freshness = (c: CachedTimeline, cache: readonly CachedTimeline[]) =>
  (c.stale ? 0 : cache.length) + cache.indexOf(c);

/**
 * The layer whose details (markers, gaps, the description's words) are shown: of the answers that
 * cover the whole view (else of those that overlap it), the most current among those about as fine
 * as the finest. A stale answer (one the live edge has outgrown) must not hide a current one of the
 * same resolution: it would still say "no oplog captured yet" or miss the snapshot just taken; a
 * much finer stale one still wins over a coarse backdrop while its replacement is in flight.
 */
export function primaryLayer(cache: readonly CachedTimeline[], view: ViewRange): CachedTimeline | null {
  const overlapping = cache.filter((c) => c.to > view.from && c.from < view.to);
  const covering = overlapping.filter((c) => c.from <= view.from && c.to >= view.to);
  const pool = covering.length ? covering : overlapping;
  if (!pool.length) return null;
  const finest = Math.min(...pool.map((c) => c.data.bucketSeconds));
  let best: CachedTimeline | null = null;
  for (const c of pool) {
    if (c.data.bucketSeconds > finest * SIMILAR_FINENESS) continue;
    if (!best || freshness(c, cache) > freshness(best, cache)) best = c;
  }
  return best;
}

/**
 * Whether the cache can draw the view at full resolution: an answer covering
 * it with buckets no wider than `tolerance` pixels, not stale.
 */
export function coversView(
  cache: readonly CachedTimeline[],
  view: ViewRange,
  width: number,
  tolerance = 1.5,
): boolean {
  const perPx = (view.to - view.from) / Math.max(1, width);
  return cache.some(
    (c) =>
      !c.stale && c.from <= view.from && c.to >= view.to && c.data.bucketSeconds <= perPx * tolerance + 1e-9,
  );
}

const quantise = (v: number) => (v <= 0 ? 0 : Math.max(0.25, Math.round(v * 4) / 4));

/**
 * Runs of equal (quantised) share across the view, in pixels, from one
 * layer's per-bucket values. Buckets outside the view are skipped; adjacent
 * runs of the same value merge, so a fully covered day is one rectangle.
 */
export function runsOf(
  layer: CachedTimeline,
  values: readonly number[],
  view: ViewRange,
  width: number,
): Run[] {
  const bs = layer.data.bucketSeconds;
  const n = values.length;
  if (n === 0 || bs <= 0) return [];
  const first = Math.max(0, Math.floor((view.from - layer.from) / bs));
  const last = Math.min(n - 1, Math.ceil((view.to - layer.from) / bs));
  const out: Run[] = [];
  for (let i = first; i <= last; i++) {
    const v = quantise(values[i]!);
    if (v === 0) continue;
    const x0 = Math.max(0, xOf(layer.from + i * bs, view, width));
    const x1 = Math.min(width, xOf(layer.from + (i + 1) * bs, view, width));
    if (x1 <= x0) continue;
    const prev = out[out.length - 1];
    if (prev && prev.value === v && x0 - prev.x1 < 0.5) prev.x1 = x1;
    else out.push({ x0, x1, value: v });
  }
  return out;
}

/** The highest tier a marker stands for (monthly outranks weekly …), or how it came to be. */
function kindOfTiers(tiers: readonly string[], imported: boolean): MarkerKind {
  for (const k of ['monthly', 'weekly', 'daily', 'hourly'] as const) if (tiers.includes(k)) return k;
  return imported ? 'imported' : 'on demand';
}

function kindOfFlags(flags: number, imported: boolean): MarkerKind {
  if (flags & SNAPSHOT_FLAG.monthly) return 'monthly';
  if (flags & SNAPSHOT_FLAG.weekly) return 'weekly';
  if (flags & SNAPSHOT_FLAG.daily) return 'daily';
  if (flags & SNAPSHOT_FLAG.hourly) return 'hourly';
  return imported ? 'imported' : 'on demand';
}

/**
 * Snapshot markers in the view: one per snapshot while the engine lists them
 * (few enough), else one per bucket that holds any, with the highest tier
 * in it and its count. A lock counts while its date is ahead of `now`.
 */
export function markersOf(
  layer: CachedTimeline,
  view: ViewRange,
  width: number,
  opts: { imported: boolean; nowMs: number },
): MarkerLayout[] {
  const out: MarkerLayout[] = [];
  const { data } = layer;
  if (data.markers) {
    for (const m of data.markers) {
      const t = m.consistentTs.t;
      if (t < view.from || t >= view.to) continue;
      out.push({
        x: xOf(t + 0.5, view, width),
        t,
        kind: kindOfTiers(m.tiers, opts.imported),
        locked: m.lockedUntil !== null && Date.parse(m.lockedUntil) > opts.nowMs,
        count: 1,
        id: m.id,
      });
    }
    return out;
  }
  const bs = data.bucketSeconds;
  for (let i = 0; i < data.snapshots.length; i++) {
    const count = data.snapshots[i]!;
    if (count === 0) continue;
    const t = layer.from + (i + 0.5) * bs;
    if (t < view.from || t >= view.to) continue;
    const flags = data.snapshotFlags[i] ?? 0;
    out.push({
      x: xOf(t, view, width),
      t: Math.floor(t),
      kind: kindOfFlags(flags, opts.imported),
      locked: (flags & SNAPSHOT_FLAG.locked) !== 0,
      count,
      id: null,
    });
  }
  return out;
}

/** Gaps in the view, at least `minPx` wide so that a short one at year zoom is still seen. */
export function gapsOf(layer: CachedTimeline, view: ViewRange, width: number, minPx = 2): GapLayout[] {
  const out: GapLayout[] = [];
  for (const g of layer.data.gaps) {
    // The gap is the time strictly between the last entry before it and the first after it.
    const from = g.after.t + 1;
    const to = g.before.t;
    if (to < view.from || from > view.to) continue;
    let x0 = Math.max(0, xOf(from, view, width));
    let x1 = Math.min(width, xOf(Math.max(to, from), view, width));
    if (x1 - x0 < minPx) {
      const mid = (x0 + x1) / 2;
      x0 = mid - minPx / 2;
      x1 = mid + minPx / 2;
    }
    out.push({ x0, x1, from, to, cause: gapCause(g.reason) });
  }
  return out;
}

/** The newest captured second any answer knows of (answers fetched later know more). */
export function liveEdgeOf(cache: readonly CachedTimeline[]): number | null {
  let edge: number | null = null;
  for (const c of cache)
    if (c.data.liveEdge && (edge === null || c.data.liveEdge.t > edge)) edge = c.data.liveEdge.t;
  return edge;
}

/** Where the point-in-time window starts, from the newest answer. */
export function pitrStartOf(cache: readonly CachedTimeline[]): number | null {
  let newest: CachedTimeline | null = null;
  for (const c of cache)
    if (c.data.liveEdge && (!newest || c.data.liveEdge.t >= (newest.data.liveEdge?.t ?? -Infinity)))
      newest = c;
  const iso = (newest ?? cache[0])?.data.pitrWindowStart;
  return iso ? Date.parse(iso) / 1000 : null;
}

/** Totals over the view, for the canvas's description: shares, snapshots by kind, gaps. */
export interface ViewTotals {
  coveredShare: number;
  restorableShare: number;
  snapshots: number;
  byKind: Partial<Record<MarkerKind, number>>;
  locked: number;
  gaps: GapLayout[];
}

export function totalsOf(
  layer: CachedTimeline | null,
  view: ViewRange,
  width: number,
  opts: { imported: boolean; nowMs: number },
): ViewTotals {
  const totals: ViewTotals = {
    coveredShare: 0,
    restorableShare: 0,
    snapshots: 0,
    byKind: {},
    locked: 0,
    gaps: [],
  };
  if (!layer) return totals;
  const bs = layer.data.bucketSeconds;
  let covered = 0;
  let restorable = 0;
  const from = Math.max(view.from, layer.from);
  const to = Math.min(view.to, layer.to);
  for (let i = 0; i < layer.data.covered.length; i++) {
    const b0 = layer.from + i * bs;
    const overlap = Math.min(b0 + bs, to) - Math.max(b0, from);
    if (overlap <= 0) continue;
    covered += overlap * layer.data.covered[i]!;
    restorable += overlap * (layer.data.restorable[i] ?? 0);
  }
  const span = view.to - view.from;
  totals.coveredShare = span > 0 ? covered / span : 0;
  totals.restorableShare = span > 0 ? restorable / span : 0;
  for (const m of markersOf(layer, view, width, opts)) {
    totals.snapshots += m.count;
    totals.byKind[m.kind] = (totals.byKind[m.kind] ?? 0) + m.count;
    if (m.locked) totals.locked += m.count;
  }
  totals.gaps = gapsOf(layer, view, width, 0);
  return totals;
}
