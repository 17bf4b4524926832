/**
 * A consistent logical snapshot (DESIGN.md rule 1): `startTs` is the newest
 * oplog entry before the first read (before the oldest open transaction's
 * first entry when one is open), `consistentTs` the newest after the last
 * read; replaying the oplog between them over the copied data gives the
 * state at `consistentTs` (what `mongodump --oplog` does). A rename, an
 * importCollection or an admin.system.version change in between fails the
 * snapshot with the reason (snapshot-oplog.ts). Documents are
 * streamed as raw BSON from the driver into the repository, a few collections
 * at a time, never holding a collection in memory.
 */
import type { Document, MongoClient, Timestamp } from 'mongodb';
import { ApiError } from '../errors.js';
import type { TaskContext } from '../tasks/task-runner.js';
import { compareOpTime, type OpTime } from '../repo/optime.js';
import type { NamespaceMeta, SnapshotManifest } from '../repo/snapshot-files.js';
import type { BackupStore } from '../store/backup-store.js';
import { toSourceError } from '../mongo/connect.js';
import { assertNoSnapshotConflict, snapshotStartTs } from './snapshot-oplog.js';
import { EJSON } from 'bson';
import { StoppedByOtherWorker, runWorkers } from '../run-workers.js';

export interface SnapshotOptions {
  /** Collections copied at the same time. */
  parallel?: number;
  /** Include admin.system.users and admin.system.roles. */
  includeUsers?: boolean;
  /** Only these namespaces (`db.collection` or `db.*`); all when absent. */
  namespaces?: string[];
  /** Schedule tiers this snapshot is taken for (recorded in the manifest). */
  tiers?: string[];
}

const SKIP_DBS = new Set(['local', 'config', 'admin']);
const SKIP_COLLECTIONS = new Set(['system.profile', 'system.views', 'system.sessions']);

const toOpTime = (ts: Timestamp): OpTime => ({ t: ts.high, i: ts.low });
const canonical = (v: unknown) =>
  JSON.parse(EJSON.stringify(v, { relaxed: false })) as Record<string, unknown>;

export async function newestOplogTs(client: MongoClient): Promise<OpTime | null> {
  const [last] = await client
    .db('local')
    .collection('oplog.rs')
    .find({}, { projection: { ts: 1 } })
    .sort({ $natural: -1 })
    .limit(1)
    .toArray();
  return last ? toOpTime(last.ts as Timestamp) : null;
}

const BUCKETS_PREFIX = 'system.buckets.';

/** Selected namespaces; a time-series collection brings its buckets collection with it. */
function wanted(filters: string[] | undefined, db: string, coll: string): boolean {
  if (!filters?.length) return true;
  const own = coll.startsWith(BUCKETS_PREFIX) ? coll.slice(BUCKETS_PREFIX.length) : coll;
  return filters.some((f) => f === `${db}.${coll}` || f === `${db}.${own}` || f === `${db}.*`);
}

interface Planned {
  meta: NamespaceMeta;
  estimate: number;
}

