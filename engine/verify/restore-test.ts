/**
 * Restore tests (DESIGN.md: "proof that backups work"): a backup job's
 * latest snapshot, or a random second of its PITR window, restored into
 * scratch databases of a chosen deployment, validated against the backup's
 * own state at that point, timed per phase (the measured RTO), recorded in
 * the restore history as kind `restore-test`, and dropped again whatever the
 * outcome (passed, failed, cancelled). A failure raises RESTORE_TEST_FAILED;
 * the next passing test resolves it.
 *
 * Scratch names cannot collide with anything of the target: every database
 * `<db>` becomes `__mbm_rtest_<tag>_<db>` through the namespace selection
 * (oplog/namespace-selection.ts), so the oplog's commands are renamed too and
 * a dropDatabase in the replayed oplog drops only the scratch copy. <tag> is
 * the first 8 hex digits of the restore's id.
 */
import type { LocalMongod } from '../mongo/local-mongod.js';
import { createHash, randomUUID } from 'node:crypto';
import type { MongoClient } from 'mongodb';
import type { RestoreTestSettings, Task } from '../api/schemas.js';
import { resolveAlerts } from '../catalog/alerts.js';
import { audit } from '../catalog/audit.js';
import { restoreTestSecretJson } from '../catalog/backup-jobs.js';
import { listCoverage } from '../catalog/coverage.js';
import { earliestRestorableIn } from '../catalog/timeline.js';
import type { CatalogDb } from '../catalog/open-catalog.js';
import {
  finishRestore,
  insertRestore,
  recentRestoresOfKind,
  runningRestoresOfKind,
  type RestoreRow,
} from '../catalog/restores.js';
import { snapshotsOfSource } from '../catalog/snapshots.js';
import type { SourceRow } from '../catalog/sources.js';
import { ApiError, toApiError } from '../errors.js';
import type { EventBus } from '../events.js';
import { toSourceError } from '../mongo/connect.js';
import { unsealRestoreTestPassword, type SealedSecret } from '../mongo/source-secret.js';
import { NamespaceFilter } from '../oplog/namespace-selection.js';
import { formatOpTime } from '../repo/optime.js';
import { readSegment } from '../repo/segment-file.js';
import { readManifest } from '../repo/snapshot-files.js';
import { planRestore, type Plan, type RestorePoint } from '../restore/planner.js';
import { restoreToMongo } from '../restore/restore-to-mongo.js';
import { raiseAlert } from '../schedule/alerts.js';
import { getBackupJob } from '../schedule/backup-jobs.js';
import type { SecretStore } from '../secrets.js';
import type { StoreRegistry } from '../store/store-registry.js';
import type { TaskRunner } from '../tasks/task-runner.js';
import {
  describeRestoreTestTarget,
  openRestoreTestTarget,
  type OpenedTarget,
} from './restore-test-target.js';
import { validateRestore, type ValidationReport } from './restore-validation.js';

/** The restore history's kind, and the task's. */
export const RESTORE_TEST_KIND = 'restore-test';
export const SCRATCH_PREFIX = '__mbm_rtest_';
/** mongod: a database name is shorter than 64 bytes. */
const MAX_DB_NAME_BYTES = 63;
/** Collections copied at once into the scratch databases. */
const PARALLEL = 4;
/** How long dropping the scratch databases is retried while the target is away. */
const DROP_RETRY_MS = 30_000;

export interface RestoreTestDeps {
  readonly catalog: CatalogDb;
  readonly events: EventBus;
  readonly tasks: TaskRunner;
  readonly stores: StoreRegistry;
  readonly secrets: SecretStore;
  readonly sourceTimeoutMs: number;
  readonly localMongod: LocalMongod;
}

export interface RestoreTestRun {
  trigger: 'schedule' | 'manual';
  /** Who the audit log and the history name. */
  actor: string;
  /** When it starts (the scheduler's clock); the next test is due `everyDays` after it. */
  now?: Date;
  /** Picks the random point (tests fix it). */
  random?: () => number;
  /** Where `target.passwordEnv` is read (the engine's process by default). */
  env?: NodeJS.ProcessEnv;
  /** How long dropping the scratch databases is retried while the target is away. */
  dropRetryMs?: number;
}

/** What the history's details hold for a restore test (restore-test.last reads them back). */
export interface RestoreTestDetails {
  actor: string;
  trigger: RestoreTestRun['trigger'];
  target: string | null;
  options: { point: RestoreTestSettings['point']; sample: number; everyDays: number };
  scratch: { prefix: string; dropped?: string[]; leftOver?: string[] };
  report?: Record<string, unknown>;
  error?: { code: string; message: string; details?: unknown };
  interrupted?: boolean;
}

