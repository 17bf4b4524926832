/**
 * Restore of a plan (snapshot + oplog range) into a MongoDB deployment, the
 * "new target" method: refuse (or, when asked, drop) target collections that
 * already hold data, leave a marker naming the restore until it is complete,
 * create the collections with their options, copy the snapshot's documents
 * (raw BSON, parallel collections, per-document failures counted), build the
 * indexes, then replay the oplog through the replay core with mongorestore's
 * rules (mongo-apply.ts sends it). Each phase is timed: the report carries
 * the measured recovery time.
 */
import { EJSON, serialize, type Document } from 'bson';
import { MongoBulkWriteError, MongoServerError, type MongoClient } from 'mongodb';
import type { Plan } from './planner.js';
import { ApiError } from '../errors.js';
import { toDriverDocument, withoutNs } from '../mongo/driver-document.js';
import type { NamespaceFilter } from '../oplog/namespace-selection.js';
import { T, asBuffer, field, readString } from '../oplog/bson-raw.js';
import { compareOpTime, formatOpTime, type OpTime } from '../repo/optime.js';
import type { Repository } from '../repo/repository.js';
import { readEntryTs } from '../repo/bson-entries.js';
import { readSegment } from '../repo/segment-file.js';
import { readCollection, readManifest, type NamespaceEntry } from '../repo/snapshot-files.js';
import type { TaskContext } from '../tasks/task-runner.js';
import { MongoApplier, type ApplyFailure } from './mongo-apply.js';
import { NamespaceStates } from './namespace-states.js';
import { OfflineState, seedUsersAndRoles } from './offline-state.js';
import { OplogReplay, type ReplayReport } from './replay.js';
import type { EffectiveOp, ReplaySink } from './effective-op.js';
import { readUsersAndRoles } from '../repo/snapshot-files.js';
import {
  AuthzOnly,
  ROLES_NS,
  USERS_NS,
  authzDatabaseMap,
  mapAuthzDocuments,
  restoreUsersAndRoles,
  type AuthzRestoreReport,
} from './users-roles.js';
import { StoppedByOtherWorker, runWorkers } from '../run-workers.js';

/** Left in each target database while a restore runs; its document names the restore. */
export const INCOMPLETE_MARKER = '__mbm_restore_incomplete';
const INSERT_BATCH_DOCS = 1_000;
const INSERT_BATCH_BYTES = 8 * 1024 * 1024;
const SYSTEM_DBS = new Set(['admin', 'local', 'config']);
const BUCKETS = 'system.buckets.';

export interface MongoRestoreRequest {
  restoreId: string;
  sourceName: string;
  point: string;
  repo: Repository;
  plan: Extract<Plan, { ok: true }>;
  client: MongoClient;
  selection: NamespaceFilter;
  /** Drop target collections that exist first; otherwise a non-empty one refuses the restore. */
  drop: boolean;
  /** The first per-document failure ends the restore. */
  strict: boolean;
  /** Collections copied at once. */
  parallel: number;
  writeConcern?: Document;
  /** Also restore the users and roles of the restored databases, at the point (users-roles.ts). */
  usersRoles?: boolean;
  /**
   * Filled as the restore goes: each target namespace's state (untouched, dropped, partially restored,
   * restored), which the caller reports when the restore fails midway.
   */
  states?: NamespaceStates;
  ctx: TaskContext;
}

export interface NamespaceResult {
  source: string;
  target: string;
  type: string;
  documents: number;
  failures: number;
}

export interface MongoRestoreReport {
  restoreId: string;
  snapshotId: string;
  replayedThrough: string;
  namespaces: NamespaceResult[];
  oplog: { entries: number; operations: number; failures: number };
  failures: { count: number; examples: ApplyFailure[] };
  replay: ReplayReport;
  /** Milliseconds per phase (the measured recovery time is their sum), and this process's CPU in each. */
  phases: { name: string; ms: number; engineCpuMs: number }[];
  durationMs: number;
  /** Users and roles restored (when asked for). */
  usersRoles?: AuthzRestoreReport;
}

const [dbOf, collOf] = [
  (ns: string) => ns.slice(0, ns.indexOf('.')),
  (ns: string) => ns.slice(ns.indexOf('.') + 1),
];

