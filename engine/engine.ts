/**
 * The Engine: one per process (desktop main process, headless server, or a
 * CLI invocation). It is the composition root: it builds the services
 * (catalog, events, tasks, stores, capture, protection, scheduler) and wires
 * them together; the work is done in those rooms. Transports call it only
 * through `dispatch`, which hands handlers the services they name.
 */
import { ViewCache, VIEWS_DIR } from './views/view-cache.js';
import { join, resolve } from 'node:path';
import type { z } from 'zod';
import type { RunMode } from './api/schemas.js';
import { EventBus } from './events.js';
import { TaskRunner } from './tasks/task-runner.js';
import type { CatalogDb } from './catalog/open-catalog.js';
import { CATALOG_FILE, KNOWN_REPOSITORIES_FILE } from './paths.js';
import { MemorySecretStore, type SecretStore } from './secrets.js';
import { StoreRegistry } from './store/store-registry.js';
import type { WriterLock } from './store/writer-lock.js';
import { openDataDir, reportSetAside } from './store/data-dir.js';
import { CaptureManager } from './source/capture-manager.js';
import { DEFAULT_CAPTURE, type CaptureOptions } from './source/oplog-capture.js';
import { sourceConnection } from './mongo/source-connection.js';
import { Scheduler } from './schedule/scheduler.js';
import { Protection } from './protection/protection.js';
import { listSources } from './catalog/sources.js';
import { resolveAlerts } from './catalog/alerts.js';
import { raiseAlert } from './schedule/alerts.js';
import type { Services } from './services.js';
import { IncidentFinder } from './incidents/incident-finder.js';
import { LocalMongod, localMongodAudit } from './mongo/local-mongod.js';
import { audit } from './catalog/audit.js';
import { readSettings } from './catalog/settings-store.js';
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

export class Engine implements Services {
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
  readonly protection: Protection;
  readonly views: ViewCache;
  readonly scheduler: Scheduler;
  readonly incidents: IncidentFinder;
  readonly localMongod: LocalMongod;
  readonly readOnly: boolean;
  /** The data dir's writer lock; `writerLock.tookOverFrom` names a dead holder whose lock was left. */
  readonly writerLock: WriterLock | null;
  private closed = false;

  private constructor(opts: EngineOptions) {
    this.dataDir = resolve(opts.dataDir);
    this.mode = opts.mode;
    this.catalogPath = join(this.dataDir, CATALOG_FILE);
    this.readOnly = opts.readOnly ?? false;
    const { writerLock, db, schemaVersion, setAside } = openDataDir(
      this.dataDir,
      this.catalogPath,
      opts.mode,
      this.readOnly,
    );
    this.writerLock = writerLock;
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
    this.incidents = new IncidentFinder({
      catalog: db,
      stores: this.stores,
      events: this.events,
      readOnly: this.readOnly,
    });
    this.stores.onSegmentAppended = (sourceId, info, payload) =>
      this.incidents.segmentAppended(sourceId, info.path, payload);
    if (setAside) reportSetAside({ catalog: db, events: this.events, stores: this.stores }, setAside);
    const { events, tasks, stores, secrets, sourceTimeoutMs } = this;
    this.capture = new CaptureManager(
      { catalog: db, events, tasks, stores, sourceTimeoutMs },
      (row) => sourceConnection({ catalog: db, stores, secrets }, row),
      { ...DEFAULT_CAPTURE, ...opts.capture },
      {
        onCredentialsRejected: (row, reason) => void this.protection.misconfigure(row, reason),
        onJournalRecord: (sourceId, record) => this.incidents.journalRecord(sourceId, record),
      },
    );
    this.protection = new Protection({ catalog: db, events, capture: this.capture, mode: this.mode });
    this.scheduler = new Scheduler(this);
    this.localMongod = new LocalMongod({
      dataDir: this.dataDir,
      binary: () => readSettings(db).mongodBinary,
      onChange: (status, previous) => {
        this.events.publish('local-mongod.changed', status);
        audit(db, { actor: this.actor, ...localMongodAudit(status, previous) });
      },
    });
    this.views = new ViewCache(join(this.dataDir, VIEWS_DIR));
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
    for (const row of listSources(this.catalog)) await this.protection.protect(row);
    // Findings of segments written while no engine scanned them (a rebuild, an import elsewhere).
    for (const row of listSources(this.catalog))
      void this.incidents.catchUp(row.id).catch((err: unknown) => {
        console.error(`[incidents] scan of ${row.name} failed: ${(err as Error).message}`);
      });
    this.scheduler.start();
  }

  /** Who the audit log names for actions taken through this engine. */
  get actor(): string {
    return `${this.mode}:${process.env.USER ?? process.env.USERNAME ?? 'unknown'}`;
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
    await this.incidents.stop();
    await this.localMongod.close(); // app quit: the throwaway mongod goes with it
    this.views.close();
    this.catalog.close();
    this.stores.close();
    this.writerLock?.release();
  }
}
