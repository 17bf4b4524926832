/**
 * Runs continuous capture for sources in the long-lived modes (desktop and
 * headless), raises alerts, and takes a new snapshot when a gap appears.
 */
import type { MongoClient } from 'mongodb';
import { ApiError } from '../errors.js';
import { sourceIsReplicaSet, type SourceRow } from '../catalog/sources.js';
import type { CatalogDb } from '../catalog/open-catalog.js';
import type { EventBus } from '../events.js';
import type { StoreRegistry } from '../store/store-registry.js';
import type { TaskRunner } from '../tasks/task-runner.js';
import type { Task } from '../api/schemas.js';
import { formatOpTime, opTimeToDate } from '../repo/optime.js';
import { resolveAlerts } from '../catalog/alerts.js';
import { saveCaptureStatus } from '../catalog/capture-status.js';
import { raiseAlert } from '../schedule/alerts.js';
import { connectSource } from '../mongo/connect.js';
import { getBackupJob } from '../schedule/backup-jobs.js';
import { copyOplogRange } from './oplog-range.js';
import { journalDamageAlert } from '../store/journal-recovery.js';
import { DEFAULT_CAPTURE, OplogCapture, type CaptureOptions, type JournalRecord } from './oplog-capture.js';
import { takeSnapshot, type SnapshotOptions } from './snapshot.js';
import type { ConnectionConfig } from '../mongo/connection-config.js';

export type ConnectionResolver = (
  row: SourceRow,
) => Promise<{ config: ConnectionConfig; password: string | null }>;

export interface CaptureDeps {
  readonly catalog: CatalogDb;
  readonly events: EventBus;
  readonly tasks: TaskRunner;
  readonly stores: StoreRegistry;
  readonly sourceTimeoutMs: number;
}

export interface CaptureHooks {
  /**
   * Rejected credentials do not heal by retrying: the job needs the DBA (edit
   * the source). Protection marks the job Misconfigured; capture only reports.
   */
  onCredentialsRejected?(row: SourceRow, reason: string): void;
  /** A journal record of the source's capture is durable (OplogCapture's onJournalRecord). */
  onJournalRecord?(sourceId: string, record: JournalRecord): void;
}

export class CaptureManager {
  private readonly running = new Map<string, OplogCapture>();
  private metricsTimer: NodeJS.Timeout | null = null;

  /** Writes the live metrics of every running capture to the catalog (read by `status` from any process). */
  persistMetrics(): void {
    const now = new Date();
    for (const [id, c] of this.running) saveCaptureStatus(this.deps.catalog, id, c.metrics, now);
  }

  constructor(
    private readonly deps: CaptureDeps,
    private readonly resolve: ConnectionResolver,
    readonly options: CaptureOptions = DEFAULT_CAPTURE,
    private readonly hooks: CaptureHooks = {},
  ) {}

  private async connect(row: SourceRow): Promise<MongoClient> {
    const { config, password } = await this.resolve(row);
    return connectSource(config, password, this.deps.sourceTimeoutMs);
  }