/** Sources with a test running in this engine (one catalog per engine). */
const running = new WeakMap<CatalogDb, Set<string>>();
const runningSet = (db: CatalogDb) => {
  let s = running.get(db);
  if (!s) running.set(db, (s = new Set()));
  return s;
};

export function restoreTestRunning(db: CatalogDb, sourceId: string): boolean {
  return runningSet(db).has(sourceId);
}

/** The scratch name of every database: `<db>` -> `<prefix><db>`, shortened (with a hash) when too long. */
export function scratchRenames(prefix: string, namespaces: readonly string[]): string[] {
  // Databases the oplog creates after the snapshot are renamed by this rule too. It comes first: when
  // several renames match, the one given last wins (mongorestore's rule), so the shortened names win.
  const rules: string[] = [`$db$.$coll$=${prefix}$db$.$coll$`];
  for (const db of new Set(namespaces.map((ns) => ns.slice(0, ns.indexOf('.'))))) {
    if (Buffer.byteLength(prefix + db) <= MAX_DB_NAME_BYTES) continue;
    const hash = createHash('sha256').update(db).digest('hex').slice(0, 8);
    let head = db;
    while (Buffer.byteLength(`${prefix}${head}_${hash}`) > MAX_DB_NAME_BYTES) head = head.slice(0, -1);
    rules.push(`${db}.$coll$=${prefix}${head}_${hash}.$coll$`);
  }
  return rules;
}

const isoSecond = (s: number) => new Date(s * 1000).toISOString().replace('.000Z', 'Z');

/** The newest complete snapshot that can be restored now (its oplog range captured), as a plan. */
function latestSnapshotPoint(
  db: CatalogDb,
  row: SourceRow,
): { at: string; plan: Extract<Plan, { ok: true }> } {
  const snaps = snapshotsOfSource(db, row.id).filter(
    (s) => s.status === 'complete' && s.consistent_t !== null,
  );
  for (const s of snaps.reverse()) {
    const plan = planRestore(db, row.id, { kind: 'ts', ts: { t: s.consistent_t!, i: s.consistent_i! } });
    if (plan.ok) return { at: s.id, plan };
  }
  throw new ApiError(
    'NOT_FOUND',
    snaps.length
      ? `No snapshot of ${row.name} can be restored yet: the oplog of their ranges is not all captured.`
      : `${row.name} has no complete snapshot to test yet.`,
  );
}

/**
 * A second drawn uniformly from the restorable seconds of the policy's PITR window (counted back
 * from the newest captured entry): inside a continuous interval, at or after its first restorable
 * point. A source without oplog has its snapshots as its only points: the newest is taken.
 */
function randomWindowPoint(
  db: CatalogDb,
  row: SourceRow,
  windowHours: number,
  random: () => number,
): { at: string; plan: Extract<Plan, { ok: true }> } {
  const { intervals } = listCoverage(db, row.id);
  const live = intervals.reduce<number | null>((m, iv) => Math.max(m ?? 0, iv.end.t), null);
  const ranges: { lo: number; hi: number }[] = [];
  if (live !== null) {
    const windowStart = live - windowHours * 3600;
    for (const iv of intervals) {
      const first = earliestRestorableIn(db, row.id, iv);
      if (!first) continue;
      const lo = Math.max(first.t, windowStart);
      if (lo <= iv.end.t) ranges.push({ lo, hi: iv.end.t });
    }
  }
  if (!ranges.length) return latestSnapshotPoint(db, row);
  const total = ranges.reduce((n, r) => n + r.hi - r.lo + 1, 0);
  let k = Math.min(total - 1, Math.floor(random() * total));
  for (const r of ranges) {
    const n = r.hi - r.lo + 1;
    if (k < n) {
      const point: RestorePoint = { kind: 'wall', seconds: r.lo + k };
      const plan = planRestore(db, row.id, point);
      if (!plan.ok)
        throw new ApiError('NOT_FOUND', `${isoSecond(r.lo + k)} cannot be restored: ${plan.message}`);
      return { at: isoSecond(r.lo + k), plan };
    }
    k -= n;
  }
  throw new ApiError('INTERNAL', 'No point drawn.');
}

/** The target password sealed by backup-job set, or null when none was given. */
async function sealedPassword(deps: RestoreTestDeps, row: SourceRow): Promise<string | null> {
  const json = restoreTestSecretJson(deps.catalog, row.id);
  if (!json) return null;
  const store = await deps.stores.get(row.repository_id);
  return unsealRestoreTestPassword(JSON.parse(json) as SealedSecret, row.id, store.repo, deps.secrets);
}

/**
 * Drops every database of the target whose name starts with one of `prefixes`, retrying while the
 * target is away (a restore that failed because the target went away must still clean up).
 */
