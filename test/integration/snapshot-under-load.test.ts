/**
 * A snapshot taken while the workload writes (inserts, $v:2 updates,
 * replacements, deletes, transactions logged as partialTxn chains, index
 * builds on the non-empty collection, changes to the big collection being
 * read) and while a prepared transaction is open, committed during the
 * snapshot: the state rebuilt from the backup at consistentTs and at 20
 * random points after it must equal what the source held at that instant,
 * byte for byte (raw BSON: types, field order). A rename during a snapshot
 * fails it with a typed reason, as mongodump --oplog refuses it.
 * Runs against the stand-in or a real server (MONGOD_BINARY / MONGODB_URI).
 */
import { Timestamp, type Document } from 'bson';
import { type MongoClient } from 'mongodb';
import { afterAll, describe, expect, it } from 'vitest';
import { capturingEngine } from '../support/capturing-engine.js';
import { dispatch } from '../../engine/api/dispatch.js';
import { type Engine } from '../../engine/engine.js';
import { planRestore } from '../../engine/restore/planner.js';
import { compareOpTime, type OpTime } from '../../engine/repo/optime.js';
import { buildOfflineState } from '../../engine/restore/offline-state.js';
import { waitUntilCaptured } from '../support/capture-wait.js';
import { MONGO_KIND, uniqueDb, withMongo } from '../support/with-mongo.js';
import { Workload, rawDifferences, rawState, type RawInstant } from '../support/workload.js';
import { refRawState, referenceRebuild } from '../support/reference-replay.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(uri: string) {
  const env = await capturingEngine(uri, 'mbm-load-');
  cleanups.push(() => env.close());
  return env;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const asTs = (o: OpTime) => new Timestamp({ t: o.t, i: o.i });

/** Starts a snapshot task; resolves once it copies documents (or after `ms`, whichever comes first). */
async function startSnapshot(engine: Engine): Promise<string> {
  const res = await dispatch(engine, 'snapshot.take', { source: 'rs', parallel: 1 });
  if (!res.ok) throw new Error(res.error.message);
  const taskId = (res.result as { taskId: string }).taskId;
  const until = Date.now() + 500;
  while (engine.tasks.get(taskId).progress.done === 0 && Date.now() < until) await sleep(2);
  return taskId;
}

/** Oplog entries in (after, upTo] that change the state (not no-ops, not the open parts of a transaction chain). */
async function stateChangesBetween(client: MongoClient, after: OpTime, upTo: OpTime): Promise<Document[]> {
  const entries = await client
    .db('local')
    .collection('oplog.rs')
    .find({ ts: { $gt: asTs(after), $lte: asTs(upTo) } })
    .toArray();
  return entries.filter((e) => {
    if (e.op === 'n') return false;
    const o = (e.o ?? {}) as Document;
    return !(o.partialTxn === true || o.prepare === true || o.startIndexBuild !== undefined);
  });
}

interface Scenario {
  engine: Engine;
  sourceId: string;
  dbName: string;
  snapshotId: string;
  startTs: OpTime;
  consistentTs: OpTime;
  prepareTs: OpTime;
  /** Workload writes between startTs and consistentTs. */
  changesDuring: number;
  /** The source's state standing for consistentTs, and at 20 random points after it. */
  atConsistent: RawInstant;
  after: RawInstant[];
}

let scenario: Promise<Scenario> | null = null;

/**
 * Runs once for the tests below: capture on, a transaction prepared, a snapshot
 * started, the transaction committed, the workload writing until the snapshot
 * ends, then 200 more steps with 20 instants recorded at random.
 */