  async start(row: SourceRow): Promise<OplogCapture> {
    const existing = this.running.get(row.id);
    if (existing?.alive) return existing;
    if (existing) this.running.delete(row.id); // its loop ended: never hand back a dead capture
    if (!sourceIsReplicaSet(this.deps.catalog, row.id))
      throw new ApiError(
        'UNSUPPORTED',
        `${row.name} is a standalone server: it has no oplog, so it gets snapshots only (no continuous capture, no point-in-time restore).`,
      );
    const store = await this.deps.stores.get(row.repository_id);
    // The job's policy sets how often the journal is fsynced (the recovery point), and how often
    // segments are cut and their size.
    const { policy } = getBackupJob(this.deps.catalog, row.id);
    const options: CaptureOptions = {
      ...this.options,
      segmentMaxMs:
        this.options.segmentMaxMs === DEFAULT_CAPTURE.segmentMaxMs
          ? policy.segmentSeconds * 1000
          : this.options.segmentMaxMs,
      segmentMaxBytes:
        this.options.segmentMaxBytes === DEFAULT_CAPTURE.segmentMaxBytes
          ? policy.segmentMaxMB * 1024 * 1024
          : this.options.segmentMaxBytes,
      journalFsyncMs:
        this.options.journalFsyncMs === DEFAULT_CAPTURE.journalFsyncMs
          ? (policy.journalFsyncMs ?? DEFAULT_CAPTURE.journalFsyncMs)
          : this.options.journalFsyncMs,
    };
    const capture = new OplogCapture(
      {
        store,
        sourceId: row.id,
        connect: () => this.connect(row),
        onGap: ({ lastCaptured, resumedAt }) => {
          raiseAlert(this.deps.catalog, this.deps.events, {
            sourceId: row.id,
            kind: 'PITR_GAP',
            severity: 'critical',
            message: `The oplog of ${row.name} rolled over past the last captured entry (${formatOpTime(lastCaptured)}); capture resumed at ${formatOpTime(resumedAt)}. A new snapshot is being taken.`,
            details: { lastCaptured, resumedAt },
          });
          this.startSnapshot(row, {});
        },
        onError: (err) => {
          if (err.code === 'AUTH_FAILED')
            this.hooks.onCredentialsRejected?.(row, `the source rejected the credentials (${err.message})`);
        },
        // A full or vanished repository heals by itself once space is freed or the disk is back:
        // capture keeps retrying; the alert says that nothing new is being kept meanwhile.
        onWriteFailed: (err) => {
          this.persistMetrics();
          raiseAlert(this.deps.catalog, this.deps.events, {
            sourceId: row.id,
            kind: 'CAPTURE_FAILED',
            severity: 'critical',
            message: `Continuous capture of ${row.name} cannot write to its repository: ${err.message} Nothing captured since then is kept yet; capture retries by itself and catches up without a gap while the source's oplog still holds the last captured entry.`,
            details: err.details,
          });
        },
        onJournalDamaged: (damaged) =>
          raiseAlert(this.deps.catalog, this.deps.events, journalDamageAlert(row.id, damaged)),
        onSegment: (lastTs) =>
          this.deps.events.publish('capture.segment', {
            sourceId: row.id,
            source: row.name,
            lastTs: {
              ...lastTs,
              text: formatOpTime(lastTs),
              wall: opTimeToDate(lastTs).toISOString().replace('.000Z', 'Z'),
            },
          }),
        onWriteRecovered: () => {
          resolveAlerts(this.deps.catalog, row.id, 'CAPTURE_FAILED');
          this.persistMetrics();
        },
        onJournalRecord: (record) => this.hooks.onJournalRecord?.(row.id, record),
      },
      options,
    );
    this.running.set(row.id, capture);
    capture.start();
    if (!this.metricsTimer) {
      this.metricsTimer = setInterval(() => this.persistMetrics(), 2000);
      this.metricsTimer.unref();
    }
    return capture;
  }

  get(sourceId: string): OplogCapture | undefined {
    return this.running.get(sourceId);
  }

  async stop(sourceId: string): Promise<void> {
    const c = this.running.get(sourceId);
    if (!c) return;
    try {
      await c.stop();
    } finally {
      // Whatever happened to it, a stopped capture is no longer ours to hand out.
      this.running.delete(sourceId);
    }
    this.persistMetrics();
    saveCaptureStatus(this.deps.catalog, sourceId, c.metrics);
    if (this.running.size === 0 && this.metricsTimer) {
      clearInterval(this.metricsTimer);
      this.metricsTimer = null;
    }
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.running.keys()].map((id) => this.stop(id)));
  }

  /** Takes a snapshot as a job; without running capture the snapshot also copies its own oplog range. */
  startSnapshot(row: SourceRow, opts: SnapshotOptions, tiers: string[] = []): Task {
    return this.deps.tasks.start('snapshot', async (ctx) => {
      const store = await this.deps.stores.get(row.repository_id);
      let client: MongoClient | null = null;
      try {
        client = await this.connect(row);
        const manifest = await takeSnapshot(client, store, row.id, { ...opts, tiers }, ctx);
        const hello = await client.db('admin').command({ hello: 1 });
        if (hello.setName && !this.running.has(row.id))
          await copyOplogRange(client, store, row.id, manifest.startTs, manifest.consistentTs);
        // With capture running, the snapshot is restorable once capture has its range: a journal
        // commit away (journalFsyncMs), so the task ends when `latest` can use it.
        else await this.running.get(row.id)?.waitUntilDurable(manifest.consistentTs, 10_000);
        // A failure alert is about "backups are not being taken"; a good snapshot ends that condition.
        resolveAlerts(this.deps.catalog, row.id, 'BACKUP_FAILED');
        return {
          snapshotId: manifest.snapshotId,
          startTs: manifest.startTs,
          consistentTs: manifest.consistentTs,
          documents: manifest.totals.count,
          bytes: manifest.totals.storedBytes,
        };
      } catch (err) {
        if ((err as ApiError).code !== 'CANCELLED') {
          raiseAlert(this.deps.catalog, this.deps.events, {
            sourceId: row.id,
            kind: 'BACKUP_FAILED',
            severity: 'critical',
            message: `Snapshot of ${row.name} failed: ${(err as Error).message}`,
          });
        }
        throw err;
      } finally {
        await client?.close().catch(() => undefined);
      }
    });
  }
}
