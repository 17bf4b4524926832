/**
 * Coverage: the continuous intervals of captured oplog for a source, and the
 * gaps between them (DESIGN.md rules 2, 3 and 6). An interval is a run of
 * healthy segments where each one's chain link (prevLastTs) equals the last
 * ts of the one before it. A segment that starts a new chain, or one that is
 * missing or corrupt, ends the interval; the reason is kept for the gap.
 *
 * Intervals are stored (coverage_intervals) so that planning is an index
 * lookup even with a million segments; appending a segment at the end only
 * extends the last interval, anything else recomputes the source's intervals.
 */
import { compareOpTime, type OpTime } from '../repo/optime.js';
import type { CatalogDb } from './open-catalog.js';
import { firstOf, lastOf, prevOf, type SegmentRow } from './segments.js';
import { journalFirst, journalLast, journalPrev, journalRowsOfSource } from './journals.js';

export type BreakReason = 'start' | 'chain-break' | 'missing' | 'corrupt';

export interface CoverageInterval {
  start: OpTime;
  end: OpTime;
  firstSegmentId: number;
  lastSegmentId: number;
  segmentCount: number;
  /** Why the previous interval ended ('start' for the first one). */
  breakReason: BreakReason;
}

export interface CoverageGap {
  /** Last ts of the interval before the gap. */
  after: OpTime;
  /** First ts of the interval after the gap. */
  before: OpTime;
  reason: Exclude<BreakReason, 'start'>;
}

export interface IntervalRow {
  source_id: string;
  start_t: number;
  start_i: number;
  end_t: number;
  end_i: number;
  first_segment_id: number;
  last_segment_id: number;
  segment_count: number;
  break_reason: BreakReason;
}

export const toInterval = (r: IntervalRow): CoverageInterval => ({
  start: { t: r.start_t, i: r.start_i },
  end: { t: r.end_t, i: r.end_i },
  firstSegmentId: r.first_segment_id,
  lastSegmentId: r.last_segment_id,
  segmentCount: r.segment_count,
  breakReason: r.break_reason,
});

