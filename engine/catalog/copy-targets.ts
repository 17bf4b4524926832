/** Secondary copy locations (copy_targets) and the files verified there (file_copies). */
import { randomUUID } from 'node:crypto';
import type { CatalogDb } from './open-catalog.js';

export interface CopyTargetRow {
  id: string;
  repository_id: string;
  path: string;
  created_at: string;
  last_run_at: string | null;
  last_error: string | null;
}

/** Registers a copy location (once per repository and path); returns its row. */
export function insertCopyTarget(db: CatalogDb, repositoryId: string, path: string): CopyTargetRow {
  db.prepare(
    'INSERT OR IGNORE INTO copy_targets (id, repository_id, path, created_at) VALUES (?, ?, ?, ?)',
  ).run(randomUUID(), repositoryId, path, new Date().toISOString());
  return db
    .prepare('SELECT * FROM copy_targets WHERE repository_id = ? AND path = ?')
    .get(repositoryId, path) as CopyTargetRow;
}

export function copyTargets(db: CatalogDb, repositoryId: string): CopyTargetRow[] {
  return db
    .prepare('SELECT * FROM copy_targets WHERE repository_id = ? ORDER BY created_at')
    .all(repositoryId) as CopyTargetRow[];
}

export function repositoriesWithCopyTargets(db: CatalogDb): string[] {
  return db.prepare('SELECT DISTINCT repository_id FROM copy_targets').pluck().all() as string[];
}

export function recordCopyRun(db: CatalogDb, targetId: string, error: string | null): void {
  db.prepare('UPDATE copy_targets SET last_run_at = ?, last_error = ? WHERE id = ?').run(
    new Date().toISOString(),
    error,
    targetId,
  );
}

/** Repository-relative paths already copied to the target and verified. */
export function copiedFiles(db: CatalogDb, targetId: string): Set<string> {
  return new Set(
    db.prepare('SELECT rel_path FROM file_copies WHERE target_id = ?').pluck().all(targetId) as string[],
  );
}

export function copiedFileCount(db: CatalogDb, targetId: string): number {
  return db.prepare('SELECT count(*) FROM file_copies WHERE target_id = ?').pluck().get(targetId) as number;
}

/** A recorder for verified copies (one prepared statement for a whole run). */
export function copyRecorder(
  db: CatalogDb,
): (targetId: string, relPath: string, sha256: string, bytes: number) => void {
  const stmt = db.prepare(
    `INSERT INTO file_copies (target_id, rel_path, sha256, bytes, copied_at) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT(target_id, rel_path) DO UPDATE SET sha256 = excluded.sha256, bytes = excluded.bytes, copied_at = excluded.copied_at`,
  );
  return (targetId, relPath, sha256, bytes) =>
    stmt.run(targetId, relPath, sha256, bytes, new Date().toISOString());
}
