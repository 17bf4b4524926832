/**
 * The scheduler of the long-lived modes: every minute (and once at start-up,
 * which takes missed runs once and notes them in the audit log) it starts the
 * snapshots each Active job's policy says are due, applies retention after
 * each snapshot and every hour, and checks the objectives that raise alerts.
 */
import type { LocalMongod } from '../mongo/local-mongod.js';
import { statfsSync } from 'node:fs';
import { audit } from '../catalog/audit.js';
import { repositoryPath } from '../catalog/repositories.js';
import { isImportedSource, listSources, type SourceRow } from '../catalog/sources.js';
import type { CatalogDb } from '../catalog/open-catalog.js';
import type { EventBus } from '../events.js';
import type { Protection } from '../protection/protection.js';
import type { SecretStore } from '../secrets.js';
import type { CaptureManager } from '../source/capture-manager.js';
import type { StoreRegistry } from '../store/store-registry.js';
import type { TaskRunner } from '../tasks/task-runner.js';
import { startCopyTask } from '../store/copy-task.js';
import { resolveAlerts } from '../catalog/alerts.js';
import { repositoriesWithCopyTargets } from '../catalog/copy-targets.js';
import { segmentsOfSource } from '../catalog/segments.js';
import { completeSnapshotsOfSource, tieredSnapshotStarts } from '../catalog/snapshots.js';
import { raiseAlert } from './alerts.js';
import { recordOplogWindow } from '../catalog/oplog-window.js';
import { getBackupJob } from './backup-jobs.js';
import type { Tier } from './policy.js';
import { decideRetention } from './retention.js';
import { lastTierRuns, retentionSnapshot } from './retention-rows.js';
import { sourceConnection } from '../mongo/source-connection.js';
import { probeSource } from '../source/probe.js';
import { dueTiers } from './schedule.js';
import { lastRestoreOfKind } from '../catalog/restores.js';
import { hasCompleteSnapshot } from '../catalog/snapshots.js';
import { restoreTestDue } from './restore-test-schedule.js';
import type { ViewCache } from '../views/view-cache.js';
import { RESTORE_TEST_KIND, restoreTestRunning, startRestoreTest } from '../verify/restore-test.js';

export interface SchedulerDeps {
  readonly catalog: CatalogDb;
  readonly events: EventBus;
  readonly tasks: TaskRunner;
  readonly stores: StoreRegistry;
  readonly secrets: SecretStore;
  readonly capture: CaptureManager;
  readonly protection: Protection;
  readonly sourceTimeoutMs: number;
  readonly localMongod: LocalMongod;
  /** The view cache's per-segment _id index forgets the segments retention deletes. */
  readonly views: Pick<ViewCache, 'forgetSegments'>;
}

export class Scheduler {
  private timer: NodeJS.Timeout | null = null;
  private lastRetention = 0;
  private readonly running = new Set<string>();
  private readonly windowChecked = new Map<string, number>();

