/**
 * The named services an engine run offers. Handlers and services ask for the
 * few they use (`Pick<Services, 'catalog' | 'stores'>`, in the style of
 * MongoDB Compass's `Pick<DataService, …>` per feature), never for the whole
 * Engine, so that a room's needs are visible in its signature and no room
 * leans on the composition root (engine.ts builds and wires them).
 */
import type { z } from 'zod';
import type { RunMode } from './api/schemas.js';
import type { CatalogDb } from './catalog/open-catalog.js';
import type { EventBus } from './events.js';
import type { LocalMongod } from './mongo/local-mongod.js';
import type { Protection } from './protection/protection.js';
import type { SecretStore } from './secrets.js';
import type { IncidentFinder } from './incidents/incident-finder.js';
import type { CaptureManager } from './source/capture-manager.js';
import type { StoreRegistry } from './store/store-registry.js';
import type { TaskRunner } from './tasks/task-runner.js';
import type { ViewCache } from './views/view-cache.js';

export interface Services {
  /** The index (SQLite). Only functions of engine/catalog/ run SQL on it. */
  readonly catalog: CatalogDb;
  /** Published here, forwarded by every door (IPC, WebSocket). */
  readonly events: EventBus;
  /** Long work: id at once, progress and finished events, cancel. */
  readonly tasks: TaskRunner;
  /** Repositories, opened, unlocked and reconciled on demand. */
  readonly stores: StoreRegistry;
  /** Where passphrases and source passwords are remembered. */
  readonly secrets: SecretStore;
  /** Continuous capture per source and snapshot tasks. */
  readonly capture: CaptureManager;
  /** Whether and how a source is protected: protect, misconfigure, reactivate, pause/resume capture. */
  readonly protection: Protection;
  /** The finder for destructive operations: findings kept current as segments are written. */
  readonly incidents: IncidentFinder;
  /** The throwaway local mongod (restore --local-mongod), stopped when the engine closes. */
  readonly localMongod: LocalMongod;
  /** Point-in-time views cached in the data dir (views/), built and moved forward on demand. */
  readonly views: ViewCache;

  // What this run is (read-only facts, not services).
  readonly mode: z.infer<typeof RunMode>;
  /** Opened read-only (no writer lock): only commands the contract marks `readOnly` run. */
  readonly readOnly: boolean;
  readonly dataDir: string;
  readonly catalogPath: string;
  readonly schemaVersion: number;
  readonly startedAt: Date;
  /** Who the audit log names for actions taken through this run. */
  readonly actor: string;
  /** scrypt cost for new repositories (tests lower it). */
  readonly kdfCost: { N: number; r: number; p: number } | undefined;
  /** How long to wait for a source to answer before UNREACHABLE. */
  readonly sourceTimeoutMs: number;
}
