/** Oplog segment rows: one per segment file, keyed by its path (so nothing is stored twice). */
import type { OpTime } from '../repo/optime.js';
import type { SegmentInfo } from '../repo/segment-file.js';
import type { CatalogDb } from './open-catalog.js';

export type SegmentStatus = 'ok' | 'missing' | 'corrupt';

export interface SegmentRow {
  id: number;
  source_id: string;
  path: string;
  status: SegmentStatus;
  first_t: number;
  first_i: number;
  last_t: number;
  last_i: number;
  prev_t: number | null;
  prev_i: number | null;
  entry_count: number;
  raw_bytes: number;
  stored_bytes: number;
  payload_sha256: string;
  locked_until: string | null;
  created_at: string;
}

export const firstOf = (r: SegmentRow): OpTime => ({ t: r.first_t, i: r.first_i });
export const lastOf = (r: SegmentRow): OpTime => ({ t: r.last_t, i: r.last_i });
export const prevOf = (r: SegmentRow): OpTime | null =>
  r.prev_t === null ? null : { t: r.prev_t, i: r.prev_i! };

/** Inserts a segment row unless its path is already known; returns the row and whether it is new. */
export function insertSegment(
  db: CatalogDb,
  info: SegmentInfo,
  status: SegmentStatus = 'ok',
): { row: SegmentRow; inserted: boolean } {
  const res = db
    .prepare(
      `INSERT OR IGNORE INTO oplog_segments
        (source_id, path, status, first_t, first_i, last_t, last_i, prev_t, prev_i, entry_count, raw_bytes, stored_bytes, payload_sha256, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .run(
      info.sourceId,
      info.path,
      status,
      info.firstTs.t,
      info.firstTs.i,
      info.lastTs.t,
      info.lastTs.i,
      info.prevLastTs?.t ?? null,
      info.prevLastTs?.i ?? null,
      info.count,
      info.rawBytes,
      info.storedBytes,
      info.payloadSha256,
      info.createdAt,
    );
  if (res.changes !== 1) {
    return {
      row: db.prepare('SELECT * FROM oplog_segments WHERE path = ?').get(info.path) as SegmentRow,
      inserted: false,
    };
  }
  // Built from what was inserted: saves a SELECT per row when reconcile registers thousands.
  const row: SegmentRow = {
    id: Number(res.lastInsertRowid),
    source_id: info.sourceId,
    path: info.path,
    status,
    first_t: info.firstTs.t,
    first_i: info.firstTs.i,
    last_t: info.lastTs.t,
    last_i: info.lastTs.i,
    prev_t: info.prevLastTs?.t ?? null,
    prev_i: info.prevLastTs?.i ?? null,
    entry_count: info.count,
    raw_bytes: info.rawBytes,
    stored_bytes: info.storedBytes,
    payload_sha256: info.payloadSha256,
    locked_until: null,
    created_at: info.createdAt,
  };
  return { row, inserted: true };
}

export function setSegmentStatus(db: CatalogDb, path: string, status: SegmentStatus): boolean {
  return (
    db
      .prepare('UPDATE oplog_segments SET status = ? WHERE path = ? AND status <> ?')
      .run(status, path, status).changes > 0
  );
}

export function lastSegment(db: CatalogDb, sourceId: string): SegmentRow | undefined {
  return db
    .prepare('SELECT * FROM oplog_segments WHERE source_id = ? ORDER BY first_t DESC, first_i DESC LIMIT 1')
    .get(sourceId) as SegmentRow | undefined;
}

export function segmentPathsOfSource(db: CatalogDb, sourceId: string): string[] {
  return db.prepare('SELECT path FROM oplog_segments WHERE source_id = ?').pluck().all(sourceId) as string[];
}

export function segmentsOfSource(db: CatalogDb, sourceId: string): SegmentRow[] {
  return db.prepare('SELECT * FROM oplog_segments WHERE source_id = ?').all(sourceId) as SegmentRow[];
}

/** Every segment of a repository's sources, in chain order per source (verification reads them all). */
export function segmentsOfRepository(db: CatalogDb, repositoryId: string): SegmentRow[] {
  return db
    .prepare(
      `SELECT * FROM oplog_segments WHERE source_id IN (SELECT id FROM sources WHERE repository_id = ?) ORDER BY source_id, first_t, first_i`,
    )
    .all(repositoryId) as SegmentRow[];
}

export function segmentByPath(db: CatalogDb, path: string): SegmentRow | undefined {
  return db.prepare('SELECT * FROM oplog_segments WHERE path = ?').get(path) as SegmentRow | undefined;
}

/** Removes the row only; the caller recomputes coverage in the same transaction. */
export function deleteSegmentRow(db: CatalogDb, path: string): void {
  db.prepare('DELETE FROM oplog_segments WHERE path = ?').run(path);
}

/** The first ts of the segment holding `ts` (the newest starting at or before it). */
export function segmentStartAtOrBefore(db: CatalogDb, sourceId: string, ts: OpTime): OpTime | null {
  const r = db
    .prepare(
      `SELECT first_t, first_i FROM oplog_segments WHERE source_id = ? AND (first_t, first_i) <= (?, ?)
       ORDER BY first_t DESC, first_i DESC LIMIT 1`,
    )
    .get(sourceId, ts.t, ts.i) as { first_t: number; first_i: number } | undefined;
  return r ? { t: r.first_t, i: r.first_i } : null;
}

export type PlannedSegmentRow = Pick<
  SegmentRow,
  'id' | 'path' | 'status' | 'first_t' | 'first_i' | 'last_t' | 'last_i' | 'entry_count' | 'payload_sha256'
>;

/** Segments whose first ts lies in [from, to], in chain order. */
export function segmentsStartingBetween(
  db: CatalogDb,
  sourceId: string,
  from: OpTime,
  to: OpTime,
): PlannedSegmentRow[] {
  return db
    .prepare(
      `SELECT id, path, status, first_t, first_i, last_t, last_i, entry_count, payload_sha256 FROM oplog_segments
       WHERE source_id = ? AND (first_t, first_i) >= (?, ?) AND (first_t, first_i) <= (?, ?)
       ORDER BY first_t, first_i`,
    )
    .all(sourceId, from.t, from.i, to.t, to.i) as PlannedSegmentRow[];
}

/** The newest last ts among a source's segments, or null (to refuse an import that overlaps them). */
export function newestSegmentEnd(db: CatalogDb, sourceId: string): OpTime | null {
  const r = db
    .prepare(
      'SELECT last_t, last_i FROM oplog_segments WHERE source_id = ? ORDER BY last_t DESC, last_i DESC LIMIT 1',
    )
    .get(sourceId) as { last_t: number; last_i: number } | undefined;
  return r ? { t: r.last_t, i: r.last_i } : null;
}
