/**
 * Runs continuous capture for sources in the long-lived modes (desktop and
 * headless), raises alerts, and takes a new snapshot when a gap appears.
 */
import type { MongoClient } from 'mongodb';
import { ApiError } from '../errors.js';
import type { SourceRow } from '../catalog/sources.js';
import type { Engine } from '../engine.js';
import type { Task } from '../api/schemas.js';
import { formatOpTime } from '../repo/optime.js';
import { raiseAlert, resolveAlerts } from '../schedule/alerts.js';
import { connectSource } from './connect.js';
import { getBackupJob } from '../schedule/backup-jobs.js';
import { misconfigure } from '../schedule/job-health.js';
import { copyOplogRange } from './oplog-range.js';
import { DEFAULT_CAPTURE, OplogCapture, type CaptureOptions } from './oplog-capture.js';
import { takeSnapshot, type SnapshotOptions } from './snapshot.js';
import type { ConnectionConfig } from './connection-config.js';

export type ConnectionResolver = (
  row: SourceRow,
) => Promise<{ config: ConnectionConfig; password: string | null }>;

export class CaptureManager {
  private readonly running = new Map<string, OplogCapture>();
  private metricsTimer: NodeJS.Timeout | null = null;

  /** Writes the live metrics of every running capture to the catalog (read by `status` from any process). */
  persistMetrics(): void {
    const upsert = this.engine.catalog.prepare(
      `INSERT INTO capture_status (source_id, metrics_json, updated_at) VALUES (?, ?, ?)
       ON CONFLICT(source_id) DO UPDATE SET metrics_json = excluded.metrics_json, updated_at = excluded.updated_at`,
    );
    const now = new Date().toISOString();
    for (const [id, c] of this.running) upsert.run(id, JSON.stringify(c.metrics), now);
  }

  constructor(
    private readonly engine: Engine,
    private readonly resolve: ConnectionResolver,
    readonly options: CaptureOptions = DEFAULT_CAPTURE,
  ) {}

  private async connect(row: SourceRow): Promise<MongoClient> {
    const { config, password } = await this.resolve(row);
    return connectSource(config, password, this.engine.sourceTimeoutMs);
  }

  async start(row: SourceRow): Promise<OplogCapture> {
    const existing = this.running.get(row.id);
    if (existing?.alive) return existing;
    if (existing) this.running.delete(row.id); // its loop ended: never hand back a dead capture
    if (!this.engine.sourceIsReplicaSet(row))
      throw new ApiError(
        'UNSUPPORTED',
        `${row.name} is a standalone server: it has no oplog, so it gets snapshots only (no continuous capture, no point-in-time restore).`,
      );
    const store = await this.engine.stores.get(row.repository_id);
    // The job's policy sets how often segments are cut (bounding the recovery point) and their size.
    const { policy } = getBackupJob(this.engine.catalog, row.id);
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
    };
    const capture = new OplogCapture(
      {
        store,
        sourceId: row.id,
        connect: () => this.connect(row),
        onGap: ({ lastCaptured, resumedAt }) => {
          raiseAlert(this.engine.catalog, this.engine.events, {
            sourceId: row.id,
            kind: 'PITR_GAP',
            severity: 'critical',
            message: `The oplog of ${row.name} rolled over past the last captured entry (${formatOpTime(lastCaptured)}); capture resumed at ${formatOpTime(resumedAt)}. A new snapshot is being taken.`,
            details: { lastCaptured, resumedAt },
          });
          this.startSnapshot(row, {});
        },
        // Rejected credentials do not heal by retrying: the job needs the DBA (edit the source).
        onError: (err) => {
          if (err.code === 'AUTH_FAILED')
            void misconfigure(this.engine, row, `the source rejected the credentials (${err.message})`);
        },
        // A full or vanished repository heals by itself once space is freed or the disk is back:
        // capture keeps retrying; the alert says that nothing new is being kept meanwhile.
        onWriteFailed: (err) => {
          this.persistMetrics();
          raiseAlert(this.engine.catalog, this.engine.events, {
            sourceId: row.id,
            kind: 'CAPTURE_FAILED',
            severity: 'critical',
            message: `Continuous capture of ${row.name} cannot write to its repository: ${err.message} Nothing captured since then is kept yet; capture retries by itself and catches up without a gap while the source's oplog still holds the last captured entry.`,
            details: err.details,
          });
        },
        onWriteRecovered: () => {
          resolveAlerts(this.engine.catalog, row.id, 'CAPTURE_FAILED');
          this.persistMetrics();
        },
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
    this.engine.catalog
      .prepare(`INSERT OR REPLACE INTO capture_status (source_id, metrics_json, updated_at) VALUES (?, ?, ?)`)
      .run(sourceId, JSON.stringify(c.metrics), new Date().toISOString());
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
    return this.engine.tasks.start('snapshot', async (ctx) => {
      const store = await this.engine.stores.get(row.repository_id);
      let client: MongoClient | null = null;
      try {
        client = await this.connect(row);
        const manifest = await takeSnapshot(client, store, row.id, { ...opts, tiers }, ctx);
        const hello = await client.db('admin').command({ hello: 1 });
        if (hello.setName && !this.running.has(row.id))
          await copyOplogRange(client, store, row.id, manifest.startTs, manifest.consistentTs);
        // A failure alert is about "backups are not being taken"; a good snapshot ends that condition.
        resolveAlerts(this.engine.catalog, row.id, 'BACKUP_FAILED');
        return {
          snapshotId: manifest.snapshotId,
          startTs: manifest.startTs,
          consistentTs: manifest.consistentTs,
          documents: manifest.totals.count,
          bytes: manifest.totals.storedBytes,
        };
      } catch (err) {
        if ((err as ApiError).code !== 'CANCELLED') {
          raiseAlert(this.engine.catalog, this.engine.events, {
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