/** Canonical Extended JSON (as manifests keep metadata) to a driver value with exact types. */
const fromManifest = (v: Record<string, unknown>): Document =>
  toDriverDocument(Buffer.from(serialize(EJSON.deserialize(v, { relaxed: false }) as Document)));

/**
 * Where a source namespace goes: null when not restored. A time-series
 * collection's buckets follow their collection (selected and renamed by its name).
 */
export function targetOf(selection: NamespaceFilter, ns: string): string | null {
  const db = dbOf(ns);
  if (SYSTEM_DBS.has(db) || collOf(ns).startsWith(INCOMPLETE_MARKER)) return null;
  const coll = collOf(ns);
  if (coll.startsWith(BUCKETS)) {
    const parent = `${db}.${coll.slice(BUCKETS.length)}`;
    const to = targetOf(selection, parent);
    return to ? `${dbOf(to)}.${BUCKETS}${collOf(to)}` : null;
  }
  if (coll.startsWith('system.')) return null;
  return selection.keeps(ns) ? selection.rename(ns) : null;
}

export async function restoreToMongo(req: MongoRestoreRequest): Promise<MongoRestoreReport> {
  const started = performance.now();
  const phases: { name: string; ms: number; engineCpuMs: number }[] = [];
  const phase = async <R>(name: string, work: () => Promise<R>): Promise<R> => {
    const t0 = performance.now();
    // This process's CPU in the phase: the rest of the wall time is spent waiting on the target.
    const cpu0 = process.cpuUsage();
    req.ctx.progress({ message: name });
    try {
      return await work();
    } catch (err) {
      throw toTargetError(err); // a server's refusal in the restore's words, never INTERNAL
    } finally {
      const cpu = process.cpuUsage(cpu0);
      phases.push({
        name,
        ms: Math.round(performance.now() - t0),
        engineCpuMs: Math.round((cpu.user + cpu.system) / 1000),
      });
    }
  };
  const { client, ctx } = req;
  const manifest = await readManifest(req.repo, req.plan.snapshot.path);
  const chosen = manifest.namespaces
    .map((n) => ({ n, target: targetOf(req.selection, n.ns) }))
    .filter((x): x is { n: NamespaceEntry; target: string } => x.target !== null);
  const states = req.states ?? new NamespaceStates();
  for (const c of chosen) states.add(c.n.ns, c.target);

  // Users and roles at the point: checked before anything is written (a snapshot without them, or a
  // database whose collections are renamed into several databases, refuses the restore).
  let authz: { state: OfflineState; dbOf: (db: string) => string | null } | null = null;
  if (req.usersRoles) {
    if (!manifest.users && !manifest.roles)
      throw new ApiError(
        'CONFLICT',
        `Snapshot ${req.plan.snapshot.id} was taken without users and roles; restore without them.`,
        { reason: 'NO_USERS_ROLES' },
      );
    const { users, roles } = await readUsersAndRoles(req.repo, req.plan.snapshot.path, manifest);
    const state = new OfflineState();
    seedUsersAndRoles(state, users, roles);
    const map = authzDatabaseMap(
      req.selection,
      chosen.map((c) => ({ source: c.n.ns, target: c.target })),
    );
    for (const db of new Set(manifest.namespaces.map((n) => dbOf(n.ns)))) map(db);
    authz = { state, dbOf: map };
  }

  await phase('checking the target', () =>
    preflight(
      req,
      chosen.map((c) => c.target),
      states,
    ),
  );
  const targetDbs = [...new Set(chosen.map((c) => dbOf(c.target)))];
  await phase('marking the restore as incomplete', async () => {
    for (const db of targetDbs)
      await client
        .db(db)
        .collection(INCOMPLETE_MARKER)
        .replaceOne(
          { _id: req.restoreId as never },
          { source: req.sourceName, point: req.point, startedAt: new Date() },
          { upsert: true },
        );
  });

  await phase('creating collections', async () => {
    // Collections and time-series first, views last (a view names its source).
    const order = (t: string) => (t === 'view' ? 1 : 0);
    for (const { n, target } of [...chosen].sort((a, b) => order(a.n.type) - order(b.n.type))) {
      if (collOf(target).startsWith(BUCKETS)) continue; // made by its time-series collection
      try {
        await client.db(dbOf(target)).command({ create: collOf(target), ...fromManifest(n.options) });
        states.set(target, 'partially restored', 'created');
      } catch (err) {
        // 48 NamespaceExists: an empty collection of that name was already there (a non-empty one was refused).
        if (!(err instanceof MongoServerError && err.code === 48)) throw toTargetError(err);
      }
      ctx.throwIfCancelled();
    }
  });

  const results: NamespaceResult[] = chosen.map(({ n, target }) => ({
    source: n.ns,
    target,
    type: n.type,
    documents: 0,
    failures: 0,
  }));
  const failureExamples: ApplyFailure[] = [];
  const totalDocs = chosen.reduce((s, c) => s + (c.n.file ? c.n.count : 0), 0);
  let docsDone = 0;
  await phase('copying documents', async () => {
    const queue = chosen.map((c, k) => ({ ...c, result: results[k]! })).filter((c) => c.n.file);
    const worker = async (stopped: () => boolean) => {
      for (let job = queue.shift(); job; job = queue.shift()) {
        const coll = client.db(dbOf(job.target)).collection(collOf(job.target));
        let batch: Document[] = [];
        let bytes = 0;
        const send = async () => {
          // Another worker failed or saw the cancel: nothing more is written.
          if (stopped()) throw new StoppedByOtherWorker();
          if (!batch.length) return;
          const docs = batch;
          batch = [];
          bytes = 0;
          const failed = await insertBatch(coll, docs, req, failureExamples, job.n.ns);
          job.result.documents += docs.length - failed;
          job.result.failures += failed;
          states.set(
            job.target,
            'partially restored',
            `${job.result.documents} of ${job.n.count} documents copied`,
          );
          docsDone += docs.length;
          ctx.progress({ done: docsDone, total: totalDocs, unit: 'documents' });
          ctx.throwIfCancelled();
        };
        for await (const raw of readCollection(req.repo, req.plan.snapshot.path, job.n)) {
          batch.push(toDriverDocument(asBuffer(raw)));
          bytes += raw.length;
          if (batch.length >= INSERT_BATCH_DOCS || bytes >= INSERT_BATCH_BYTES) await send();
        }
        await send();
      }
    };
    // Every worker stopped before the restore fails: its caller may drop what was written.
    await runWorkers(req.parallel, worker);
  });

  await phase('building indexes', async () => {
    for (const { n, target } of chosen) {
      if (n.type === 'view') continue;
      const indexes = n.indexes.map(fromManifest).filter((ix) => nameOf(ix) !== '_id_');
      const copied = () =>
        states.set(
          target,
          'partially restored',
          `snapshot copied (${n.file ? n.count : 0} documents, ${indexes.length} indexes); oplog not yet replayed`,
        );
      if (!indexes.length) {
        copied();
        continue;
      }
      const coll = collOf(target);
      try {
        await client.db(dbOf(target)).command({
          createIndexes: coll,
          indexes: indexes.map(withoutNs),
          ...(req.writeConcern ? { writeConcern: req.writeConcern } : {}),
        });
      } catch (err) {
        if (!(err instanceof MongoServerError) || req.strict) throw err;
        const r = results.find((x) => x.target === target)!;
        r.failures++;
        if (failureExamples.length < 10)
          failureExamples.push({
            ts: '',
            ns: n.ns,
            op: 'createIndexes',
            code: numeric(err.code),
            message: err.message,
          });
      }
      copied();
      ctx.throwIfCancelled();
    }
  });

  const applier = new MongoApplier(
    client,
    (ns) => targetOf(req.selection, ns),
    (db) => !SYSTEM_DBS.has(db) && req.selection.keepsDb(db),
    { strict: req.strict, ...(req.writeConcern ? { writeConcern: req.writeConcern } : {}) },
  );
  // With users and roles, their writes in the oplog (createUser, grantRolesToUser… are CRUD on
  // admin.system.*) go to the users-and-roles state too; the applier skips admin.* itself.
  const authzSink = authz ? new AuthzOnly(authz.state) : null;
  const sink: ReplaySink = authzSink
    ? {
        apply(op: EffectiveOp) {
          applier.apply(op);
          authzSink.apply(op);
        },
      }
    : applier;
  const replay = new OplogReplay(sink, { usersAndRoles: !!authz });
  let entries = 0;
  let replayedTo: OpTime | null = null;
  await phase('replaying the oplog', async () => {
    const from: OpTime = req.plan.snapshot.startTs;
    const totalEntries = req.plan.segments.reduce((s, g) => s + g.count, 0);
    let last: OpTime | null = null;
    const replayState = () => {
      // Collections the oplog created (or renamed into) are written by the replay too.
      for (const [target, source] of applier.touched) if (!states.has(target)) states.add(source, target);
      states.setAll(
        'partially restored',
        `snapshot copied; oplog replayed through ${replayedTo ? formatOpTime(replayedTo) : 'nothing yet'} of ${formatOpTime(req.plan.bound)}`,
      );
    };
    replayState();
    outer: for (const seg of req.plan.segments) {
      const { entries: raws } = await readSegment(req.repo, seg.path);
      for (const raw of raws) {
        const ts = readEntryTs(raw);
        if (compareOpTime(ts, from) <= 0) continue;
        if (compareOpTime(ts, req.plan.bound) > 0) break outer;
        if (last && compareOpTime(ts, last) <= 0)
          throw new ApiError('CORRUPT', 'Oplog entries out of order across segments.');
        last = ts;
        replay.push(asBuffer(raw));
        entries++;
        replayedTo = ts;
        if (applier.full) await applier.flush();
      }
      await applier.flush();
      replayState();
      ctx.progress({ done: entries, total: totalEntries, unit: 'oplog entries' });
      ctx.throwIfCancelled();
    }
    await applier.flush();
  });
  states.setAll('restored', `restored to ${formatOpTime(req.plan.bound)}`);

  let usersRoles: AuthzRestoreReport | undefined;
  if (authz) {
    const a = authz;
    usersRoles = await phase('restoring users and roles', () => {
      const docsOf = (ns: string) => [...(a.state.get(ns)?.docs.values() ?? [])];
      const users = mapAuthzDocuments(docsOf(USERS_NS), 'users', a.dbOf);
      const roles = mapAuthzDocuments(docsOf(ROLES_NS), 'roles', a.dbOf);
      const dbs = new Set<string>(chosen.map((c) => dbOf(c.target)));
      for (const d of [...users, ...roles]) dbs.add(dbOfAuthz(d));
      return restoreUsersAndRoles(client, users, roles, [...dbs].sort(), req.drop, req.writeConcern);
    });
  }

  await phase('removing the incomplete marker', async () => {
    for (const db of targetDbs) await client.db(db).collection(INCOMPLETE_MARKER).drop().catch(ignoreMissing);
  });

  const replayReport = replay.report();
  const docFailures = results.reduce((s, r) => s + r.failures, 0);
  return {
    restoreId: req.restoreId,
    snapshotId: req.plan.snapshot.id,
    replayedThrough: formatOpTime(req.plan.bound),
    namespaces: results,
    oplog: { entries, operations: applier.counters.operations, failures: applier.counters.failures },
    failures: {
      count: docFailures + applier.counters.failures,
      examples: [...failureExamples, ...applier.counters.examples].slice(0, 10),
    },
    replay: replayReport,
    phases,
    durationMs: Math.round(performance.now() - started),
    ...(usersRoles ? { usersRoles } : {}),
  };
}