async function dropScratch(
  client: MongoClient,
  prefixes: string[],
  retryMs: number,
): Promise<{ dropped: string[]; leftOver: string[] }> {
  const deadline = Date.now() + retryMs;
  const dropped: string[] = [];
  let known: string[] | null = null;
  for (let attempt = 0; ; attempt++) {
    try {
      const { databases } = await client.db('admin').admin().listDatabases({ nameOnly: true });
      known = databases.map((d) => d.name).filter((n) => prefixes.some((p) => n.startsWith(p)));
      for (const name of known) {
        await client.db(name).dropDatabase();
        dropped.push(name);
      }
      return { dropped, leftOver: [] };
    } catch {
      if (Date.now() >= deadline) {
        const left = known ? known.filter((n) => !dropped.includes(n)) : prefixes.map((p) => `${p}*`);
        return { dropped, leftOver: left };
      }
      await new Promise((r) => setTimeout(r, Math.min(250 * 2 ** attempt, 4000)));
    }
  }
}

/**
 * Scratch prefixes earlier tests of the source may have left on a target: tests that never finished
 * (the engine stopped during them; recorded as failed now) and tests whose drop did not get through.
 * The next test on the target drops them too.
 */
function earlierLeftovers(db: CatalogDb, row: SourceRow): string[] {
  const prefixes: string[] = [];
  for (const r of recentRestoresOfKind(db, row.id, RESTORE_TEST_KIND, 20)) {
    const d = detailsOf(r);
    if (r.state !== 'running' && d.scratch?.prefix && d.scratch.leftOver?.length)
      prefixes.push(d.scratch.prefix);
  }
  for (const r of runningRestoresOfKind(db, row.id, RESTORE_TEST_KIND)) {
    const d = detailsOf(r);
    if (d.scratch?.prefix) prefixes.push(d.scratch.prefix);
    finishRestore(db, r.id, 'failed', {
      ...d,
      interrupted: true,
      error: { code: 'CANCELLED', message: 'The engine stopped during the test.' },
    });
  }
  return prefixes;
}

export const detailsOf = (r: RestoreRow): Partial<RestoreTestDetails> =>
  (r.details_json ? JSON.parse(r.details_json) : {}) as Partial<RestoreTestDetails>;

