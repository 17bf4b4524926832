/**
 * Backup jobs, one per source, with Ops Manager's states: Active (snapshots
 * and capture), Stopped (keeps existing backups, takes no new ones),
 * Inactive (terminated), Misconfigured (with the reason).
 */
import { ApiError } from '../errors.js';
import type { CatalogDb } from '../catalog/open-catalog.js';
import {
  findBackupJob,
  insertBackupJob,
  updateBackupJobPolicy,
  updateBackupJobState,
  type BackupJobStateName,
  type BackupPolicyOrigin,
} from '../catalog/backup-jobs.js';
import { BackupPolicy, DEFAULT_POLICY, validatePolicy } from './policy.js';

export type JobStateName = BackupJobStateName;

/** 'assumed': a catalog rebuild found no policy in the repository; retention waits until one is set. */
export type PolicyOrigin = BackupPolicyOrigin;

export interface BackupJob {
  sourceId: string;
  state: JobStateName;
  reason: string | null;
  policy: BackupPolicy;
  policyOrigin: PolicyOrigin;
  /** Null while the job has never been changed (no row yet: Active with the default policy). */
  updatedAt: string | null;
}

/**
 * A source's backup job. Reading never writes: a source without a row (added
 * before jobs existed, or found by a rebuild) has the default job, Active with
 * the default policy, and gets a row when it is first changed.
 */
export function getBackupJob(db: CatalogDb, sourceId: string): BackupJob {
  const row = findBackupJob(db, sourceId);
  if (!row)
    return {
      sourceId,
      state: 'active',
      reason: null,
      policy: DEFAULT_POLICY,
      policyOrigin: 'set',
      updatedAt: null,
    };
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

/** Records the default job of a new source (Active, default policy); nothing if it has one. */
export function createBackupJob(db: CatalogDb, sourceId: string): BackupJob {
  insertBackupJob(db, sourceId, JSON.stringify(DEFAULT_POLICY), 'active');
  return getBackupJob(db, sourceId);
}

export function setBackupJobState(
  db: CatalogDb,
  sourceId: string,
  state: JobStateName,
  reason: string | null = null,
): BackupJob {
  createBackupJob(db, sourceId);
  updateBackupJobState(db, sourceId, state, reason);
  return getBackupJob(db, sourceId);
}

/**
 * The policy a change makes of the current one (what backup-job set would save, and what
 * policy.preview previews): fields replaced, a changed default preset becomes custom.
 */
export function mergePolicyChange(current: BackupPolicy, change: Partial<BackupPolicy>): BackupPolicy {
  const next = BackupPolicy.safeParse({
    ...current,
    ...change,
    preset:
      change.preset ??
      (Object.keys(change).length
        ? current.preset === 'default'
          ? 'custom'
          : current.preset
        : current.preset),
  });
  if (!next.success)
    throw new ApiError(
      'INVALID_INPUT',
      `Invalid policy: ${next.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  return next.data;
}

export function setBackupPolicy(db: CatalogDb, sourceId: string, change: Partial<BackupPolicy>): BackupJob {
  const next = mergePolicyChange(getBackupJob(db, sourceId).policy, change);
  const problems = validatePolicy(next);
  if (problems.length) throw new ApiError('INVALID_INPUT', problems.join(' '), { problems });
  createBackupJob(db, sourceId);
  updateBackupJobPolicy(db, sourceId, JSON.stringify(next));
  return getBackupJob(db, sourceId);
}
