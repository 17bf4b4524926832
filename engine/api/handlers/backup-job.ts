import { ApiError } from '../../errors.js';
import { audit } from '../../catalog/audit.js';
import { segmentPathsOfSource } from '../../catalog/segments.js';
import { snapshotIdsOfSource } from '../../catalog/snapshots.js';
import { getSourceByName, isImportedSource } from '../../catalog/sources.js';
import { getBackupJob, setBackupJobState, setBackupPolicy } from '../../schedule/backup-jobs.js';
import { DEFAULT_POLICY, PRESETS, type BackupPolicy } from '../../schedule/policy.js';
import { backupJobView } from '../views.js';
import { resolveAlerts } from '../../catalog/alerts.js';
import type { SourceRow } from '../../catalog/sources.js';
import type { Services } from '../../services.js';
import type { PartialHandlers } from './types.js';
import { setRestoreTestSecretJson } from '../../catalog/backup-jobs.js';
import { displayUri, parseConnection, secretOptions } from '../../mongo/connection-config.js';
import { sealRestoreTestPassword } from '../../mongo/source-secret.js';
import { restoreTestPasswordKey } from '../../secrets.js';

/**
 * Mirrors the job into the repository (protection.json) for `catalog rebuild`. A repository that
 * is away (the job may be Misconfigured for that very reason) must not block stopping the job:
 * the next start-up reconcile writes the mirror when the repository is back.
 */
async function mirrorJob(svc: Pick<Services, 'stores'>, row: SourceRow): Promise<void> {
  try {
    await (await svc.stores.get(row.repository_id)).saveProtection(row.id);
  } catch (err) {
    console.error(`[backup-job] ${row.name}: protection.json not written now (${(err as Error).message})`);
  }
}

export const backupJobHandlers: PartialHandlers<
  | 'backup-job.get'
  | 'backup-job.defaults'
  | 'backup-job.set'
  | 'backup-job.stop'
  | 'backup-job.start'
  | 'backup-job.terminate',
  Pick<Services, 'catalog' | 'stores' | 'protection' | 'secrets' | 'actor'>
