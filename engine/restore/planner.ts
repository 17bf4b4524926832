/**
 * Restore planning (DESIGN.md rule 2): for a point, the newest complete
 * snapshot with consistentTs <= point whose startTs lies in the same
 * continuous interval as the point, plus the segments to replay from that
 * startTs through the point; or the reason there is none.
 *
 * Point semantics: `t:i` includes the entry at exactly that timestamp; a
 * wall-clock second S includes every entry written during S (bound S:2^32-1);
 * `latest` is the newest captured entry: the last durable record of the
 * capture journal, whose unsealed tail is planned like a segment (its path
 * names the journal file; readSegment reads either).
 */
import { ApiError } from '../errors.js';
import { MAX_INCREMENT, compareOpTime, formatOpTime, parseOpTime, type OpTime } from '../repo/optime.js';
import {
  intervalAfter,
  intervalAtOrBefore,
  newestIntervalEnd,
  type CoverageInterval,
} from '../catalog/coverage.js';
import type { CatalogDb } from '../catalog/open-catalog.js';
import { segmentStartAtOrBefore, segmentsStartingBetween } from '../catalog/segments.js';
import { journalFirst, journalLast, journalRowsOfSource } from '../catalog/journals.js';
import { hasCompleteSnapshot, newestSnapshotWithin, pointSnapshotsOfSource } from '../catalog/snapshots.js';

export type RestorePoint =
  { kind: 'latest' } | { kind: 'ts'; ts: OpTime } | { kind: 'wall'; seconds: number };

export type NoPlanReason = 'NO_COVERAGE' | 'BEFORE_WINDOW' | 'IN_GAP' | 'IN_FUTURE' | 'NO_SNAPSHOT';

export interface PlannedSegment {
  id: number;
  path: string;
  firstTs: OpTime;
  lastTs: OpTime;
  count: number;
  /** The catalog's hash of the segment's payload ('' for a capture journal): which segment this path names now. */
  payload: string;
}

export type Plan =
  | {
      ok: true;
      /** Replay entries with ts > snapshot.startTs and ts <= bound. */
      bound: OpTime;
      snapshot: {
        id: string;
        path: string;
        startTs: OpTime;
        consistentTs: OpTime;
        completedAt: string | null;
      };
      interval: CoverageInterval;
      segments: PlannedSegment[];
    }
  | { ok: false; reason: NoPlanReason; message: string; nearest?: { start: OpTime; end: OpTime } };

/** Parses what users type: `latest`, `t:i`, or an ISO-8601 second (`2026-11-22T10:15:30Z`). */
export function parseRestorePoint(text: string): RestorePoint {
  const s = text.trim();
  if (s === 'latest') return { kind: 'latest' };
  if (/^\d+:\d+$/.test(s)) return { kind: 'ts', ts: parseOpTime(s) };
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.0+)?(Z|[+-]\d{2}:\d{2})$/.test(s)) {
    const ms = Date.parse(s);
    if (!Number.isNaN(ms)) return { kind: 'wall', seconds: Math.floor(ms / 1000) };
  }
  throw new ApiError(
    'INVALID_INPUT',
    `"${text}" is not a restore point: use latest, seconds:increment (e.g. 1763805600:3) or an ISO-8601 second with a zone (e.g. 2026-11-22T10:15:30Z).`,
  );
}

/**
 * A source with snapshots but no oplog at all (a standalone server): its
 * restore points are exactly its snapshots, each with startTs = consistentTs.
 * `latest` is the newest one; a `t:i` or wall second must name one.
 */
function planSnapshotOnly(db: CatalogDb, sourceId: string, point: RestorePoint): Plan | null {
  const snaps = pointSnapshotsOfSource(db, sourceId);
  if (snaps.length === 0) return null;
  const snap = snaps.find((s) =>
    point.kind === 'latest'
      ? true
      : point.kind === 'ts'
        ? s.consistent_t === point.ts.t && s.consistent_i === point.ts.i
        : s.consistent_t === point.seconds,
  );
  const newest = { t: snaps[0]!.consistent_t!, i: snaps[0]!.consistent_i! };
  if (!snap)
    return {
      ok: false,
      reason: 'NO_COVERAGE',
      message: `This source has no oplog (snapshots only): its restore points are its snapshots, the newest at ${formatOpTime(newest)}.`,
      nearest: { start: newest, end: newest },
    };
  const ts = { t: snap.consistent_t!, i: snap.consistent_i! };
  return {
    ok: true,
    bound: ts,
    snapshot: { id: snap.id, path: snap.path, startTs: ts, consistentTs: ts, completedAt: snap.completed_at },
    interval: {
      start: ts,
      end: ts,
      firstSegmentId: 0,
      lastSegmentId: 0,
      segmentCount: 0,
      breakReason: 'start',
    },
    segments: [],
  };
}

