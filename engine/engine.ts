/**
 * The Engine: one per process (desktop main process, headless server, or a
 * CLI invocation). It owns the catalog, the task runner and the event bus;
 * transports call it only through `dispatch`.
 */
import { join, resolve } from 'node:path';
import type { z } from 'zod';
import type { RunMode } from './api/schemas.js';
import { EventBus } from './events.js';
import { TaskRunner } from './tasks/task-runner.js';
import { openCatalog, openCatalogOrSetAside, type CatalogDb, type SetAside } from './catalog/open-catalog.js';
import { CATALOG_FILE, KNOWN_REPOSITORIES_FILE } from './paths.js';
import { ApiError } from './errors.js';
import { MemorySecretStore, repositoryPassphraseKey, type SecretStore } from './secrets.js';
import { StoreRegistry } from './store/store-registry.js';
import { WriterLock } from './store/writer-lock.js';
import { CaptureManager } from './source/capture-manager.js';
import { DEFAULT_CAPTURE, type CaptureOptions } from './source/oplog-capture.js';
import { sourceConnection } from './source/source-connection.js';
import { Scheduler } from './schedule/scheduler.js';
import { getBackupJob } from './schedule/backup-jobs.js';
import { misconfigure, repositoryProblem } from './schedule/job-health.js';
import { listSources, type SourceRow } from './catalog/sources.js';
import { raiseAlert, resolveAlerts } from './schedule/alerts.js';

export interface EngineOptions {
  dataDir: string;
  mode: z.infer<typeof RunMode>;
  /** Passphrase for encrypted repositories given to this run (--passphrase-env). */
  passphrase?: string;
  /** Where passphrases are remembered (the OS keychain in the desktop app). */
  secrets?: SecretStore;
  /** scrypt cost for new repositories (tests lower it). */
  kdfCost?: { N: number; r: number; p: number };
  /** How long to wait for a source to answer before UNREACHABLE (default 5 s). */
  sourceTimeoutMs?: number;
  /** Segment cutting and back-off of continuous capture. */
  capture?: Partial<CaptureOptions>;
  /**
   * Reads only (a CLI `status`, `repo info`, `plan` beside a running serve): takes no writer lock,
   * removes no temporaries, and refuses commands that write. Otherwise the engine holds the data
   * dir's writer lock and each repository's as it opens it (CONFLICT naming the holder).
   */
  readOnly?: boolean;
}

export class Engine {
  readonly dataDir: string;
  readonly catalogPath: string;
  readonly mode: EngineOptions['mode'];
  readonly startedAt = new Date();
  readonly events = new EventBus();
  readonly tasks = new TaskRunner(this.events);
  readonly catalog: CatalogDb;
  readonly schemaVersion: number;
  readonly stores: StoreRegistry;
  readonly secrets: SecretStore;
  readonly kdfCost: EngineOptions['kdfCost'];
  readonly sourceTimeoutMs: number;
  readonly capture: CaptureManager;
  readonly scheduler: Scheduler;
  readonly readOnly: boolean;
  /** The data dir's writer lock; `writerLock.tookOverFrom` names a dead holder whose lock was left. */
  readonly writerLock: WriterLock | null;
  private closed = false;

  private constructor(opts: EngineOptions) {
    this.dataDir = resolve(opts.dataDir);
    this.mode = opts.mode;
    this.catalogPath = join(this.dataDir, CATALOG_FILE);
    this.readOnly = opts.readOnly ?? false;
    this.writerLock = this.readOnly
      ? null
      : WriterLock.acquire(this.dataDir, `The data directory ${this.dataDir}`, opts.mode);
    let opened;
    try {
      // A damaged catalog is set aside and rebuilt by the writer; a reader reports it (CORRUPT).
      opened = this.readOnly
        ? { ...openCatalog(this.catalogPath), setAside: null }
        : openCatalogOrSetAside(this.catalogPath, { check: opts.mode !== 'cli' });
    } catch (err) {
      this.writerLock?.release();
      if (['SQLITE_NOTADB', 'SQLITE_CORRUPT'].includes((err as { code?: string }).code ?? ''))
        throw new ApiError(
          'CORRUPT',
          `The catalog ${this.catalogPath} is damaged; the next writing command (or the app) sets it aside and rebuilds it.`,
        );
      throw err;
    }
    const { db, schemaVersion, setAside } = opened;
    this.catalog = db;
    this.schemaVersion = schemaVersion;
    this.secrets = opts.secrets ?? new MemorySecretStore();
    this.kdfCost = opts.kdfCost;
    this.sourceTimeoutMs = opts.sourceTimeoutMs ?? 5000;
    this.stores = new StoreRegistry(
      db,
      this.secrets,
      opts.passphrase ?? null,
      this.readOnly ? null : opts.mode,
      join(this.dataDir, KNOWN_REPOSITORIES_FILE),
    );
    if (setAside) this.rebuildSetAside(setAside);
    this.capture = new CaptureManager(this, (row) => sourceConnection(this, row), {
      ...DEFAULT_CAPTURE,
      ...opts.capture,
    });
    this.scheduler = new Scheduler(this);
  }

