/**
 * Findings of the destructive-operation finder (engine/incidents/) and where
 * each source's scan stopped. Both are derived from the segments: rebuild.ts
 * forgets them with the rest of a repository's index.
 */
import type { OpTime } from '../repo/optime.js';
import type { CatalogDb } from './open-catalog.js';
import type { SegmentStatus } from './segments.js';
import { cachedStatement } from './statement-cache.js';

export interface IncidentRow {
  id: number;
  source_id: string;
  key: string;
  kind: string;
  ns: string;
  first_t: number;
  first_i: number;
  last_t: number;
  last_i: number;
  before_t: number | null;
  before_i: number | null;
  wall: string | null;
  size: number | null;
  lsid_json: string | null;
  txn_number: number | null;
  details_json: string;
}

/** A finding as the finder hands it over (the catalog does not interpret its kind or details). */
export interface IncidentRecord {
  key: string;
  kind: string;
  ns: string;
  firstTs: OpTime;
  lastTs: OpTime;
  restoreBefore: OpTime | null;
  wall: string | null;
  size: number | null;
  lsid: unknown;
  txnNumber: number | null;
  details: unknown;
}

/** A finding in the shape of its row: the one mapping, for storing it and for answering with it unstored. */
export function incidentRow(sourceId: string, f: IncidentRecord, id: number): IncidentRow {
  return {
    id,
    source_id: sourceId,
    key: f.key,
    kind: f.kind,
    ns: f.ns,
    first_t: f.firstTs.t,
    first_i: f.firstTs.i,
    last_t: f.lastTs.t,
    last_i: f.lastTs.i,
    before_t: f.restoreBefore?.t ?? null,
    before_i: f.restoreBefore?.i ?? null,
    wall: f.wall,
    size: f.size,
    lsid_json: f.lsid ? JSON.stringify(f.lsid) : null,
    txn_number: f.txnNumber,
    details_json: JSON.stringify(f.details ?? {}),
  };
}

export interface IncidentScanRow {
  source_id: string;
  through_t: number;
  through_i: number;
  max_segment_id: number;
  segments: number;
  thresholds_json: string;
  state_json: string;
  updated_at: string;
}

export interface ScanProgress {
  through: OpTime;
  maxSegmentId: number;
  segments: number;
  thresholdsJson: string;
  stateJson: string;
}

export function incidentScan(db: CatalogDb, sourceId: string): IncidentScanRow | undefined {
  return db.prepare('SELECT * FROM incident_scans WHERE source_id = ?').get(sourceId) as
    IncidentScanRow | undefined;
}

export interface ScanSegmentRow {
  id: number;
  path: string;
  status: SegmentStatus;
  first_t: number;
  first_i: number;
  last_t: number;
  last_i: number;
  /** Entries and their raw bytes: the finder matches a segment with the journal it was sealed from. */
  entry_count: number;
  raw_bytes: number;
}

/** The next segments to scan: those starting after `after` (all when null), in chain order. */
export function segmentsAfter(
  db: CatalogDb,
  sourceId: string,
  after: OpTime | null,
  limit: number,
): ScanSegmentRow[] {
  const a = after ?? { t: -1, i: -1 };
  return db
    .prepare(
      `SELECT id, path, status, first_t, first_i, last_t, last_i, entry_count, raw_bytes FROM oplog_segments
       WHERE source_id = ? AND (first_t, first_i) > (?, ?) ORDER BY first_t, first_i LIMIT ?`,
    )
    .all(sourceId, a.t, a.i, limit) as ScanSegmentRow[];
}

/** How many segments still wait to be scanned. */
export function countSegmentsAfter(db: CatalogDb, sourceId: string, after: OpTime | null): number {
  const a = after ?? { t: -1, i: -1 };
  return db
    .prepare('SELECT COUNT(*) FROM oplog_segments WHERE source_id = ? AND (first_t, first_i) > (?, ?)')
    .pluck()
    .get(sourceId, a.t, a.i) as number;
}

/**
 * Whether a segment was registered behind the scan (a file found by reconcile, older than what
 * was scanned): its entries were never seen, so the scan starts over. Segment ids only grow, so
 * only rows newer than the scan's highest id are looked at.
 */
export function segmentRegisteredBehind(
  db: CatalogDb,
  sourceId: string,
  through: OpTime,
  maxSegmentId: number,
): boolean {
  return (
    db
      .prepare(
        `SELECT 1 FROM oplog_segments WHERE id > ? AND source_id = ? AND (first_t, first_i) <= (?, ?) LIMIT 1`,
      )
      .get(maxSegmentId, sourceId, through.t, through.i) !== undefined
  );
}

/**
 * Writes findings (upserted by their stable keys) and removals, inside the caller's transaction, if
 * the stored scan is still the one the scanner started from (`previousSegments` segments scanned,
 * 0 with no row): false, and nothing written, when someone reset it meanwhile (a rebuild).
 */