/** The `db` of a user or role document. */
function dbOfAuthz(doc: Buffer): string {
  const e = field(doc, 'db');
  return e && e.type === T.string ? readString(doc, e) : '';
}

/** Refuses target collections that hold data (listing them) unless asked to drop them. */
async function preflight(
  req: MongoRestoreRequest,
  targets: string[],
  states: NamespaceStates,
): Promise<void> {
  const occupied: string[] = [];
  for (const db of new Set(targets.map(dbOf))) {
    const existing = await req.client
      .db(db)
      .listCollections({}, { nameOnly: true })
      .toArray()
      .catch((err: unknown) => {
        throw toTargetError(err);
      });
    const names = new Set(existing.map((c) => c.name));
    for (const ns of targets.filter((t) => dbOf(t) === db && names.has(collOf(t)))) {
      if (req.drop) {
        await req.client
          .db(db)
          .command({ drop: collOf(ns) })
          .catch(ignoreMissing);
        states.set(ns, 'dropped', 'dropped before restoring');
        continue;
      }
      const count = await req.client.db(db).collection(collOf(ns)).estimatedDocumentCount();
      if (count > 0) occupied.push(`${ns} (${count} documents)`);
    }
  }
  if (occupied.length)
    throw new ApiError(
      'CONFLICT',
      `The target already holds data in ${occupied.join(', ')}. Restore into other names (--rename), or replace them with --drop.`,
      { namespaces: occupied },
    );
}