export async function takeSnapshot(
  client: MongoClient,
  store: BackupStore,
  sourceId: string,
  opts: SnapshotOptions,
  ctx?: TaskContext,
): Promise<SnapshotManifest> {
  const admin = client.db('admin');
  let hello: Document;
  let serverVersion: string;
  try {
    hello = await admin.command({ hello: 1 });
    serverVersion = String((await admin.command({ buildInfo: 1 })).version);
  } catch (err) {
    throw toSourceError(err);
  }
  const replicaSet = !!hello.setName;
  // startTs: the newest oplog entry before the first read, or before the oldest open
  // transaction's first entry (a standalone has no oplog).
  let startTs: OpTime;
  try {
    startTs = replicaSet
      ? await snapshotStartTs(client, (await newestOplogTs(client)) ?? { t: 0, i: 0 })
      : { t: Math.floor(Date.now() / 1000), i: 0 };
  } catch (err) {
    throw toSourceError(err);
  }
  const relevant = (ns: string) => {
    const dot = ns.indexOf('.');
    return dot > 0 && wanted(opts.namespaces, ns.slice(0, dot), ns.slice(dot + 1));
  };
  const writer = store.beginSnapshot({ sourceId, startTs, serverVersion, tiers: opts.tiers ?? [] });
  try {
    const plan: Planned[] = [];
    const dbs = (await admin.command({ listDatabases: 1, nameOnly: true })).databases as { name: string }[];
    for (const { name: db } of dbs) {
      if (SKIP_DBS.has(db)) continue;
      const listed = await client.db(db).listCollections().toArray();
      const names = new Set(listed.map((c) => c.name as string));
      for (const c of listed) {
        const name = c.name as string;
        if (SKIP_COLLECTIONS.has(name) || !wanted(opts.namespaces, db, name)) continue;
        const type =
          (c.type as string) === 'view'
            ? 'view'
            : (c.type as string) === 'timeseries'
              ? 'timeseries'
              : 'collection';
        const info = (c as { info?: { uuid?: { toHexString?: () => string } } }).info;
        const meta: NamespaceMeta = {
          db,
          name,
          type,
          uuid: info?.uuid?.toHexString ? info.uuid.toHexString() : null,
          options: canonical((c as { options?: unknown }).options ?? {}),
          indexes:
            type === 'view'
              ? []
              : (await client.db(db).collection(name).listIndexes().toArray()).map(canonical),
        };
        // A time-series collection's data is its buckets collection (copied as a collection, as
        // mongodump does, so that the oplog's bucket writes replay onto it); the time-series
        // entry keeps the definition. Without a listed buckets collection, copy the measurements.
        if (type === 'view' || (type === 'timeseries' && names.has(`${BUCKETS_PREFIX}${name}`)))
          writer.addWithoutData(meta);
        else
          plan.push({
            meta,
            estimate: await client
              .db(db)
              .collection(name)
              .estimatedDocumentCount()
              .catch(() => 0),
          });
      }
    }
    const total = plan.reduce((n, p) => n + p.estimate, 0);
    let docs = 0;
    let bytes = 0;
    let nsDone = 0;
    const started = Date.now();
    const report = (message: string) => {
      const secs = Math.max(0.001, (Date.now() - started) / 1000);
      const rate = docs / secs;
      ctx?.progress({
        done: docs,
        total: Math.max(total, docs),
        unit: 'documents',
        message: `${message} · ${nsDone}/${plan.length} collections · ${(bytes / 1e6).toFixed(1)} MB · ${Math.round(rate)} docs/s${rate > 0 && total > docs ? ` · ETA ${Math.round((total - docs) / rate)} s` : ''}`,
      });
    };

    const queue = [...plan];
    const worker = async (stopped: () => boolean) => {
      for (let p = queue.shift(); p; p = queue.shift()) {
        ctx?.throwIfCancelled();
        if (stopped()) throw new StoppedByOtherWorker();
        const cw = await writer.collection(p.meta);
        try {
          const cursor = client
            .db(p.meta.db)
            .collection(p.meta.name)
            .find({}, { raw: true, batchSize: 1000 });
          for await (const doc of cursor) {
            // Another worker failed: the snapshot is aborted, nothing more is written into it.
            if (stopped()) throw new StoppedByOtherWorker();
            await cw.write(doc as unknown as Uint8Array);
            docs++;
            bytes += (doc as unknown as Uint8Array).byteLength;
            if (docs % 2000 === 0) {
              ctx?.throwIfCancelled();
              report(`Copying ${p.meta.db}.${p.meta.name}`);
            }
          }
          writer.add(await cw.close());
          nsDone++;
          report(`Copied ${p.meta.db}.${p.meta.name}`);
        } catch (err) {
          await cw.abort();
          throw err;
        }
      }
    };
    // Every worker stopped (and its collection file aborted) before the snapshot fails.
    await runWorkers(Math.min(opts.parallel ?? 2, 8), worker);

    // Raw BSON, as the server holds them: they go into data files (encrypted like any collection).
    let users: Uint8Array[] | null = null;
    let roles: Uint8Array[] | null = null;
    if (opts.includeUsers) {
      const raw = (name: string) =>
        admin.collection(name).find({}, { raw: true }).toArray() as unknown as Promise<Uint8Array[]>;
      users = await raw('system.users');
      roles = await raw('system.roles');
    }
    const consistentTs = replicaSet ? ((await newestOplogTs(client)) ?? startTs) : startTs;
    if (compareOpTime(consistentTs, startTs) < 0)
      throw new ApiError(
        'CONFLICT',
        'The source oplog went backwards during the snapshot (a rollback?); try again.',
      );
    if (replicaSet) await assertNoSnapshotConflict(client, startTs, consistentTs, relevant);
    ctx?.throwIfCancelled();
    return await store.commitSnapshot(writer, { consistentTs, users, roles });
  } catch (err) {
    // A failed or cancelled snapshot leaves no trace (no manifest, no files).
    await writer.abort();
    // A read that failed because a collection was renamed under it reports the rename.
    if (replicaSet && !(err instanceof ApiError))
      await assertNoSnapshotConflict(client, startTs, null, relevant).catch((conflict: unknown) => {
        if (conflict instanceof ApiError && conflict.code === 'CONFLICT') throw conflict;
      });
    throw err instanceof ApiError ? err : toSourceError(err);
  }
}