export function planRestore(db: CatalogDb, sourceId: string, point: RestorePoint): Plan {
  let bound: OpTime;
  const newestEnd = newestIntervalEnd(db, sourceId);
  if (!newestEnd) {
    const snapshotOnly = planSnapshotOnly(db, sourceId, point);
    if (snapshotOnly) return snapshotOnly;
  }
  if (point.kind === 'latest') {
    if (!newestEnd)
      return { ok: false, reason: 'NO_COVERAGE', message: 'No oplog has been captured for this source yet.' };
    bound = newestEnd;
  } else bound = point.kind === 'ts' ? point.ts : { t: point.seconds, i: MAX_INCREMENT };

  const interval = intervalAtOrBefore(db, sourceId, bound);
  if (!interval) {
    const first = intervalAfter(db, sourceId, { t: 0, i: 0 });
    return first
      ? {
          ok: false,
          reason: 'BEFORE_WINDOW',
          message: `The point is before the oldest captured oplog (${formatOpTime(first.start)}).`,
          nearest: { start: first.start, end: first.end },
        }
      : { ok: false, reason: 'NO_COVERAGE', message: 'No oplog has been captured for this source yet.' };
  }
  if (compareOpTime(bound, interval.end) > 0) {
    // A wall second whose last captured entry falls in that very second is covered up to that entry.
    const sameSecond = point.kind === 'wall' && interval.end.t === point.seconds;
    if (!sameSecond) {
      const next = intervalAfter(db, sourceId, interval.start);
      return next
        ? {
            ok: false,
            reason: 'IN_GAP',
            message: `The point falls in a gap of the oplog between ${formatOpTime(interval.end)} and ${formatOpTime(next.start)} (${next.breakReason}); no restore can cross it.`,
            nearest: { start: interval.start, end: interval.end },
          }
        : {
            ok: false,
            reason: 'IN_FUTURE',
            message: `The point is after the newest captured oplog entry (${formatOpTime(interval.end)}).`,
            nearest: { start: interval.start, end: interval.end },
          };
    }
  }

  const snap = newestSnapshotWithin(db, sourceId, interval.start, bound);
  if (!snap) {
    const any = hasCompleteSnapshot(db, sourceId);
    return {
      ok: false,
      reason: 'NO_SNAPSHOT',
      message: any
        ? `No complete snapshot was taken inside the continuous oplog interval ${formatOpTime(interval.start)}..${formatOpTime(interval.end)} before the point.`
        : 'No complete snapshot of this source exists yet.',
      nearest: { start: interval.start, end: interval.end },
    };
  }
  const startTs = { t: snap.start_t!, i: snap.start_i! };

  // The segment holding startTs, then every segment up to the bound (none yet when all of it is
  // still in the capture journal).
  const from = segmentStartAtOrBefore(db, sourceId, startTs) ?? startTs;
  const rows = segmentsStartingBetween(db, sourceId, from, bound);
  const segments: PlannedSegment[] = [];
  for (const r of rows) {
    if (r.status !== 'ok') {
      // Coverage says the interval is continuous; a bad segment here means coverage is stale.
      throw new ApiError(
        'CONFLICT',
        `Segment ${r.path} is ${r.status}; run repo verify to refresh coverage.`,
      );
    }
    if (compareOpTime({ t: r.last_t, i: r.last_i }, startTs) <= 0) continue; // wholly inside the snapshot
    segments.push({
      id: r.id,
      path: r.path,
      firstTs: { t: r.first_t, i: r.first_i },
      lastTs: { t: r.last_t, i: r.last_i },
      count: r.entry_count,
      payload: r.payload_sha256,
    });
  }
  // Then the journal's unsealed tail, so that `latest` is the last durable entry, not the last seal.
  const sealedEnd = rows.length ? { t: rows.at(-1)!.last_t, i: rows.at(-1)!.last_i } : null;
  for (const j of journalRowsOfSource(db, sourceId)) {
    if (compareOpTime(journalFirst(j), bound) > 0) break;
    if (compareOpTime(journalLast(j), startTs) <= 0) continue;
    if (sealedEnd && compareOpTime(journalLast(j), sealedEnd) <= 0) continue;
    segments.push({
      id: 0,
      path: j.path,
      firstTs: journalFirst(j),
      lastTs: journalLast(j),
      count: j.entry_count,
      payload: '',
    });
  }
  return {
    ok: true,
    bound: compareOpTime(bound, interval.end) > 0 ? interval.end : bound,
    snapshot: {
      id: snap.id,
      path: snap.path,
      startTs,
      consistentTs: { t: snap.consistent_t!, i: snap.consistent_i! },
      completedAt: snap.completed_at,
    },
    interval,
    segments,
  };
}