  /** Reports a damaged catalog that was set aside, and has the new one rebuilt from the repositories. */
  private rebuildSetAside(setAside: SetAside): void {
    const paths = [...new Set([...setAside.repositoryPaths, ...this.stores.knownPaths()])];
    const message = `The catalog was damaged (${setAside.reason}); it was set aside as ${setAside.path} and a new one is being rebuilt from ${paths.length ? paths.join(', ') : 'no known repository (attach them again: repo attach / catalog rebuild --repository-paths)'}.`;
    process.stderr.write(`${message}\n`);
    raiseAlert(this.catalog, this.events, {
      sourceId: null,
      kind: 'CATALOG_REBUILT',
      severity: 'warning',
      message,
      details: { setAside: setAside.path, reason: setAside.reason, repositories: paths },
    });
    this.stores.scheduleRecovery(paths);
  }

  sourceIsReplicaSet(row: SourceRow): boolean {
    const o = JSON.parse(
      (this.catalog.prepare('SELECT options_json FROM sources WHERE id = ?').pluck().get(row.id) as
        string | undefined) ?? '{}',
    ) as { topology?: string };
    return (o.topology ?? 'replicaSet') === 'replicaSet';
  }

  /**
   * Desktop and headless only: continuous capture for every Active job of a
   * replica set, and the scheduler. A job that cannot start is marked
   * Misconfigured with the reason and alerted.
   */
  async startBackgroundWork(): Promise<void> {
    await this.stores.recover();
    // Secrets the user expects kept (desktop keychain) but that are not: say so where alerts are seen.
    const warning = this.secrets.warning ?? null;
    if (warning)
      raiseAlert(this.catalog, this.events, {
        sourceId: null,
        kind: 'KEYCHAIN_UNPROTECTED',
        severity: 'warning',
        message: warning,
      });
    else resolveAlerts(this.catalog, null, 'KEYCHAIN_UNPROTECTED');
    for (const row of listSources(this.catalog)) await this.protect(row);
    this.scheduler.start();
  }

  /**
   * Starts continuous capture for a source whose job is Active, when this
   * engine is long-lived (desktop, headless; a CLI command ends when it
   * returns) and the source has an oplog. A capture that cannot start marks
   * the job Misconfigured with the reason and raises an alert.
   */
  async protect(row: SourceRow): Promise<void> {
    if (this.mode === 'cli' || !this.sourceIsReplicaSet(row)) return;
    if (getBackupJob(this.catalog, row.id).state !== 'active') return;
    const problem = repositoryProblem(this, row);
    if (problem) return misconfigure(this, row, problem);
    try {
      await this.capture.start(row);
    } catch (err) {
      await misconfigure(this, row, (err as Error).message);
    }
  }

  /** Who the audit log names for actions taken through this engine. */
  get actor(): string {
    return `${this.mode}:${process.env.USER ?? process.env.USERNAME ?? 'unknown'}`;
  }

  rememberPassphrase(repositoryId: string, passphrase: string): void {
    this.secrets.set(repositoryPassphraseKey(repositoryId), passphrase);
  }

  /** Opens the data directory; throws CATALOG_TOO_NEW without touching a newer catalog. */
  static open(opts: EngineOptions): Engine {
    return new Engine(opts);
  }

  /** Stops jobs and closes the catalog. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.scheduler.stop();
    await this.capture.stopAll();
    await this.tasks.stopAll();
    this.catalog.close();
    this.stores.close();
    this.writerLock?.release();
  }
}
