/**
 * Misconfigured, as Ops Manager means it: a job that cannot run until
 * something outside the engine is fixed. Two causes are detected here:
 * the repository path is missing or not writable (checked before capture
 * starts and on every scheduler pass; the job returns to Active by itself
 * when the path comes back, e.g. a remounted disk), and credentials the
 * source rejects (reported by capture; fixed by editing the source, which
 * makes the job Active again).
 */
import { accessSync, constants } from 'node:fs';
import { getRepository, type SourceRow } from '../catalog/sources.js';
import type { Engine } from '../engine.js';
import { raiseAlert, resolveAlerts } from '../schedule/alerts.js';
import { getBackupJob, setBackupJobState } from '../schedule/backup-jobs.js';

const repositoryProblemText = (path: string) => `The repository path ${path} is missing or not writable.`;

/** The repository problem of a source's job, or null when its path exists and is writable. */
export function repositoryProblem(engine: Engine, row: SourceRow): string | null {
  const { path } = getRepository(engine.catalog, row.repository_id);
  try {
    accessSync(path, constants.W_OK);
    return null;
  } catch {
    return repositoryProblemText(path);
  }
}

/** Marks the job Misconfigured with the reason, stops its capture and raises BACKUP_FAILED. */
export async function misconfigure(engine: Engine, row: SourceRow, reason: string): Promise<void> {
  setBackupJobState(engine.catalog, row.id, 'misconfigured', reason);
  await engine.capture.stop(row.id);
  raiseAlert(engine.catalog, engine.events, {
    sourceId: row.id,
    kind: 'BACKUP_FAILED',
    severity: 'critical',
    message: `Backup of ${row.name} cannot run: ${reason}`,
  });
}

/**
 * One scheduler pass over a job: an Active job whose repository went away
 * becomes Misconfigured; a job Misconfigured for its repository becomes
 * Active again (and is protected) once the path is back.
 */
export async function checkJobHealth(engine: Engine, row: SourceRow): Promise<void> {
  const job = getBackupJob(engine.catalog, row.id);
  const problem = repositoryProblem(engine, row);
  if (job.state === 'active' && problem) await misconfigure(engine, row, problem);
  else if (
    job.state === 'misconfigured' &&
    !problem &&
    job.reason === repositoryProblemText(getRepository(engine.catalog, row.repository_id).path)
  ) {
    await reactivate(engine, row);
  }
}

/**
 * A Misconfigured job whose cause was fixed (repository back, source edited,
 * or the DBA retries): Active again, its "cannot run" alert resolved, capture
 * started; protect() misconfigures it again if the cause is still there.
 */
export async function reactivate(engine: Engine, row: SourceRow): Promise<void> {
  setBackupJobState(engine.catalog, row.id, 'active');
  resolveAlerts(engine.catalog, row.id, 'BACKUP_FAILED');
  await engine.protect(row);
}
