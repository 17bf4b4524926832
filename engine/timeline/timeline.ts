/**
 * The timeline of one source, aggregated for a time range and a pixel width:
 * per bucket how much is covered by oplog, how much can be restored, and the
 * snapshots in it (count, tiers, locks); plus the gaps, the live edge and the
 * PITR window edge. Built from coverage intervals and the snapshot index only
 * (engine/catalog/timeline.ts), so its cost does not grow with the number of
 * segments; individual snapshot markers are listed only while they fit.
 */
import type { CoverageGap, CoverageInterval } from '../catalog/coverage.js';
import type { CatalogDb } from '../catalog/open-catalog.js';
import type { SnapshotRow } from '../catalog/snapshots.js';
import {
  earliestRestorableIn,
  hasAnySegment,
  intervalBefore,
  intervalStartingFrom,
  intervalsTouching,
  newestCovered,
  snapshotBuckets,
  snapshotsBetween,
} from '../catalog/timeline.js';
import type { OpTime } from '../repo/optime.js';
import { incidentBuckets, incidentsBetween, type IncidentRow } from '../catalog/incidents.js';
import { coverFractions, mergeSpans, type Span } from './bucket-fractions.js';

/** Bits of `snapshotFlags`: which kinds of snapshot a bucket holds. */
export const SNAPSHOT_FLAG = {
  hourly: 1,
  daily: 2,
  weekly: 4,
  monthly: 8,
  onDemand: 16,
  locked: 32,
} as const;

export interface TimelineRequest {
  fromT: number;
  toT: number;
  width: number;
  now: Date;
  pitrWindowHours: number | null;
  /** Individual snapshots are listed when the range holds at most this many. */
  maxMarkers: number;
}

export interface Timeline {
  bucketSeconds: number;
  covered: number[];
  restorable: number[];
  snapshots: number[];
  snapshotFlags: number[];
  gaps: CoverageGap[];
  markers: SnapshotRow[] | null;
  liveEdge: OpTime | null;
  pitrWindowStart: number | null;
  snapshotOnly: boolean;
  /** Per bucket, findings of the incident finder whose first entry falls in it. */
  incidentCounts: number[];
  /** The findings themselves while at most maxMarkers; otherwise null. */
  incidents: IncidentRow[] | null;
}

/** Seconds of an interval as a half-open span: restoring to second S replays ts.t <= S. */
const spanOf = (from: OpTime, to: OpTime): Span => ({ from: from.t, to: to.t + 1 });

export function buildTimeline(db: CatalogDb, sourceId: string, req: TimelineRequest): Timeline {
  const { fromT, toT, width } = req;
  const touching = intervalsTouching(db, sourceId, fromT, toT);
  const snapshotOnly = !hasAnySegment(db, sourceId);

  const restorableSpans: Span[] = [];
  for (const iv of touching) {
    const from = earliestRestorableIn(db, sourceId, iv);
    if (from) restorableSpans.push(spanOf(from, iv.end));
  }

  const snapshots = new Array<number>(width).fill(0);
  const snapshotFlags = new Array<number>(width).fill(0);
  for (const b of snapshotBuckets(db, sourceId, fromT, toT, width, req.now.toISOString())) {
    if (b.bucket < 0 || b.bucket >= width) continue;
    snapshots[b.bucket] = b.count;
    snapshotFlags[b.bucket] =
      (b.hourly ? SNAPSHOT_FLAG.hourly : 0) |
      (b.daily ? SNAPSHOT_FLAG.daily : 0) |
      (b.weekly ? SNAPSHOT_FLAG.weekly : 0) |
      (b.monthly ? SNAPSHOT_FLAG.monthly : 0) |
      (b.onDemand ? SNAPSHOT_FLAG.onDemand : 0) |
      (b.locked ? SNAPSHOT_FLAG.locked : 0);
  }
  const inRange = snapshots.reduce((n, c) => n + c, 0);
  const markers =
    inRange <= req.maxMarkers ? snapshotsBetween(db, sourceId, fromT, toT, req.maxMarkers) : null;

  if (snapshotOnly) {
    // Without oplog a source's snapshots are its restore points (one second each).
    for (const s of markers ?? snapshotsBetween(db, sourceId, fromT, toT, 100_000))
      if (s.consistent_t !== null) restorableSpans.push({ from: s.consistent_t, to: s.consistent_t + 1 });
  }

  const incidentCounts = new Array<number>(width).fill(0);
  for (const b of incidentBuckets(db, sourceId, fromT, toT, width))
    if (b.bucket >= 0 && b.bucket < width) incidentCounts[b.bucket] = b.count;
  const incidentsInRange = incidentCounts.reduce((n, c) => n + c, 0);
  const incidents =
    incidentsInRange <= req.maxMarkers
      ? incidentsBetween(db, sourceId, { t: fromT, i: 0 }, { t: toT - 1, i: 0xffffffff }, req.maxMarkers)
      : null;

  const liveEdge = newestCovered(db, sourceId);
  return {
    bucketSeconds: (toT - fromT) / width,
    covered: coverFractions(
      touching.map((iv) => spanOf(iv.start, iv.end)),
      fromT,
      toT,
      width,
    ),
    restorable: coverFractions(mergeSpans(restorableSpans), fromT, toT, width),
    snapshots,
    snapshotFlags,
    gaps: gapsIn(
      touching,
      intervalBefore(db, sourceId, fromT),
      intervalStartingFrom(db, sourceId, toT),
      fromT,
      toT,
    ),
    markers,
    liveEdge,
    pitrWindowStart: liveEdge && req.pitrWindowHours ? liveEdge.t - req.pitrWindowHours * 3600 : null,
    snapshotOnly,
    incidentCounts,
    incidents,
  };
}

/** Gaps between consecutive intervals that reach into [fromT, toT). */
function gapsIn(
  touching: CoverageInterval[],
  before: CoverageInterval | null,
  after: CoverageInterval | null,
  fromT: number,
  toT: number,
): CoverageGap[] {
  const chain = [...(before ? [before] : []), ...touching, ...(after ? [after] : [])];
  const out: CoverageGap[] = [];
  for (let k = 1; k < chain.length; k++) {
    const prev = chain[k - 1]!;
    const next = chain[k]!;
    if (prev.end.t >= toT || next.start.t < fromT) continue;
    out.push({
      after: prev.end,
      before: next.start,
      reason: next.breakReason === 'start' ? 'chain-break' : next.breakReason,
    });
  }
  return out;
}
