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