> = {
  'backup-job.get': (svc, { source }) => {
    const row = getSourceByName(svc.catalog, source);
    return backupJobView(row, getBackupJob(svc.catalog, row.id));
  },
  'backup-job.defaults': () => ({ policy: DEFAULT_POLICY, presets: PRESETS }),
  'backup-job.set': async (svc, input) => {
    const { source, preset, policy } = input;
    const row = getSourceByName(svc.catalog, source);
    if (!preset && !policy && !input.restoreTestPassword)
      throw new ApiError('INVALID_INPUT', 'Give a preset or a policy change.');
    // A preset is about snapshots, retention and objectives: the job's restore test stays as it is.
    const presetPart: Partial<BackupPolicy> = preset ? { ...PRESETS[preset] } : {};
    delete presetPart.restoreTest;
    const change: Partial<BackupPolicy> = { ...presetPart, ...policy };
    // The restore test target lives in the policy, which the repository mirrors: a password typed into
    // its connection string is taken out and sealed like restoreTestPassword.
    let password = input.restoreTestPassword ?? null;
    if (change.restoreTest?.target.kind === 'uri') {
      const { config, password: inUri } = parseConnection(change.restoreTest.target.uri);
      if (inUri !== null && !secretOptions(config)) {
        password ??= inUri;
        const uri = displayUri(config);
        change.restoreTest = { ...change.restoreTest, target: { ...change.restoreTest.target, uri } };
      }
    }
    if (password !== null && !(change.restoreTest ?? getBackupJob(svc.catalog, row.id).policy.restoreTest))
      throw new ApiError(
        'INVALID_INPUT',
        'A restore test password needs a restore test (policy.restoreTest).',
      );
    const sealed =
      password === null
        ? null
        : sealRestoreTestPassword(
            password,
            row.id,
            (await svc.stores.get(row.repository_id)).repo,
            svc.secrets,
            !!input.insecureStorePassword,
          );
    const job =
      Object.keys(change).length > 0
        ? setBackupPolicy(svc.catalog, row.id, change)
        : getBackupJob(svc.catalog, row.id);
    if (sealed) setRestoreTestSecretJson(svc.catalog, row.id, JSON.stringify(sealed));
    else if (change.restoreTest === null) {
      // Restore tests switched off: their password is forgotten too.
      setRestoreTestSecretJson(svc.catalog, row.id, null);
      svc.secrets.delete(restoreTestPasswordKey(row.id));
    }
    await mirrorJob(svc, row);
    resolveAlerts(svc.catalog, row.id, 'POLICY_UNKNOWN'); // a policy the DBA chose: retention may run
    // A running capture cuts segments by the policy it started with: restart it on the new one
    // (the restore test is no part of capture).
    if (Object.keys(change).some((k) => k !== 'restoreTest')) await svc.protection.restart(row);
    audit(svc.catalog, {
      actor: svc.actor,
      action: 'backup-job.set',
      target: source,
      outcome: 'done',
      details: { ...change, ...(sealed ? { restoreTestPassword: sealed.scheme } : {}) },
    });
    return backupJobView(row, job);
  },
  'backup-job.stop': async (svc, { source }) => {
    const row = getSourceByName(svc.catalog, source);
    await svc.protection.stop(row.id);
    const job = setBackupJobState(svc.catalog, row.id, 'stopped');
    await mirrorJob(svc, row);
    audit(svc.catalog, {
      actor: svc.actor,
      action: 'backup-job.stop',
      target: source,
      outcome: 'done',
    });
    return backupJobView(row, job);
  },
  'backup-job.start': async (svc, { source }) => {
    const row = getSourceByName(svc.catalog, source);
    if (isImportedSource(svc.catalog, row.id))
      throw new ApiError(
        'CONFLICT',
        `${source} was imported from a mongodump: it has no connection, so there is nothing to capture.`,
      );
    const { state } = getBackupJob(svc.catalog, row.id);
    if (state === 'inactive')
      throw new ApiError(
        'CONFLICT',
        `The backup job of ${source} was terminated; add the source again to protect it.`,
      );
    // Retrying a Misconfigured job; protect() sets it back, with the reason, if the cause remains.
    if (state === 'misconfigured') await svc.protection.reactivate(row);
    else {
      setBackupJobState(svc.catalog, row.id, 'active');
      await svc.protection.protect(row);
    }
    await mirrorJob(svc, row);
    audit(svc.catalog, {
      actor: svc.actor,
      action: 'backup-job.start',
      target: source,
      outcome: 'done',
    });
    return backupJobView(row, getBackupJob(svc.catalog, row.id));
  },
  'backup-job.terminate': async (svc, { source, deleteBackups }) => {
    const row = getSourceByName(svc.catalog, source);
    await svc.protection.stop(row.id);
    const job = setBackupJobState(svc.catalog, row.id, 'inactive', 'terminated');
    await mirrorJob(svc, row);
    let deletedSnapshots = 0;
    let deletedSegments = 0;
    let keptLocked = 0;
    if (deleteBackups) {
      const store = await svc.stores.get(row.repository_id);
      // Everything outside a retention lock goes; locked items stay and are counted.
      const deleteUnlessLocked = async (kind: 'snapshot' | 'segment', targets: string[]) => {
        let deleted = 0;
        for (const t of targets) {
          try {
            await store.delete(kind, t, svc.actor);
            deleted++;
          } catch (err) {
            if ((err as ApiError).code !== 'RETENTION_LOCKED') throw err;
            keptLocked++;
          }
        }
        return deleted;
      };
      deletedSnapshots = await deleteUnlessLocked('snapshot', snapshotIdsOfSource(svc.catalog, row.id));
      deletedSegments = await deleteUnlessLocked('segment', segmentPathsOfSource(svc.catalog, row.id));
    }
    audit(svc.catalog, {
      actor: svc.actor,
      action: 'backup-job.terminate',
      target: source,
      outcome: 'done',
      details: { deleteBackups: !!deleteBackups, deletedSnapshots, deletedSegments, keptLocked },
    });
    return { job: backupJobView(row, job), deletedSnapshots, deletedSegments, keptLocked };
  },
};
