import { ApiError } from '../../errors.js';
import { audit } from '../../catalog/audit.js';
import { getSourceByName, type SourceRow } from '../../catalog/sources.js';
import {
  getBackupJob,
  setBackupJobState,
  setBackupPolicy,
  type BackupJob,
} from '../../schedule/backup-jobs.js';
import { PRESETS, TIERS, type BackupPolicy } from '../../schedule/policy.js';
import { nextOccurrence } from '../../schedule/schedule.js';
import type { PartialHandlers } from './types.js';
import { reactivate } from '../../schedule/job-health.js';
import { resolveAlerts } from '../../schedule/alerts.js';
import type { Engine } from '../../engine.js';

function view(row: SourceRow, job: BackupJob) {
  const now = new Date();
  const nextRuns: Record<string, string> = {};
  for (const t of TIERS) {
    const n = nextOccurrence(job.policy, t, now);
    if (n) nextRuns[t] = n.toISOString();
  }
  return {
    source: row.name,
    state: job.state,
    reason: job.reason,
    policy: job.policy as unknown as Record<string, unknown>,
    nextRuns,
  };
}

/**
 * Mirrors the job into the repository (protection.json) for `catalog rebuild`. A repository that
 * is away (the job may be Misconfigured for that very reason) must not block stopping the job:
 * the next start-up reconcile writes the mirror when the repository is back.
 */
async function mirrorJob(engine: Engine, row: SourceRow): Promise<void> {
  try {
    await (await engine.stores.get(row.repository_id)).saveProtection(row.id);
  } catch (err) {
    console.error(`[backup-job] ${row.name}: protection.json not written now (${(err as Error).message})`);
  }
}

export const backupJobHandlers: PartialHandlers<
  'backup-job.get' | 'backup-job.set' | 'backup-job.stop' | 'backup-job.start' | 'backup-job.terminate'
> = {
  'backup-job.get': (engine, { source }) => {
    const row = getSourceByName(engine.catalog, source);
    return view(row, getBackupJob(engine.catalog, row.id));
  },
  'backup-job.set': async (engine, { source, preset, policy }) => {
    const row = getSourceByName(engine.catalog, source);
    if (!preset && !policy) throw new ApiError('INVALID_INPUT', 'Give a preset or a policy change.');
    const change: Partial<BackupPolicy> = {
      ...(preset ? PRESETS[preset] : {}),
      ...((policy ?? {}) as Partial<BackupPolicy>),
    };
    const job = setBackupPolicy(engine.catalog, row.id, change);
    await mirrorJob(engine, row);
    resolveAlerts(engine.catalog, row.id, 'POLICY_UNKNOWN'); // a policy the DBA chose: retention may run
    // A running capture cuts segments by the policy it started with: restart it on the new one.
    if (engine.capture.get(row.id)) {
      await engine.capture.stop(row.id);
      await engine.protect(row);
    }
    audit(engine.catalog, {
      actor: engine.actor,
      action: 'backup-job.set',
      target: source,
      outcome: 'done',
      details: change,
    });
    return view(row, job);
  },
  'backup-job.stop': async (engine, { source }) => {
    const row = getSourceByName(engine.catalog, source);
    await engine.capture.stop(row.id);
    const job = setBackupJobState(engine.catalog, row.id, 'stopped');
    await mirrorJob(engine, row);
    audit(engine.catalog, {
      actor: engine.actor,
      action: 'backup-job.stop',
      target: source,
      outcome: 'done',
    });
    return view(row, job);
  },
  'backup-job.start': async (engine, { source }) => {
    const row = getSourceByName(engine.catalog, source);
    const { state } = getBackupJob(engine.catalog, row.id);
    if (state === 'inactive')
      throw new ApiError(
        'CONFLICT',
        `The backup job of ${source} was terminated; add the source again to protect it.`,
      );
    // Retrying a Misconfigured job; protect() sets it back, with the reason, if the cause remains.
    if (state === 'misconfigured') await reactivate(engine, row);
    else {
      setBackupJobState(engine.catalog, row.id, 'active');
      await engine.protect(row);
    }
    await mirrorJob(engine, row);
    audit(engine.catalog, {
      actor: engine.actor,
      action: 'backup-job.start',
      target: source,
      outcome: 'done',
    });
    return view(row, getBackupJob(engine.catalog, row.id));
  },
  'backup-job.terminate': async (engine, { source, deleteBackups }) => {
    const row = getSourceByName(engine.catalog, source);
    await engine.capture.stop(row.id);
    const job = setBackupJobState(engine.catalog, row.id, 'inactive', 'terminated');
    await mirrorJob(engine, row);
    let deletedSnapshots = 0;
    let deletedSegments = 0;
    let keptLocked = 0;
    if (deleteBackups) {
      const store = await engine.stores.get(row.repository_id);
      const ids = (sql: string) => engine.catalog.prepare(sql).pluck().all(row.id) as string[];
      // Everything outside a retention lock goes; locked items stay and are counted.
      const deleteUnlessLocked = async (kind: 'snapshot' | 'segment', targets: string[]) => {
        let deleted = 0;
        for (const t of targets) {
          try {
            await store.delete(kind, t, engine.actor);
            deleted++;
          } catch (err) {
            if ((err as ApiError).code !== 'RETENTION_LOCKED') throw err;
            keptLocked++;
          }
        }
        return deleted;
      };
      deletedSnapshots = await deleteUnlessLocked(
        'snapshot',
        ids('SELECT id FROM snapshots WHERE source_id = ?'),
      );
      deletedSegments = await deleteUnlessLocked(
        'segment',
        ids('SELECT path FROM oplog_segments WHERE source_id = ?'),
      );
    }
    audit(engine.catalog, {
      actor: engine.actor,
      action: 'backup-job.terminate',
      target: source,
      outcome: 'done',
      details: { deleteBackups: !!deleteBackups, deletedSnapshots, deletedSegments, keptLocked },
    });
    return { job: view(row, job), deletedSnapshots, deletedSegments, keptLocked };
  },
};
