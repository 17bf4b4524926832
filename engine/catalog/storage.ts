/** What a source holds in the catalog: counts and bytes of its snapshots and segments. */
import type { CatalogDb } from './open-catalog.js';

export interface SourceStorage {
  /** Complete snapshots. */
  snapshots: number;
  segments: number;
  /** Bytes on disk of every snapshot and segment. */
  storedBytes: number;
}

export function sourceStorage(db: CatalogDb, sourceId: string): SourceStorage {
  const one = (sql: string) => (db.prepare(sql).pluck().get(sourceId) as number | null) ?? 0;
  return {
    snapshots: one(`SELECT count(*) FROM snapshots WHERE source_id = ? AND status = 'complete'`),
    segments: one('SELECT count(*) FROM oplog_segments WHERE source_id = ?'),
    storedBytes:
      one('SELECT sum(stored_bytes) FROM oplog_segments WHERE source_id = ?') +
      one('SELECT sum(stored_bytes) FROM snapshots WHERE source_id = ?'),
  };
}

/** Snapshot and segment rows of any status (a source that has any cannot simply be removed). */
export function backupFileCount(db: CatalogDb, sourceId: string): number {
  return db
    .prepare(
      'SELECT (SELECT count(*) FROM snapshots WHERE source_id = ?) + (SELECT count(*) FROM oplog_segments WHERE source_id = ?)',
    )
    .pluck()
    .get(sourceId, sourceId) as number;
}

/** Stored bytes of a source split into snapshots (every row: they are all on disk) and oplog. */
export function storageSplit(db: CatalogDb, sourceId: string): { snapshotBytes: number; oplogBytes: number } {
  const one = (sql: string) => (db.prepare(sql).pluck().get(sourceId) as number | null) ?? 0;
  return {
    snapshotBytes: one('SELECT sum(stored_bytes) FROM snapshots WHERE source_id = ?'),
    oplogBytes: one('SELECT sum(stored_bytes) FROM oplog_segments WHERE source_id = ?'),
  };
}

export interface StoredDay {
  /** UTC day, YYYY-MM-DD. */
  day: string;
  /** Stored bytes of the complete snapshots that finished that day. */
  snapshotBytes: number;
  /** Stored bytes of the oplog segments whose first entry is from that day. */
  oplogBytes: number;
}

/**
 * Bytes written per UTC day since `fromT` (seconds), from the rows the catalog holds: segments by
 * the time of their first entry (the index on first_t), snapshots by completion. Rows retention
 * deleted are gone from the catalog, so a day counts what is still held from it.
 */
export function storedBytesByDay(db: CatalogDb, sourceId: string, fromT: number): StoredDay[] {
  const oplog = db
    .prepare(
      `SELECT first_t / 86400 AS d, sum(stored_bytes) AS bytes FROM oplog_segments
       WHERE source_id = ? AND first_t >= ? GROUP BY d`,
    )
    .all(sourceId, fromT) as { d: number; bytes: number }[];
  const snaps = db
    .prepare(
      `SELECT substr(completed_at, 1, 10) AS day, sum(stored_bytes) AS bytes FROM snapshots
       WHERE source_id = ? AND status = 'complete' AND completed_at >= ? GROUP BY day`,
    )
    .all(sourceId, new Date(fromT * 1000).toISOString()) as { day: string; bytes: number }[];
  const days = new Map<string, StoredDay>();
  const at = (day: string) => {
    let d = days.get(day);
    if (!d) days.set(day, (d = { day, snapshotBytes: 0, oplogBytes: 0 }));
    return d;
  };
  for (const r of oplog) at(new Date(r.d * 86_400_000).toISOString().slice(0, 10)).oplogBytes += r.bytes;
  for (const r of snaps) at(r.day).snapshotBytes += r.bytes;
  return [...days.values()].sort((a, b) => a.day.localeCompare(b.day));
}

/** Stored bytes of the segments whose first entry is at or after `fromT`. */
export function oplogBytesSince(db: CatalogDb, sourceId: string, fromT: number): number {
  return (
    (db
      .prepare('SELECT sum(stored_bytes) FROM oplog_segments WHERE source_id = ? AND first_t >= ?')
      .pluck()
      .get(sourceId, fromT) as number | null) ?? 0
  );
}

/** First second of the oldest segment held, or null. */
export function oldestSegmentStart(db: CatalogDb, sourceId: string): number | null {
  return (
    (db.prepare('SELECT min(first_t) FROM oplog_segments WHERE source_id = ?').pluck().get(sourceId) as
      number | null) ?? null
  );
}

export interface HeldDay {
  /** UTC day, YYYY-MM-DD. */
  day: string;
  /** Stored bytes the repository held for the source at the end of that day (today: now); null before recording began. */
  held: { snapshotBytes: number; oplogBytes: number } | null;
}

/**
 * Storage held on each of `dayCount` UTC days from `firstDay` (YYYY-MM-DD), from storage_held_days
 * (kept by the catalog's triggers, migration 11): a day without a row held what the latest day
 * before it held; days before the first row are null (nothing recorded yet).
 */
export function heldBytesByDay(
  db: CatalogDb,
  sourceId: string,
  firstDay: string,
  dayCount: number,
): HeldDay[] {
  const first = Date.parse(`${firstDay}T00:00:00Z`);
  const days = Array.from({ length: dayCount }, (_, k) =>
    new Date(first + k * 86_400_000).toISOString().slice(0, 10),
  );
  const last = days.at(-1) ?? firstDay;
  type Row = { day: string; snapshot_bytes: number; oplog_bytes: number };
  const before = db
    .prepare(
      `SELECT day, snapshot_bytes, oplog_bytes FROM storage_held_days
       WHERE source_id = ? AND day < ? ORDER BY day DESC LIMIT 1`,
    )
    .get(sourceId, firstDay) as Row | undefined;
  const rows = db
    .prepare(
      `SELECT day, snapshot_bytes, oplog_bytes FROM storage_held_days
       WHERE source_id = ? AND day >= ? AND day <= ? ORDER BY day`,
    )
    .all(sourceId, firstDay, last) as Row[];
  const byDay = new Map(rows.map((r) => [r.day, r]));
  let held: HeldDay['held'] = before
    ? { snapshotBytes: before.snapshot_bytes, oplogBytes: before.oplog_bytes }
    : null;
  return days.map((day) => {
    const r = byDay.get(day);
    if (r) held = { snapshotBytes: r.snapshot_bytes, oplogBytes: r.oplog_bytes };
    return { day, held };
  });
}
