/**
 * The catalog queries behind the timeline: everything is answered from the
 * stored coverage intervals and the snapshot index, never by reading every
 * segment, so a year of history with 100,000 segments costs a few index scans.
 */
import { compareOpTime } from '../repo/optime.js';
import {
  newestIntervalEnd,
  toInterval,
  withJournalTail,
  type CoverageInterval,
  type IntervalRow,
} from './coverage.js';
import type { CatalogDb } from './open-catalog.js';
import type { SnapshotRow } from './snapshots.js';
import type { OpTime } from '../repo/optime.js';

/** Coverage intervals that touch the seconds [fromT, toT), in time order. */
export function intervalsTouching(
  db: CatalogDb,
  sourceId: string,
  fromT: number,
  toT: number,
): CoverageInterval[] {
  const stored = (
    db
      .prepare(
        `SELECT * FROM coverage_intervals WHERE source_id = ? AND start_t < ? AND end_t >= ?
         ORDER BY start_t, start_i`,
      )
      .all(sourceId, toT, fromT) as IntervalRow[]
  ).map(toInterval);
  // The newest interval reaches the journal's durable tail (coverage.ts withJournalTail).
  const { newest, tail } = journalTail(db, sourceId);
  const touching = (iv: CoverageInterval) => iv.start.t < toT && iv.end.t >= fromT;
  const rest = newest ? stored.filter((iv) => compareOpTime(iv.start, newest.start) !== 0) : stored;
  return [...rest, ...tail.filter(touching)];
}

function journalTail(
  db: CatalogDb,
  sourceId: string,
): { newest: CoverageInterval | null; tail: CoverageInterval[] } {
  const r = db
    .prepare(
      'SELECT * FROM coverage_intervals WHERE source_id = ? ORDER BY start_t DESC, start_i DESC LIMIT 1',
    )
    .get(sourceId) as IntervalRow | undefined;
  const newest = r ? toInterval(r) : null;
  return { newest, tail: withJournalTail(db, sourceId, newest) };
}

/** The interval just before `fromT` (to tell whether the range starts inside a gap). */
export function intervalBefore(db: CatalogDb, sourceId: string, fromT: number): CoverageInterval | null {
  const r = db
    .prepare(
      `SELECT * FROM coverage_intervals WHERE source_id = ? AND end_t < ? ORDER BY end_t DESC, end_i DESC LIMIT 1`,
    )
    .get(sourceId, fromT) as IntervalRow | undefined;
  const stored = r ? toInterval(r) : null;
  const t = journalTail(db, sourceId)
    .tail.filter((iv) => iv.end.t < fromT)
    .at(-1);
  return t && (!stored || compareOpTime(t.end, stored.end) > 0) ? t : stored;
}

/** The first interval that starts at or after `toT` (to tell whether the range ends inside a gap). */
export function intervalStartingFrom(db: CatalogDb, sourceId: string, toT: number): CoverageInterval | null {
  const r = db
    .prepare(
      'SELECT * FROM coverage_intervals WHERE source_id = ? AND start_t >= ? ORDER BY start_t, start_i LIMIT 1',
    )
    .get(sourceId, toT) as IntervalRow | undefined;
  const stored = r ? toInterval(r) : null;
  const t = journalTail(db, sourceId).tail.find((iv) => iv.start.t >= toT);
  return t && (!stored || compareOpTime(t.start, stored.start) < 0) ? t : stored;
}

/** The newest captured entry of the source (the live edge), from its last interval. */
export function newestCovered(db: CatalogDb, sourceId: string): OpTime | null {
  return newestIntervalEnd(db, sourceId);
}

/**
 * The earliest point inside `iv` from which every later point of the interval
 * can be restored: the smallest consistentTs of a complete snapshot whose
 * startTs lies in the interval (DESIGN.md rule 2). Null when none.
 */
export function earliestRestorableIn(db: CatalogDb, sourceId: string, iv: CoverageInterval): OpTime | null {
  const r = db
    .prepare(
      `SELECT consistent_t, consistent_i FROM snapshots
       WHERE source_id = ? AND status = 'complete'
         AND (start_t, start_i) >= (?, ?) AND (start_t, start_i) <= (?, ?)
         AND (consistent_t, consistent_i) >= (?, ?) AND (consistent_t, consistent_i) <= (?, ?)
       ORDER BY consistent_t, consistent_i LIMIT 1`,
    )
    // consistentTs >= startTs always, so the index range can start at the interval's start.
    .get(sourceId, iv.start.t, iv.start.i, iv.end.t, iv.end.i, iv.start.t, iv.start.i, iv.end.t, iv.end.i) as
    { consistent_t: number; consistent_i: number } | undefined;
  return r ? { t: r.consistent_t, i: r.consistent_i } : null;
}

export interface SnapshotBucketRow {
  bucket: number;
  count: number;
  hourly: number;
  daily: number;
  weekly: number;
  monthly: number;
  onDemand: number;
  locked: number;
}

/**
 * Complete snapshots grouped into `width` equal buckets of [fromT, toT) by
 * their consistent time, with which tiers and locks occur in each bucket.
 */
export function snapshotBuckets(
  db: CatalogDb,
  sourceId: string,
  fromT: number,
  toT: number,
  width: number,
  nowIso: string,
): SnapshotBucketRow[] {
  return db
    .prepare(
      `SELECT CAST((consistent_t - @from) * @width / (@to - @from) AS INTEGER) AS bucket,
              COUNT(*) AS count,
              MAX(instr(tiers_json, '"hourly"') > 0) AS hourly,
              MAX(instr(tiers_json, '"daily"') > 0) AS daily,
              MAX(instr(tiers_json, '"weekly"') > 0) AS weekly,
              MAX(instr(tiers_json, '"monthly"') > 0) AS monthly,
              MAX(tiers_json = '[]') AS onDemand,
              MAX(locked_until IS NOT NULL AND locked_until > @now) AS locked
       FROM snapshots
       WHERE source_id = @source AND status = 'complete' AND consistent_t >= @from AND consistent_t < @to
       GROUP BY bucket ORDER BY bucket`,
    )
    .all({ source: sourceId, from: fromT, to: toT, width, now: nowIso }) as SnapshotBucketRow[];
}

/** At most `limit` complete snapshots whose consistent time falls in [fromT, toT), oldest first. */
export function snapshotsBetween(
  db: CatalogDb,
  sourceId: string,
  fromT: number,
  toT: number,
  limit: number,
): SnapshotRow[] {
  return db
    .prepare(
      `SELECT * FROM snapshots WHERE source_id = ? AND status = 'complete' AND consistent_t >= ? AND consistent_t < ?
       ORDER BY consistent_t, consistent_i LIMIT ?`,
    )
    .all(sourceId, fromT, toT, limit) as SnapshotRow[];
}

/** Whether the source has any oplog at all (a standalone has snapshots only). */
export function hasAnySegment(db: CatalogDb, sourceId: string): boolean {
  return db.prepare('SELECT 1 FROM oplog_segments WHERE source_id = ? LIMIT 1').get(sourceId) !== undefined;
}
