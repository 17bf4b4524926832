/**
 * Protection: the one place that decides whether a source is captured, and
 * the backup job's Misconfigured state as Ops Manager means it (a job that
 * cannot run until something outside the engine is fixed).
 *
 * Two causes of Misconfigured are detected: the repository path is missing
 * or not writable (checked before capture starts and on every scheduler
 * pass; the job returns to Active by itself when the path comes back, e.g. a
 * remounted disk), and credentials the source rejects (reported by capture;
 * fixed by editing the source, which makes the job Active again).
 *
 * Calls only go one way: reactivate -> protect -> misconfigure. In-place
 * restore pauses and resumes capture through pauseCapture/resumeCapture.
 */
import { accessSync, constants } from 'node:fs';
import type { z } from 'zod';
import type { RunMode } from '../api/schemas.js';
import type { CatalogDb } from '../catalog/open-catalog.js';
import { getRepository } from '../catalog/repositories.js';
import { sourceIsReplicaSet, type SourceRow } from '../catalog/sources.js';
import type { EventBus } from '../events.js';
import { resolveAlerts } from '../catalog/alerts.js';
import { raiseAlert } from '../schedule/alerts.js';
import { getBackupJob, setBackupJobState } from '../schedule/backup-jobs.js';
import type { CaptureManager } from '../source/capture-manager.js';
import type { CaptureMetrics } from '../source/oplog-capture.js';
import { ApiError } from '../errors.js';

export interface ProtectionDeps {
  readonly catalog: CatalogDb;
  readonly events: EventBus;
  readonly capture: CaptureManager;
  readonly mode: z.infer<typeof RunMode>;
}

const repositoryProblemText = (path: string) => `The repository path ${path} is missing or not writable.`;

export class Protection {
  constructor(private readonly deps: ProtectionDeps) {}

  /** The repository problem of a source's job, or null when its path exists and is writable. */
  repositoryProblem(row: SourceRow): string | null {
    const { path } = getRepository(this.deps.catalog, row.repository_id);
    try {
      accessSync(path, constants.W_OK);
      return null;
    } catch {
      return repositoryProblemText(path);
    }
  }

  /**
   * Starts continuous capture for a source whose job is Active, when this
   * engine is long-lived (desktop, headless; a CLI command ends when it
   * returns) and the source has an oplog. A capture that cannot start marks
   * the job Misconfigured with the reason and raises an alert.
   */
  async protect(row: SourceRow): Promise<void> {
    const { catalog, capture, mode } = this.deps;
    if (mode === 'cli' || !sourceIsReplicaSet(catalog, row.id)) return;
    if (getBackupJob(catalog, row.id).state !== 'active') return;
    const problem = this.repositoryProblem(row);
    if (problem) return this.misconfigure(row, problem);
    try {
      await capture.start(row);
    } catch (err) {
      await this.misconfigure(row, (err as Error).message);
    }
  }

  /** Marks the job Misconfigured with the reason, stops its capture and raises BACKUP_FAILED. */
  async misconfigure(row: SourceRow, reason: string): Promise<void> {
    const { catalog, events, capture } = this.deps;
    setBackupJobState(catalog, row.id, 'misconfigured', reason);
    await capture.stop(row.id);
    raiseAlert(catalog, events, {
      sourceId: row.id,
      kind: 'BACKUP_FAILED',
      severity: 'critical',
      message: `Backup of ${row.name} cannot run: ${reason}`,
    });
  }

  /**
   * A Misconfigured job whose cause was fixed (repository back, source edited,
   * or the DBA retries): Active again, its "cannot run" alert resolved, capture
   * started; protect() misconfigures it again if the cause is still there.
   */
  async reactivate(row: SourceRow): Promise<void> {
    setBackupJobState(this.deps.catalog, row.id, 'active');
    resolveAlerts(this.deps.catalog, row.id, 'BACKUP_FAILED');
    await this.protect(row);
  }

  /**
   * One scheduler pass over a job: an Active job whose repository went away
   * becomes Misconfigured; a job Misconfigured for its repository becomes
   * Active again (and is protected) once the path is back.
   */
  async checkHealth(row: SourceRow): Promise<void> {
    const { catalog } = this.deps;
    const job = getBackupJob(catalog, row.id);
    const problem = this.repositoryProblem(row);
    if (job.state === 'active' && problem) await this.misconfigure(row, problem);
    else if (
      job.state === 'misconfigured' &&
      !problem &&
      job.reason === repositoryProblemText(getRepository(catalog, row.repository_id).path)
    ) {
      await this.reactivate(row);
    }
  }

  /**
   * A change to something a running capture depends on (policy, connection):
   * stop it (what was read is written) and protect again with the new settings.
   */
  async restart(row: SourceRow): Promise<void> {
    if (!this.deps.capture.get(row.id)) return;
    await this.deps.capture.stop(row.id);
    await this.protect(row);
  }

  /** Stops a source's capture (what was read is written); true when it was running. */
  async stop(sourceId: string): Promise<boolean> {
    const was = !!this.deps.capture.get(sourceId);
    await this.deps.capture.stop(sourceId);
    return was;
  }

  /** Pauses a running capture (the chain stays; resume continues it) and waits until it has paused. */
  async pauseCapture(row: SourceRow): Promise<CaptureMetrics> {
    const c = this.running(row);
    await c.pause();
    for (let k = 0; k < 100 && c.metrics.state !== 'paused'; k++) await new Promise((r) => setTimeout(r, 20));
    return c.metrics;
  }

  resumeCapture(row: SourceRow): CaptureMetrics {
    const c = this.running(row);
    c.resume();
    return c.metrics;
  }

  private running(row: SourceRow) {
    const c = this.deps.capture.get(row.id);
    if (!c) throw new ApiError('CONFLICT', `Capture of ${row.name} is not running in this process.`);
    return c;
  }
}
