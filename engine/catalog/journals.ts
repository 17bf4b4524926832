/**
 * capture_journals: the durable, not yet sealed tail of each source's capture
 * journal, one row per journal file (engine/repo/journal-file.ts). Written
 * after every group commit, removed in the transaction that registers the
 * segment the file was sealed into, so a range is either a segment or a
 * journal row, never both.
 */
import type { OpTime } from '../repo/optime.js';
import type { CatalogDb } from './open-catalog.js';
import { cachedStatement } from './statement-cache.js';

export interface JournalRow {
  path: string;
  source_id: string;
  first_t: number;
  first_i: number;
  last_t: number;
  last_i: number;
  prev_t: number | null;
  prev_i: number | null;
  entry_count: number;
  bytes: number;
  updated_at: string;
}

export interface JournalTail {
  path: string;
  sourceId: string;
  firstTs: OpTime;
  lastTs: OpTime;
  prevLastTs: OpTime | null;
  count: number;
  bytes: number;
}

/** Records (or moves forward) a journal file's durable tail. */
export function saveJournalTail(db: CatalogDb, j: JournalTail, at = new Date()): void {
  cachedStatement(
    db,
    `INSERT INTO capture_journals (path, source_id, first_t, first_i, last_t, last_i, prev_t, prev_i, entry_count, bytes, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT(path) DO UPDATE SET last_t = excluded.last_t, last_i = excluded.last_i,
       entry_count = excluded.entry_count, bytes = excluded.bytes, updated_at = excluded.updated_at`,
  ).run(
    j.path,
    j.sourceId,
    j.firstTs.t,
    j.firstTs.i,
    j.lastTs.t,
    j.lastTs.i,
    j.prevLastTs?.t ?? null,
    j.prevLastTs?.i ?? null,
    j.count,
    j.bytes,
    at.toISOString(),
  );
}

export function deleteJournalRow(db: CatalogDb, path: string): void {
  db.prepare('DELETE FROM capture_journals WHERE path = ?').run(path);
}

/** A source's journal rows in ts order (usually one or two). */
export function journalRowsOfSource(db: CatalogDb, sourceId: string): JournalRow[] {
  return db
    .prepare('SELECT * FROM capture_journals WHERE source_id = ? ORDER BY first_t, first_i')
    .all(sourceId) as JournalRow[];
}

export function journalRowsOfRepository(db: CatalogDb, repositoryId: string): JournalRow[] {
  return db
    .prepare(
      `SELECT * FROM capture_journals WHERE source_id IN (SELECT id FROM sources WHERE repository_id = ?)
       ORDER BY source_id, first_t, first_i`,
    )
    .all(repositoryId) as JournalRow[];
}

export const journalFirst = (r: JournalRow): OpTime => ({ t: r.first_t, i: r.first_i });
export const journalLast = (r: JournalRow): OpTime => ({ t: r.last_t, i: r.last_i });
export const journalPrev = (r: JournalRow): OpTime | null =>
  r.prev_t === null ? null : { t: r.prev_t, i: r.prev_i! };
