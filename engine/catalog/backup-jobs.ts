/** The backup_jobs table: one row per source (its policy and state). The rules are in schedule/backup-jobs.ts. */
import type { BackupJobState as BackupJobStateName } from '../api/schemas.js';
import type { CatalogDb } from './open-catalog.js';

export type { BackupJobStateName };

/**
 * Where a job's policy comes from: 'set' (by the DBA, or the default at source add), 'repository'
 * (restored by a rebuild from protection.json) or 'assumed' (a rebuild found none): see migration 7.
 */
export type BackupPolicyOrigin = 'set' | 'repository' | 'assumed';

export interface BackupJobRow {
  source_id: string;
  policy_json: string;
  state: BackupJobStateName;
  reason: string | null;
  policy_origin: BackupPolicyOrigin;
  updated_at: string;
}

export function findBackupJob(db: CatalogDb, sourceId: string): BackupJobRow | undefined {
  return db.prepare('SELECT * FROM backup_jobs WHERE source_id = ?').get(sourceId) as
    BackupJobRow | undefined;
}

/** Creates the job row unless it exists (the start-up scan and a command may both try). */
export function insertBackupJob(
  db: CatalogDb,
  sourceId: string,
  policyJson: string,
  state: BackupJobStateName,
  at = new Date(),
): void {
  db.prepare(
    'INSERT OR IGNORE INTO backup_jobs (source_id, policy_json, state, reason, updated_at) VALUES (?, ?, ?, NULL, ?)',
  ).run(sourceId, policyJson, state, at.toISOString());
}

export function updateBackupJobState(
  db: CatalogDb,
  sourceId: string,
  state: BackupJobStateName,
  reason: string | null,
  at = new Date(),
): void {
  db.prepare('UPDATE backup_jobs SET state = ?, reason = ?, updated_at = ? WHERE source_id = ?').run(
    state,
    reason,
    at.toISOString(),
    sourceId,
  );
}

export function updateBackupJobPolicy(
  db: CatalogDb,
  sourceId: string,
  policyJson: string,
  at = new Date(),
): void {
  // A policy written here is one the DBA chose: retention may act on it again.
  db.prepare(
    "UPDATE backup_jobs SET policy_json = ?, policy_origin = 'set', updated_at = ? WHERE source_id = ?",
  ).run(policyJson, at.toISOString(), sourceId);
}

/** The sealed password of the job's restore test target (migration 8), or null. */
export function restoreTestSecretJson(db: CatalogDb, sourceId: string): string | null {
  const v = db
    .prepare('SELECT restore_test_secret_json FROM backup_jobs WHERE source_id = ?')
    .pluck()
    .get(sourceId);
  return typeof v === 'string' ? v : null;
}

/** Stores (or with null clears) the sealed restore test password; the job row must exist. */
export function setRestoreTestSecretJson(db: CatalogDb, sourceId: string, json: string | null): void {
  db.prepare('UPDATE backup_jobs SET restore_test_secret_json = ? WHERE source_id = ?').run(json, sourceId);
}
