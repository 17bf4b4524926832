/**
 * Backup jobs, one per source, with Ops Manager's states: Active (snapshots
 * and capture), Stopped (keeps existing backups, takes no new ones),
 * Inactive (terminated), Misconfigured (with the reason).
 */
import { ApiError } from '../errors.js';
import type { CatalogDb } from '../catalog/open-catalog.js';
import { BackupPolicy, DEFAULT_POLICY, validatePolicy } from './policy.js';

export type JobStateName = 'active' | 'stopped' | 'inactive' | 'misconfigured';

/** 'assumed': a catalog rebuild found no policy in the repository; retention waits until one is set. */
export type PolicyOrigin = 'set' | 'repository' | 'assumed';

export interface BackupJob {
  sourceId: string;
  state: JobStateName;
  reason: string | null;
  policy: BackupPolicy;
  policyOrigin: PolicyOrigin;
  updatedAt: string;
}

interface Row {
  source_id: string;
  policy_json: string;
  state: JobStateName;
  reason: string | null;
  policy_origin: PolicyOrigin;
  updated_at: string;
}

export function getBackupJob(db: CatalogDb, sourceId: string): BackupJob {
  let row = db.prepare('SELECT * FROM backup_jobs WHERE source_id = ?').get(sourceId) as Row | undefined;
  if (!row) {
    db.prepare(
      'INSERT INTO backup_jobs (source_id, policy_json, state, reason, updated_at) VALUES (?, ?, ?, NULL, ?)',
    ).run(sourceId, JSON.stringify(DEFAULT_POLICY), 'active', new Date().toISOString());
    row = db.prepare('SELECT * FROM backup_jobs WHERE source_id = ?').get(sourceId) as Row;
  }
  const parsed = BackupPolicy.safeParse({ ...DEFAULT_POLICY, ...(JSON.parse(row.policy_json) as object) });
  return {
    sourceId,
    state: row.state,
    reason: row.reason,
    policy: parsed.success ? parsed.data : DEFAULT_POLICY,
    policyOrigin: parsed.success ? row.policy_origin : 'assumed',
    updatedAt: row.updated_at,
  };
}

export function setBackupJobState(
  db: CatalogDb,
  sourceId: string,
  state: JobStateName,
  reason: string | null = null,
): BackupJob {
  getBackupJob(db, sourceId);
  db.prepare('UPDATE backup_jobs SET state = ?, reason = ?, updated_at = ? WHERE source_id = ?').run(
    state,
    reason,
    new Date().toISOString(),
    sourceId,
  );
  return getBackupJob(db, sourceId);
}

export function setBackupPolicy(db: CatalogDb, sourceId: string, change: Partial<BackupPolicy>): BackupJob {
  const current = getBackupJob(db, sourceId);
  const next = BackupPolicy.safeParse({
    ...current.policy,
    ...change,
    preset:
      change.preset ??
      (Object.keys(change).length
        ? current.policy.preset === 'default'
          ? 'custom'
          : current.policy.preset
        : current.policy.preset),
  });
  if (!next.success)
    throw new ApiError(
      'INVALID_INPUT',
      `Invalid policy: ${next.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  const problems = validatePolicy(next.data);
  if (problems.length) throw new ApiError('INVALID_INPUT', problems.join(' '), { problems });
  db.prepare(
    "UPDATE backup_jobs SET policy_json = ?, policy_origin = 'set', updated_at = ? WHERE source_id = ?",
  ).run(JSON.stringify(next.data), new Date().toISOString(), sourceId);
  return getBackupJob(db, sourceId);
}