/** Starts a restore test of a source as a task (kind `restore-test`); its result is the report. */
export function startRestoreTest(deps: RestoreTestDeps, row: SourceRow, run: RestoreTestRun): Task {
  const db = deps.catalog;
  const { policy } = getBackupJob(db, row.id);
  const settings = policy.restoreTest;
  if (!settings)
    throw new ApiError(
      'INVALID_INPUT',
      `${row.name} has no restore test: switch one on with backup-job set --source ${row.name} --policy '{"restoreTest":{…}}'.`,
    );
  const active = runningSet(db);
  if (active.has(row.id)) throw new ApiError('CONFLICT', `A restore test of ${row.name} is already running.`);

  const id = randomUUID();
  const prefix = `${SCRATCH_PREFIX}${id.replace(/-/g, '').slice(0, 8)}_`;
  const leftovers = earlierLeftovers(db, row);
  let chosen: { at: string; plan: Extract<Plan, { ok: true }> } | null = null;
  let pointError: ApiError | null = null;
  try {
    chosen =
      settings.point === 'latest-snapshot'
        ? latestSnapshotPoint(db, row)
        : randomWindowPoint(db, row, policy.pitrWindowHours, run.random ?? Math.random);
  } catch (err) {
    pointError = toApiError(err);
  }
  const at = chosen?.at ?? settings.point;
  const recorded: RestoreTestDetails = {
    actor: run.actor,
    trigger: run.trigger,
    target: describeRestoreTestTarget(settings.target),
    options: { point: settings.point, sample: settings.sample, everyDays: settings.everyDays },
    scratch: { prefix },
  };
  insertRestore(db, {
    id,
    sourceId: row.id,
    point: at,
    kind: RESTORE_TEST_KIND,
    details: recorded,
    startedAt: run.now ?? new Date(),
  });
  active.add(row.id);
  audit(db, {
    actor: run.actor,
    action: 'restore-test.start',
    target: row.name,
    outcome: 'done',
    details: { restoreId: id, trigger: run.trigger, at, scratchPrefix: prefix },
  });

  return deps.tasks.start(RESTORE_TEST_KIND, async (ctx) => {
    let target: OpenedTarget | null = null;
    let report: Record<string, unknown> = {};
    let error: ApiError | null = null;
    let scratch: { dropped: string[]; leftOver: string[] } = { dropped: [], leftOver: [] };
    try {
      if (pointError) throw pointError;
      const { plan } = chosen!;
      const store = await deps.stores.get(row.repository_id);
      // A corrupt segment fails the test before anything is written.
      for (const seg of plan.segments) await readSegment(store.repo, seg.path);
      ctx.progress({ message: 'connecting to the target' });
      target = await openRestoreTestTarget(
        settings.target,
        () => sealedPassword(deps, row),
        deps.sourceTimeoutMs,
        deps.localMongod,
        run.env,
      );
      recorded.target = target.display;
      const manifest = await readManifest(store.repo, plan.snapshot.path);
      const selection = new NamespaceFilter({
        rename: scratchRenames(
          prefix,
          manifest.namespaces.map((n) => n.ns),
        ),
      });
      const restored = await restoreToMongo({
        restoreId: id,
        sourceName: row.name,
        point: at,
        repo: store.repo,
        plan,
        client: target.client,
        selection,
        drop: false,
        strict: false,
        parallel: PARALLEL,
        ctx,
      });
      ctx.progress({ message: 'validating the scratch copy' });
      const t0 = performance.now();
      const validation: ValidationReport = await validateRestore({
        repo: store.repo,
        plan,
        point: at,
        client: target.client,
        selection,
        sample: settings.sample,
        full: false,
        ctx,
      });
      const validationMs = Math.round(performance.now() - t0);
      report = {
        ...restored,
        validation,
        rto: {
          restoreMs: restored.durationMs,
          validationMs,
          totalMs: restored.durationMs + validationMs,
          phases: [
            ...restored.phases.map((p) => ({ name: p.name, ms: p.ms })),
            { name: 'validating', ms: validationMs },
          ],
        },
      };
      if (!validation.passed) {
        const failed = validation.checks.filter((c) => !c.passed);
        error = new ApiError(
          'CONFLICT',
          `The restored copy differs from the backup at ${at}: ${failed
            .map((c) => `${c.title}: ${c.findings[0] ?? 'failed'}`)
            .join(' ')}`,
          { reason: 'validation-failed', failedChecks: failed.map((c) => c.name) },
        );
      }
    } catch (err) {
      // Driver failures (the target went away mid-restore) in the words `source test` uses.
      error = err instanceof ApiError ? err : toSourceError(err);
    } finally {
      // Dropped whatever happened, cancelled included; with the scratch copies of interrupted tests.
      if (target) {
        ctx.progress({ message: 'dropping the scratch databases' });
        // A cancel (the app quitting included) does not wait long for a target that is away.
        const retry = run.dropRetryMs ?? DROP_RETRY_MS;
        scratch = await dropScratch(
          target.client,
          [prefix, ...leftovers],
          ctx.signal.aborted ? Math.min(retry, 2000) : retry,
        );
        await target.close().catch(() => undefined);
      }
      active.delete(row.id);
    }
    if (!error && scratch.leftOver.length)
      error = new ApiError(
        'UNREACHABLE',
        `The test passed but its scratch databases could not be dropped: ${scratch.leftOver.join(', ')}.`,
        { reason: 'scratch-left-over' },
      );
    const state = !error ? 'succeeded' : error.code === 'CANCELLED' ? 'cancelled' : 'failed';
    finishRestore(db, id, state, {
      ...recorded,
      scratch: { prefix, ...scratch },
      report: { ...report, scratch: { prefix, ...scratch } },
      ...(error ? { error: error.toJSON() } : {}),
    } satisfies RestoreTestDetails);
    audit(db, {
      actor: run.actor,
      action: 'restore-test.finish',
      target: row.name,
      outcome: state === 'succeeded' ? 'done' : 'failed',
      details: {
        restoreId: id,
        state,
        rtoMs: (report.rto as { totalMs?: number } | undefined)?.totalMs ?? null,
        dropped: scratch.dropped.length,
        leftOver: scratch.leftOver,
        ...(error ? { error: error.message } : {}),
      },
    });
    if (state === 'succeeded') resolveAlerts(db, row.id, 'RESTORE_TEST_FAILED');
    else if (state === 'failed')
      raiseAlert(db, deps.events, {
        sourceId: row.id,
        kind: 'RESTORE_TEST_FAILED',
        severity: 'critical',
        message: `The restore test of ${row.name} (${at}) failed: ${error!.message}${
          scratch.leftOver.length
            ? ` Scratch databases left on the target: ${scratch.leftOver.join(', ')}.`
            : ''
        }`,
      });
    if (error) throw error;
    return {
      restoreId: id,
      passed: true,
      point: at,
      replayedThrough: formatOpTime(chosen!.plan.bound),
      ...report,
      scratch: { prefix, ...scratch },
    };
  });
}