/** Inserts one batch; returns how many documents failed (duplicate keys, validation), or throws in strict mode. */
async function insertBatch(
  coll: ReturnType<ReturnType<MongoClient['db']>['collection']>,
  docs: Document[],
  req: MongoRestoreRequest,
  examples: ApplyFailure[],
  sourceNs: string,
): Promise<number> {
  try {
    await coll.insertMany(docs, {
      ordered: false,
      // The driver must not add an _id to a Map-decoded document; every snapshot document has its own.
      forceServerObjectId: true,
      // The documents were valid on the source; a restore puts them back as they were.
      bypassDocumentValidation: true,
      ...(req.writeConcern ? { writeConcern: req.writeConcern } : {}),
    });
    return 0;
  } catch (err) {
    if (!(err instanceof MongoBulkWriteError) || req.strict || connectionLost(err)) throw toTargetError(err);
    const errors = Array.isArray(err.writeErrors) ? err.writeErrors : [err.writeErrors];
    // A refusal of the whole batch (the server out of disk space, a write concern not met) is no
    // per-document failure: the batch was not written, so the restore cannot go on as if it were.
    if (errors.length === 0 || err.result.getWriteConcernError())
      throw new ApiError('UNAVAILABLE', `The target failed the restore: ${err.message}`, {
        code: numeric(err.code),
      });
    for (const w of errors)
      if (examples.length < 10)
        examples.push({ ts: '', ns: sourceNs, op: 'insert', code: numeric(w.code), message: w.errmsg ?? '' });
    return errors.length;
  }
}