  constructor(
    private readonly deps: SchedulerDeps,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  start(intervalMs = 60_000): void {
    void this.tick();
    this.timer = setInterval(() => void this.tick(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private lastRuns(sourceId: string): Partial<Record<Tier, Date>> {
    return lastTierRuns(tieredSnapshotStarts(this.deps.catalog, sourceId));
  }

  /** One scheduling pass; returns the snapshot jobs it started. */
  async tick(): Promise<string[]> {
    const now = this.clock();
    const started: string[] = [];
    for (const row of listSources(this.deps.catalog)) {
      await this.deps.protection.checkHealth(row);
      const job = getBackupJob(this.deps.catalog, row.id);
      if (job.state !== 'active') continue;
      this.checkObjectives(row, job.policy.rpoObjectiveSeconds, job.policy.diskAlertPercent);
      if (now.getTime() - (this.windowChecked.get(row.id) ?? 0) >= 3_600_000) {
        this.windowChecked.set(row.id, now.getTime());
        void this.checkOplogWindow(row, job.policy.oplogWindowAlertHours);
      }
      this.startRestoreTestIfDue(row, now);
      if (this.running.has(row.id)) continue;
      const due = dueTiers(job.policy, this.lastRuns(row.id), now);
      if (due.length === 0) continue;
      for (const d of due.filter((x) => x.missed)) {
        audit(this.deps.catalog, {
          actor: 'scheduler',
          action: 'schedule.missed-run',
          target: row.name,
          outcome: 'done',
          details: { tier: d.tier, scheduledAt: d.scheduledAt.toISOString() },
        });
      }
      this.running.add(row.id);
      const j = this.deps.capture.startSnapshot(
        row,
        {},
        due.map((d) => d.tier),
      );
      started.push(j.taskId);
      void this.deps.tasks.wait(j.taskId).finally(() => {
        this.running.delete(row.id);
        void this.applyRetention(row).catch(() => undefined);
      });
    }
    if (now.getTime() - this.lastRetention >= 3_600_000) {
      this.lastRetention = now.getTime();
      for (const row of listSources(this.deps.catalog)) await this.applyRetention(row).catch(() => undefined);
      // New snapshots and segments go to every secondary copy location, hourly, as the same task
      // `copy run` starts; skipped while a copy is still running.
      const repos = repositoriesWithCopyTargets(this.deps.catalog);
      const copying = this.deps.tasks.list('running').some((j) => j.kind === 'copy.run');
      if (!copying) for (const repository of repos) await this.startCopy(repository);
    }
    return started;
  }

  /**
   * The job's restore test, every N days from the last one's start. Missed while the app was closed:
   * once now, noted in the audit log. Not before the source has a snapshot (nothing to test yet).
   */
  private startRestoreTestIfDue(row: SourceRow, now: Date): string | null {
    const settings = getBackupJob(this.deps.catalog, row.id).policy.restoreTest;
    if (!settings || restoreTestRunning(this.deps.catalog, row.id)) return null;
    if (!hasCompleteSnapshot(this.deps.catalog, row.id)) return null;
    const last = lastRestoreOfKind(this.deps.catalog, row.id, RESTORE_TEST_KIND);
    const due = restoreTestDue(settings, last ? new Date(last.started_at) : null, now);
    if (!due.due) return null;
    if (due.missed)
      audit(this.deps.catalog, {
        actor: 'scheduler',
        action: 'schedule.missed-run',
        target: row.name,
        outcome: 'done',
        details: { restoreTest: true, scheduledAt: due.scheduledAt!.toISOString() },
      });
    try {
      return startRestoreTest(this.deps, row, { trigger: 'schedule', actor: 'scheduler', now }).taskId;
    } catch (err) {
      // Refused before its task (e.g. the settings became invalid): a failed test all the same.
      raiseAlert(this.deps.catalog, this.deps.events, {
        sourceId: row.id,
        kind: 'RESTORE_TEST_FAILED',
        severity: 'critical',
        message: `The restore test of ${row.name} could not start: ${(err as Error).message}`,
      });
      return null;
    }
  }

  /**
   * A copy refused before its task starts (the repository cannot be opened,
   * e.g. its disk is not mounted) is a failing copy too: alert, as a failed task does.
   */
  private async startCopy(repository: string): Promise<void> {
    try {
      await startCopyTask(this.deps, repository);
    } catch (err) {
      const path = repositoryPath(this.deps.catalog, repository) ?? repository;
      raiseAlert(this.deps.catalog, this.deps.events, {
        sourceId: null,
        kind: 'COPY_FAILING',
        severity: 'warning',
        message: `Secondary copy of ${path} could not start: ${(err as Error).message}`,
      });
    }
  }

  /** Deletes what the policy no longer needs (never inside a lock), writing each deletion to the audit log. */
  async applyRetention(row: SourceRow): Promise<{ snapshots: string[]; segments: string[] }> {
    // An imported dump is the user's archive, not a rolling backup: no policy ages it out.
    if (isImportedSource(this.deps.catalog, row.id)) return { snapshots: [], segments: [] };
    const job = getBackupJob(this.deps.catalog, row.id);
    if (job.policyOrigin === 'assumed') {
      // The catalog was rebuilt and the repository held no policy for this source: deleting by the
      // default (7 days) could destroy what a longer policy (PCI-DSS: a year) keeps. Wait for the DBA.
      raiseAlert(this.deps.catalog, this.deps.events, {
        sourceId: row.id,
        kind: 'POLICY_UNKNOWN',
        severity: 'critical',
        message: `The backup policy of ${row.name} could not be recovered from its repository after the catalog was rebuilt; retention deletes nothing until a policy is set (backup-job set).`,
      });
      return { snapshots: [], segments: [] };
    }
    const now = this.clock();
    const snaps = completeSnapshotsOfSource(this.deps.catalog, row.id);
    const segs = segmentsOfSource(this.deps.catalog, row.id);
    const decision = decideRetention(
      job.policy,
      snaps.map(retentionSnapshot),
      segs.map((g) => ({
        path: g.path,
        firstTs: { t: g.first_t, i: g.first_i },
        lastTs: { t: g.last_t, i: g.last_i },
        lockedUntil: g.locked_until ? new Date(g.locked_until) : null,
      })),
      now,
    );
    const store = await this.deps.stores.get(row.repository_id);
    for (const id of decision.deleteSnapshots) await store.delete('snapshot', id, 'retention', now);
    const deleted: string[] = [];
    try {
      for (const p of decision.deleteSegments) {
        await store.delete('segment', p, 'retention', now);
        deleted.push(p);
      }
    } finally {
      this.deps.views.forgetSegments(store.repo.id, deleted);
    }
    return { snapshots: decision.deleteSnapshots, segments: decision.deleteSegments };
  }

  /** The source's own oplog window (how long capture may stop before a gap), checked hourly. */
  private async checkOplogWindow(row: SourceRow, minHours: number): Promise<void> {
    try {
      const { config, password } = await sourceConnection(this.deps, row);
      const report = await probeSource(config, password, this.deps.sourceTimeoutMs);
      recordOplogWindow(this.deps.catalog, row.id, report.oplog);
      if (report.oplog && report.oplog.hours < minHours) {
        raiseAlert(this.deps.catalog, this.deps.events, {
          sourceId: row.id,
          kind: 'OPLOG_WINDOW_LOW',
          severity: 'warning',
          message: `The oplog of ${row.name} covers ${report.oplog.hours} h, below the ${minHours} h threshold.`,
        });
      } else if (report.oplog) resolveAlerts(this.deps.catalog, row.id, 'OPLOG_WINDOW_LOW');
    } catch {
      // Unreachable sources are reported by capture; nothing to add here.
    }
  }

  private checkObjectives(row: SourceRow, rpoObjective: number, diskPercent: number): void {
    const m = this.deps.capture.get(row.id)?.metrics;
    if (m?.recoveryPointSeconds !== null && m?.recoveryPointSeconds !== undefined) {
      if (m.recoveryPointSeconds > rpoObjective) {
        raiseAlert(this.deps.catalog, this.deps.events, {
          sourceId: row.id,
          kind: 'RPO_EXCEEDED',
          severity: 'warning',
          message: `The recovery point of ${row.name} is ${m.recoveryPointSeconds} s, above the objective of ${rpoObjective} s.`,
        });
      } else resolveAlerts(this.deps.catalog, row.id, 'RPO_EXCEEDED');
    }
    const repoPath = repositoryPath(this.deps.catalog, row.repository_id);
    if (repoPath) {
      try {
        const st = statfsSync(repoPath);
        const used = Math.round((1 - st.bavail / st.blocks) * 100);
        if (used >= diskPercent) {
          raiseAlert(this.deps.catalog, this.deps.events, {
            sourceId: null,
            kind: 'DISK_NEARLY_FULL',
            severity: 'critical',
            message: `The disk holding ${repoPath} is ${used}% full (alert at ${diskPercent}%).`,
          });
        } else resolveAlerts(this.deps.catalog, null, 'DISK_NEARLY_FULL');
      } catch {
        // A missing repository path makes the job misconfigured elsewhere; nothing to measure here.
      }
    }
  }
}