function runScenario(): Promise<Scenario> {
  scenario ??= withMongo(
    async ({ uri }) => {
      const { engine, row, client } = await setup(uri);
      const dbName = uniqueDb('load');
      const w = new Workload(client, dbName, { seed: 11, renames: false, bulk: 'bulk', bulkSize: 8000 });
      await w.fillBulk();
      await client.db(dbName).createCollection('held');
      for (let k = 0; k < 30; k++) await w.step();
      const capture = await engine.capture.start(row);
      for (let k = 0; k < 100 && capture.metrics.state !== 'capturing'; k++) await sleep(50);

      // Recorded before the prepare: on mongod a read of the prepared documents waits for the commit.
      const during: RawInstant[] = [await w.recordRawInstant()];
      // A transaction prepared before the snapshot starts and committed while it reads: its
      // operations are in an entry older than the snapshot's first read.
      const held = client.startSession();
      held.startTransaction();
      await client
        .db(dbName)
        .collection('held')
        .insertMany(
          [
            { _id: 'h1' as never, v: 1 },
            { _id: 'h2' as never, v: 2 },
          ],
          { session: held },
        );
      const prepared = await client.db('admin').command({ prepareTransaction: 1 }, { session: held });
      const prepareTs = prepared.prepareTimestamp as Timestamp;

      const taskId = await startSnapshot(engine);
      await client
        .db('admin')
        .command({ commitTransaction: 1, commitTimestamp: prepareTs }, { session: held });
      await held.endSession().catch(() => undefined);
      while (engine.tasks.get(taskId).state === 'running') {
        await w.step();
        during.push(await w.recordRawInstant());
      }
      const task = await engine.tasks.wait(taskId);
      if (task.state !== 'succeeded') throw new Error(`snapshot failed: ${JSON.stringify(task.error)}`);
      const { snapshotId, consistentTs } = task.result as { snapshotId: string; consistentTs: OpTime };

      const points = new Set<number>();
      while (points.size < 20) points.add(Math.floor(Math.random() * 200));
      const after: RawInstant[] = [];
      for (let k = 0; k < 200; k++) {
        await w.step();
        if (points.has(k)) after.push(await w.recordRawInstant());
      }
      await waitUntilCaptured(capture, client);
      await engine.capture.stop(row.id);

      const plan = planRestore(engine.catalog, row.id, { kind: 'ts', ts: consistentTs });
      if (!plan.ok) throw new Error(JSON.stringify(plan));
      const startTs = plan.snapshot.startTs;
      // consistentTs may fall inside a step of several entries, whose middle no reader saw: then
      // the first instant after it stands for it (rebuilt at its own ts).
      const last = [...during].reverse().find((i) => compareOpTime(i.ts, consistentTs) <= 0)!;
      const unchanged = (await stateChangesBetween(client, last.ts, consistentTs)).length === 0;
      const atConsistent = unchanged
        ? { ...last, ts: consistentTs }
        : [...during, ...after].find((i) => compareOpTime(i.ts, consistentTs) >= 0)!;
      return {
        engine,
        sourceId: row.id,
        dbName,
        snapshotId,
        startTs,
        consistentTs,
        prepareTs: { t: prepareTs.high, i: prepareTs.low },
        changesDuring: (await stateChangesBetween(client, startTs, consistentTs)).length,
        atConsistent,
        after,
      };
    },
    { txnSplitBytes: 400 },
  );
  return scenario;
}

async function plan(s: Scenario, ts: OpTime) {
  const p = planRestore(s.engine.catalog, s.sourceId, { kind: 'ts', ts });
  if (!p.ok) throw new Error(JSON.stringify(p));
  expect(p.snapshot.id).toBe(s.snapshotId);
  return { plan: p, repo: (await s.engine.stores.get()).repo };
}

describe(`snapshot under load (${MONGO_KIND})`, () => {
  it('holds everything needed: its range starts before the open prepared transaction, and a reference replay of the backup gives the source raw state at consistentTs and at 20 random points after it', async () => {
    const s = await runScenario();
    expect(compareOpTime(s.startTs, s.prepareTs)).toBeLessThan(0);
    expect(s.changesDuring).toBeGreaterThan(2); // the workload really wrote while the snapshot read
    expect(s.after).toHaveLength(20);
    for (const inst of [s.atConsistent, ...s.after]) {
      const { plan: p, repo } = await plan(s, inst.ts);
      expect(
        rawDifferences(refRawState(await referenceRebuild(repo, p), s.dbName), inst),
        `at ${inst.ts.t}:${inst.ts.i}`,
      ).toEqual([]);
    }
  });

  it('is rebuilt by the engine (engine/restore/offline-state.ts) into the source raw state at consistentTs and at 20 random points after it, byte for byte', async () => {
    const s = await runScenario();
    for (const inst of [s.atConsistent, ...s.after]) {
      const { plan: p, repo } = await plan(s, inst.ts);
      expect(
        rawDifferences(rawState(await buildOfflineState(repo, p), s.dbName), inst),
        `at ${inst.ts.t}:${inst.ts.i}`,
      ).toEqual([]);
    }
  });

  it('fails with a typed CONFLICT (RENAME_DURING_SNAPSHOT) when a collection is renamed while the snapshot reads, and leaves nothing', async () => {
    await withMongo(async ({ uri }) => {
      const { engine, client } = await setup(uri);
      const dbName = uniqueDb('rename');
      const w = new Workload(client, dbName, { seed: 3, renames: false, bulk: 'bulk', bulkSize: 20_000 });
      await w.fillBulk();
      await client.db(dbName).collection('scratch').insertOne({ k: 1 });
      const taskId = await startSnapshot(engine);
      await client.db(dbName).collection('scratch').rename('scratch_renamed');
      const task = await engine.tasks.wait(taskId);
      expect(task.state).toBe('failed');
      expect(task.error).toMatchObject({
        code: 'CONFLICT',
        details: {
          reason: 'RENAME_DURING_SNAPSHOT',
          from: `${dbName}.scratch`,
          to: `${dbName}.scratch_renamed`,
        },
      });
      expect(task.error!.message).toContain('renamed');
      expect(engine.catalog.prepare('SELECT count(*) FROM snapshots').pluck().get()).toBe(0);
    });
  });
});
