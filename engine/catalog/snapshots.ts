/** Snapshot rows and their namespaces, registered from manifests. */
import type { OpTime } from '../repo/optime.js';
import type { SnapshotManifest } from '../repo/snapshot-files.js';
import type { CatalogDb } from './open-catalog.js';

export type SnapshotStatus = 'complete' | 'incomplete' | 'missing' | 'corrupt';

export interface SnapshotRow {
  id: string;
  source_id: string;
  path: string;
  status: SnapshotStatus;
  start_t: number | null;
  start_i: number | null;
  consistent_t: number | null;
  consistent_i: number | null;
  started_at: string | null;
  completed_at: string | null;
  server_version: string | null;
  doc_count: number;
  raw_bytes: number;
  stored_bytes: number;
  locked_until: string | null;
  tiers_json: string;
}

/** Registers a complete snapshot (its manifest is durable) in one transaction. */
export function insertCompleteSnapshot(db: CatalogDb, relDir: string, m: SnapshotManifest): boolean {
  return db.transaction(() => {
    const res = db
      .prepare(
        `INSERT INTO snapshots (id, source_id, path, status, start_t, start_i, consistent_t, consistent_i,
           started_at, completed_at, server_version, doc_count, raw_bytes, stored_bytes, tiers_json)
         VALUES (?, ?, ?, 'complete', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(id) DO UPDATE SET status = 'complete', start_t = excluded.start_t, start_i = excluded.start_i,
           consistent_t = excluded.consistent_t, consistent_i = excluded.consistent_i, completed_at = excluded.completed_at,
           doc_count = excluded.doc_count, raw_bytes = excluded.raw_bytes, stored_bytes = excluded.stored_bytes
         WHERE snapshots.status <> 'complete'`,
      )
      .run(
        m.snapshotId,
        m.sourceId,
        relDir,
        m.startTs.t,
        m.startTs.i,
        m.consistentTs.t,
        m.consistentTs.i,
        m.startedAt,
        m.completedAt,
        m.serverVersion,
        m.totals.count,
        m.totals.rawBytes,
        m.totals.storedBytes,
        JSON.stringify(m.tiers ?? []),
      );
    if (res.changes === 0) return false;
    const ins = db.prepare(
      `INSERT OR REPLACE INTO snapshot_namespaces (snapshot_id, ns, type, doc_count, raw_bytes, stored_bytes, file, sha256)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    for (const n of m.namespaces)
      ins.run(m.snapshotId, n.ns, n.type, n.count, n.rawBytes, n.storedBytes, n.file, n.sha256);
    return true;
  })();
}

/** A snapshot directory without manifest: known, never restorable. */
export function insertIncompleteSnapshot(
  db: CatalogDb,
  sourceId: string,
  snapshotId: string,
  relDir: string,
): void {
  db.prepare(
    `INSERT INTO snapshots (id, source_id, path, status) VALUES (?, ?, ?, 'incomplete')
     ON CONFLICT(id) DO UPDATE SET status = 'incomplete' WHERE snapshots.status = 'complete'`,
  ).run(snapshotId, sourceId, relDir);
}

export function setSnapshotStatus(db: CatalogDb, id: string, status: SnapshotStatus): boolean {
  return (
    db.prepare('UPDATE snapshots SET status = ? WHERE id = ? AND status <> ?').run(status, id, status)
      .changes > 0
  );
}

export function snapshotsOfSource(db: CatalogDb, sourceId: string): SnapshotRow[] {
  return db
    .prepare('SELECT * FROM snapshots WHERE source_id = ? ORDER BY consistent_t, consistent_i, id')
    .all(sourceId) as SnapshotRow[];
}

export function snapshotIdsOfSource(db: CatalogDb, sourceId: string): string[] {
  return db.prepare('SELECT id FROM snapshots WHERE source_id = ?').pluck().all(sourceId) as string[];
}

export function completeSnapshotsOfSource(db: CatalogDb, sourceId: string): SnapshotRow[] {
  return db
    .prepare(`SELECT * FROM snapshots WHERE source_id = ? AND status = 'complete'`)
    .all(sourceId) as SnapshotRow[];
}

/** Start times of the complete snapshots taken for schedule tiers (when each tier last ran). */
export function tieredSnapshotStarts(
  db: CatalogDb,
  sourceId: string,
): { tiers_json: string; started_at: string }[] {
  return db
    .prepare(
      `SELECT tiers_json, started_at FROM snapshots WHERE source_id = ? AND status = 'complete' AND tiers_json <> '[]'`,
    )
    .all(sourceId) as { tiers_json: string; started_at: string }[];
}

/** The snapshots of a repository's sources that have a manifest to check (verification). */
export function verifiableSnapshotsOfRepository(db: CatalogDb, repositoryId: string): SnapshotRow[] {
  return db
    .prepare(
      `SELECT * FROM snapshots WHERE status <> 'incomplete' AND source_id IN (SELECT id FROM sources WHERE repository_id = ?)`,
    )
    .all(repositoryId) as SnapshotRow[];
}

export function snapshotById(db: CatalogDb, id: string): SnapshotRow | undefined {
  return db.prepare('SELECT * FROM snapshots WHERE id = ?').get(id) as SnapshotRow | undefined;
}

export function snapshotStatuses(db: CatalogDb, sourceId: string): { id: string; status: SnapshotStatus }[] {
  return db.prepare('SELECT id, status FROM snapshots WHERE source_id = ?').all(sourceId) as {
    id: string;
    status: SnapshotStatus;
  }[];
}

/** A snapshot directory whose manifest cannot be read: known, and never restorable. */
export function insertCorruptSnapshot(db: CatalogDb, id: string, sourceId: string, relDir: string): void {
  db.prepare(`INSERT OR IGNORE INTO snapshots (id, source_id, path, status) VALUES (?, ?, ?, 'corrupt')`).run(
    id,
    sourceId,
    relDir,
  );
}

export function deleteSnapshotRow(db: CatalogDb, id: string): void {
  db.prepare('DELETE FROM snapshots WHERE id = ?').run(id);
}

/** Snapshots that are restore points by themselves (startTs = consistentTs: a source without oplog), newest first. */
export function pointSnapshotsOfSource(db: CatalogDb, sourceId: string): SnapshotRow[] {
  return db
    .prepare(
      `SELECT * FROM snapshots WHERE source_id = ? AND status = 'complete'
         AND start_t = consistent_t AND start_i = consistent_i
       ORDER BY consistent_t DESC, consistent_i DESC`,
    )
    .all(sourceId) as SnapshotRow[];
}

/** The newest complete snapshot consistent by `bound` whose oplog range starts inside an interval starting at `from`. */
export function newestSnapshotWithin(
  db: CatalogDb,
  sourceId: string,
  from: OpTime,
  bound: OpTime,
): SnapshotRow | undefined {
  return db
    .prepare(
      `SELECT * FROM snapshots
       WHERE source_id = ? AND status = 'complete'
         AND (consistent_t, consistent_i) <= (?, ?)
         AND (start_t, start_i) >= (?, ?)
       ORDER BY consistent_t DESC, consistent_i DESC LIMIT 1`,
    )
    .get(sourceId, bound.t, bound.i, from.t, from.i) as SnapshotRow | undefined;
}

export function hasCompleteSnapshot(db: CatalogDb, sourceId: string): boolean {
  return !!db
    .prepare(`SELECT 1 FROM snapshots WHERE source_id = ? AND status = 'complete' LIMIT 1`)
    .get(sourceId);
}