function insertInterval(db: CatalogDb, sourceId: string, iv: CoverageInterval): void {
  db.prepare(
    `INSERT INTO coverage_intervals (source_id, start_t, start_i, end_t, end_i, first_segment_id, last_segment_id, segment_count, break_reason)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(
    sourceId,
    iv.start.t,
    iv.start.i,
    iv.end.t,
    iv.end.i,
    iv.firstSegmentId,
    iv.lastSegmentId,
    iv.segmentCount,
    iv.breakReason,
  );
}

/** Pure: derives intervals from segments in `first` order. Exported for property tests. */
export function deriveIntervals(segments: readonly SegmentRow[]): CoverageInterval[] {
  const out: CoverageInterval[] = [];
  let open: CoverageInterval | null = null;
  let pending: BreakReason = 'start';
  for (const s of segments) {
    if (s.status !== 'ok') {
      if (open) out.push(open);
      open = null;
      pending = s.status;
      continue;
    }
    const prev = prevOf(s);
    const continues =
      open !== null &&
      prev !== null &&
      compareOpTime(prev, open.end) === 0 &&
      compareOpTime(firstOf(s), open.end) > 0;
    if (continues && open) {
      open.end = lastOf(s);
      open.lastSegmentId = s.id;
      open.segmentCount++;
    } else {
      if (open) {
        out.push(open);
        pending = 'chain-break';
      }
      open = {
        start: firstOf(s),
        end: lastOf(s),
        firstSegmentId: s.id,
        lastSegmentId: s.id,
        segmentCount: 1,
        breakReason: pending,
      };
      // After the first interval, a new chain is a break even when nothing was missing in between.
      pending = 'chain-break';
    }
  }
  if (open) out.push(open);
  return out;
}

export function recomputeCoverage(db: CatalogDb, sourceId: string): CoverageInterval[] {
  return db.transaction(() => {
    db.prepare('DELETE FROM coverage_intervals WHERE source_id = ?').run(sourceId);
    const rows = db
      .prepare('SELECT * FROM oplog_segments WHERE source_id = ? ORDER BY first_t, first_i')
      .iterate(sourceId) as Iterable<SegmentRow>;
    const intervals = deriveIntervals([...rows]);
    for (const iv of intervals) insertInterval(db, sourceId, iv);
    return intervals;
  })();
}

function lastInterval(db: CatalogDb, sourceId: string): CoverageInterval | null {
  const r = db
    .prepare(
      'SELECT * FROM coverage_intervals WHERE source_id = ? ORDER BY start_t DESC, start_i DESC LIMIT 1',
    )
    .get(sourceId) as IntervalRow | undefined;
  return r ? toInterval(r) : null;
}

/**
 * Updates coverage after a healthy segment was appended. Called inside the
 * transaction that inserted it. The common case (the newest segment, chained
 * to the newest interval) is O(1).
 */
export function coverageAfterAppend(db: CatalogDb, seg: SegmentRow): void {
  const last = lastInterval(db, seg.source_id);
  const newest = db
    .prepare('SELECT id FROM oplog_segments WHERE source_id = ? ORDER BY first_t DESC, first_i DESC LIMIT 1')
    .get(seg.source_id) as { id: number };
  if (seg.status !== 'ok' || newest.id !== seg.id || (last && compareOpTime(firstOf(seg), last.end) <= 0)) {
    recomputeCoverage(db, seg.source_id);
    return;
  }
  const prev = prevOf(seg);
  if (
    last &&
    last.lastSegmentId === previousSegmentId(db, seg) &&
    prev &&
    compareOpTime(prev, last.end) === 0
  ) {
    db.prepare(
      `UPDATE coverage_intervals SET end_t = ?, end_i = ?, last_segment_id = ?, segment_count = segment_count + 1
       WHERE source_id = ? AND start_t = ? AND start_i = ?`,
    ).run(seg.last_t, seg.last_i, seg.id, seg.source_id, last.start.t, last.start.i);
    return;
  }
  const previous = previousSegmentId(db, seg);
  const prevRow =
    previous === null
      ? null
      : (db.prepare('SELECT status FROM oplog_segments WHERE id = ?').get(previous) as {
          status: BreakReason | 'ok';
        });
  const reason: BreakReason =
    !last && !prevRow
      ? 'start'
      : prevRow && prevRow.status !== 'ok'
        ? (prevRow.status as BreakReason)
        : 'chain-break';
  insertInterval(db, seg.source_id, {
    start: firstOf(seg),
    end: lastOf(seg),
    firstSegmentId: seg.id,
    lastSegmentId: seg.id,
    segmentCount: 1,
    breakReason: reason,
  });
}

function previousSegmentId(db: CatalogDb, seg: SegmentRow): number | null {
  const r = db
    .prepare(
      `SELECT id FROM oplog_segments WHERE source_id = ? AND (first_t, first_i) < (?, ?)
       ORDER BY first_t DESC, first_i DESC LIMIT 1`,
    )
    .get(seg.source_id, seg.first_t, seg.first_i) as { id: number } | undefined;
  return r ? r.id : null;
}

export function listCoverage(
  db: CatalogDb,
  sourceId: string,
): { intervals: CoverageInterval[]; gaps: CoverageGap[] } {
  const rows = db
    .prepare('SELECT * FROM coverage_intervals WHERE source_id = ? ORDER BY start_t, start_i')
    .all(sourceId) as IntervalRow[];
  const stored = rows.map(toInterval);
  const intervals = [...stored.slice(0, -1), ...withJournalTail(db, sourceId, stored.at(-1) ?? null)];
  const gaps: CoverageGap[] = [];
  for (let k = 1; k < intervals.length; k++) {
    const reason = intervals[k]!.breakReason;
    gaps.push({
      after: intervals[k - 1]!.end,
      before: intervals[k]!.start,
      reason: reason === 'start' ? 'chain-break' : reason,
    });
  }
  return { intervals, gaps };
}

/** The interval whose start is the newest at or before `point` (it may end before the point). */
export function intervalAtOrBefore(db: CatalogDb, sourceId: string, point: OpTime): CoverageInterval | null {
  const stored = storedIntervalAtOrBefore(db, sourceId, point);
  const tail = withJournalTail(db, sourceId, lastInterval(db, sourceId)).filter(
    (iv) => compareOpTime(iv.start, point) <= 0,
  );
  const t = tail.at(-1);
  return t && (!stored || compareOpTime(t.start, stored.start) >= 0) ? t : stored;
}

function storedIntervalAtOrBefore(db: CatalogDb, sourceId: string, point: OpTime): CoverageInterval | null {
  const r = db
    .prepare(
      `SELECT * FROM coverage_intervals WHERE source_id = ? AND (start_t, start_i) <= (?, ?)
       ORDER BY start_t DESC, start_i DESC LIMIT 1`,
    )
    .get(sourceId, point.t, point.i) as IntervalRow | undefined;
  return r ? toInterval(r) : null;
}

export function intervalAfter(db: CatalogDb, sourceId: string, point: OpTime): CoverageInterval | null {
  const r = db
    .prepare(
      `SELECT * FROM coverage_intervals WHERE source_id = ? AND (start_t, start_i) > (?, ?)
       ORDER BY start_t, start_i LIMIT 1`,
    )
    .get(sourceId, point.t, point.i) as IntervalRow | undefined;
  const stored = r ? toInterval(r) : null;
  const tail = withJournalTail(db, sourceId, lastInterval(db, sourceId)).find(
    (iv) => compareOpTime(iv.start, point) > 0,
  );
  if (!tail) return stored;
  // The newest stored interval, as extended by the journal, is the one that counts.
  return !stored || compareOpTime(tail.start, stored.start) <= 0 ? tail : stored;
}

/** True when the source's coverage has been computed at least once. */
export function hasCoverageIntervals(db: CatalogDb, sourceId: string): boolean {
  return !!db.prepare('SELECT 1 FROM coverage_intervals WHERE source_id = ? LIMIT 1').get(sourceId);
}

/** The end of the newest continuous interval (the newest restorable entry, journal tail included), or null. */
export function newestIntervalEnd(db: CatalogDb, sourceId: string): OpTime | null {
  return withJournalTail(db, sourceId, lastInterval(db, sourceId)).at(-1)?.end ?? null;
}

/**
 * The newest stored interval (sealed segments only) extended by the durable tail of the capture
 * journal, followed by the intervals journal files begin after a break (a journal whose chain
 * link is not the end before it: capture resumed after the source's oplog rolled over). Coverage
 * therefore reaches the last durable entry, not the last sealed segment.
 */
export function withJournalTail(
  db: CatalogDb,
  sourceId: string,
  newest: CoverageInterval | null,
): CoverageInterval[] {
  const rows = journalRowsOfSource(db, sourceId);
  if (rows.length === 0) return newest ? [newest] : [];
  const out: CoverageInterval[] = [];
  let cur: CoverageInterval | null = newest ? { ...newest } : null;
  for (const j of rows) {
    const prev = journalPrev(j);
    if (cur && compareOpTime(journalLast(j), cur.end) <= 0) continue; // already sealed (never both)
    if (cur && prev && compareOpTime(prev, cur.end) === 0 && compareOpTime(journalFirst(j), cur.end) > 0) {
      cur.end = journalLast(j);
      continue;
    }
    if (cur) out.push(cur);
    cur = {
      start: journalFirst(j),
      end: journalLast(j),
      firstSegmentId: 0,
      lastSegmentId: 0,
      segmentCount: 0,
      breakReason: cur ? 'chain-break' : 'start',
    };
  }
  if (cur) out.push(cur);
  return out;
}
