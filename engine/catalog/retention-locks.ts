/**
 * Retention locks as the catalog indexes them: the `locked_until` column of
 * snapshots and oplog_segments. The lock files in the repository are the truth.
 */
import type { CatalogDb } from './open-catalog.js';

export type LockKind = 'snapshot' | 'segment';

const table = (kind: LockKind) => (kind === 'snapshot' ? 'snapshots' : 'oplog_segments');
const key = (kind: LockKind) => (kind === 'snapshot' ? 'id' : 'path');

export interface LockTargetRow {
  source_id: string;
  locked_until: string | null;
  path: string;
}

/** The snapshot (by id) or segment (by path) a lock or deletion names, or undefined. */
export function findLockTarget(db: CatalogDb, kind: LockKind, target: string): LockTargetRow | undefined {
  return db
    .prepare(`SELECT source_id, locked_until, path FROM ${table(kind)} WHERE ${key(kind)} = ?`)
    .get(target) as LockTargetRow | undefined;
}

export function setLockedUntil(db: CatalogDb, kind: LockKind, target: string, until: string): void {
  db.prepare(`UPDATE ${table(kind)} SET locked_until = ? WHERE ${key(kind)} = ?`).run(until, target);
}

/** Applies a lock file found in the repository; a lock is only ever extended, never shortened. */
/** Extends a lock (never shortens it); `sourceId` confines it to the source whose directory holds the lock file. */
export function extendLockedUntil(
  db: CatalogDb,
  kind: LockKind,
  target: string,
  until: string,
  sourceId?: string,
): void {
  if (sourceId === undefined) {
    db.prepare(
      `UPDATE ${table(kind)} SET locked_until = ? WHERE ${key(kind)} = ? AND (locked_until IS NULL OR locked_until < ?)`,
    ).run(until, target, until);
    return;
  }
  db.prepare(
    `UPDATE ${table(kind)} SET locked_until = ? WHERE ${key(kind)} = ? AND source_id = ?
       AND (locked_until IS NULL OR locked_until < ?)`,
  ).run(until, target, sourceId, until);
}