function writeFindings(
  db: CatalogDb,
  sourceId: string,
  previousSegments: number,
  upserts: Iterable<IncidentRecord>,
  removed: Iterable<string>,
): boolean {
  const current =
    (db.prepare('SELECT segments FROM incident_scans WHERE source_id = ?').pluck().get(sourceId) as
      number | undefined) ?? 0;
  if (current !== previousSegments) return false;
  const upsert = cachedStatement(
    db,
    `INSERT INTO incidents (source_id, key, kind, ns, first_t, first_i, last_t, last_i, before_t, before_i,
                            wall, size, lsid_json, txn_number, details_json)
     VALUES (@source_id, @key, @kind, @ns, @first_t, @first_i, @last_t, @last_i, @before_t, @before_i,
             @wall, @size, @lsid_json, @txn_number, @details_json)
     ON CONFLICT (source_id, key) DO UPDATE SET last_t = excluded.last_t, last_i = excluded.last_i,
       size = excluded.size, details_json = excluded.details_json`,
  );
  const remove = cachedStatement(db, 'DELETE FROM incidents WHERE source_id = ? AND key = ?');
  for (const f of upserts) {
    const { id: _id, ...row } = incidentRow(sourceId, f, 0);
    upsert.run(row);
  }
  for (const key of removed) remove.run(sourceId, key);
  return true;
}

/**
 * Stores what one scanned segment changed and where the scan now stands, in one transaction, if
 * the stored scan is still the one the scanner started from (see writeFindings).
 */
export function saveIncidentScan(
  db: CatalogDb,
  sourceId: string,
  previousSegments: number,
  progress: ScanProgress,
  upserts: Iterable<IncidentRecord>,
  removed: Iterable<string>,
): boolean {
  return db.transaction(() => {
    if (!writeFindings(db, sourceId, previousSegments, upserts, removed)) return false;
    db.prepare(
      `INSERT INTO incident_scans (source_id, through_t, through_i, max_segment_id, segments, thresholds_json, state_json, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (source_id) DO UPDATE SET through_t = excluded.through_t, through_i = excluded.through_i,
         max_segment_id = excluded.max_segment_id, segments = excluded.segments,
         thresholds_json = excluded.thresholds_json, state_json = excluded.state_json, updated_at = excluded.updated_at`,
    ).run(
      sourceId,
      progress.through.t,
      progress.through.i,
      progress.maxSegmentId,
      progress.segments,
      progress.thresholdsJson,
      progress.stateJson,
      new Date().toISOString(),
    );
    return true;
  })();
}

/** Forgets a source's findings and scan: the next scan starts from its first segment. */
export function forgetIncidents(db: CatalogDb, sourceId: string): void {
  db.transaction(() => {
    db.prepare('DELETE FROM incidents WHERE source_id = ?').run(sourceId);
    db.prepare('DELETE FROM incident_scans WHERE source_id = ?').run(sourceId);
  })();
}

/** Findings whose first entry lies in [from, to] (either end open when null), oldest first. */
export function incidentsBetween(
  db: CatalogDb,
  sourceId: string,
  from: OpTime | null,
  to: OpTime | null,
  limit: number,
  newest = false,
): IncidentRow[] {
  const f = from ?? { t: -1, i: -1 };
  const t = to ?? { t: 2 ** 32, i: 0 };
  // Oldest first either way; `newest` keeps the last `limit` of the range instead of the first.
  const rows = db
    .prepare(
      `SELECT * FROM incidents WHERE source_id = ? AND (first_t, first_i) >= (?, ?) AND (first_t, first_i) <= (?, ?)
       ORDER BY first_t ${newest ? 'DESC' : ''}, first_i ${newest ? 'DESC' : ''}, id ${newest ? 'DESC' : ''} LIMIT ?`,
    )
    .all(sourceId, f.t, f.i, t.t, t.i, limit) as IncidentRow[];
  return newest ? rows.reverse() : rows;
}

/** Findings per bucket of [fromT, toT) split into `width` equal buckets, by the second of their first entry. */
export function incidentBuckets(
  db: CatalogDb,
  sourceId: string,
  fromT: number,
  toT: number,
  width: number,
): { bucket: number; count: number }[] {
  return db
    .prepare(
      `SELECT CAST((first_t - @from) * @width / (@to - @from) AS INTEGER) AS bucket, COUNT(*) AS count
       FROM incidents WHERE source_id = @source AND first_t >= @from AND first_t < @to
       GROUP BY bucket ORDER BY bucket`,
    )
    .all({ source: sourceId, from: fromT, to: toT, width }) as { bucket: number; count: number }[];
}

/**
 * Stores what a scan of the capture journal's durable tail found (findings only: the resume point
 * stays at the last sealed segment, which scans those entries again once they are sealed and
 * upserts the same keys), if the stored scan is still the one it started from: false otherwise.
 */
export function saveTailFindings(
  db: CatalogDb,
  sourceId: string,
  previousSegments: number,
  upserts: Iterable<IncidentRecord>,
  removed: Iterable<string>,
): boolean {
  return db.transaction(() => writeFindings(db, sourceId, previousSegments, upserts, removed))();
}