const numeric = (c: unknown): number | null => (typeof c === 'number' ? c : null);
const nameOf = (ix: Document): unknown => (ix instanceof Map ? ix.get('name') : ix.name);

function ignoreMissing(err: unknown): void {
  if (err instanceof MongoServerError && err.code === 26) return;
  throw err;
}

/**
 * What the driver says when the connection went during a write (reset, refused, closed, no server
 * to select). A bulk write wraps even that in a MongoBulkWriteError, with no write error of its
 * own: the target is away, it did not refuse anything.
 */
const CONNECTION_LOST =
  /ECONNRESET|ECONNREFUSED|EPIPE|ETIMEDOUT|connection \S+ to \S+ closed|socket (hang up|disconnected)|Server selection timed out/i;

function connectionLost(err: MongoBulkWriteError): boolean {
  const writeErrors = Array.isArray(err.writeErrors) ? err.writeErrors : [err.writeErrors];
  return (
    writeErrors.filter(Boolean).length === 0 &&
    !err.result?.getWriteConcernError?.() &&
    CONNECTION_LOST.test(err.message)
  );
}

/** Target failures in the restore's words (read-only or unauthorized targets are common). */
export function toTargetError(err: unknown): unknown {
  if (err instanceof MongoBulkWriteError && connectionLost(err))
    return new ApiError('UNREACHABLE', `The target went away during the restore: ${err.message}`, {
      reason: 'connection-lost',
    });
  if (err instanceof MongoServerError) {
    if (err.code === 13) return new ApiError('AUTH_FAILED', `The target refused the restore: ${err.message}`);
    if (err.code === 10107 || err.code === 13435)
      return new ApiError('CONFLICT', `The target is not a writable primary: ${err.message}`);
    // Anything else the server refused (out of disk space, shutting down…): typed, with its code.
    return new ApiError('UNAVAILABLE', `The target failed the restore: ${err.message}`, {
      code: err.code ?? null,
    });
  }
  return err;
}
