/**
 * Continuous protection end to end: capture and snapshots while a workload
 * writes, then the state rebuilt from the backup (no server) must equal what
 * the workload saw at each recorded instant. Also: resume after faults
 * without a gap, and a detected, alerted gap when the oplog rolls over.
 */
import { Timestamp } from 'bson';
import { MongoClient } from 'mongodb';
import { afterEach, describe, expect, it } from 'vitest';
import { capturingEngine } from '../support/capturing-engine.js';
import { dispatch } from '../../engine/api/dispatch.js';
import { Engine } from '../../engine/engine.js';
import { listCoverage } from '../../engine/catalog/coverage.js';
import { planRestore } from '../../engine/restore/planner.js';
import { readSegment } from '../../engine/repo/segment-file.js';
import { readManifest, snapshotRelDir } from '../../engine/repo/snapshot-files.js';
import { buildOfflineState } from '../../engine/restore/offline-state.js';
import { runTask } from '../support/run-task.js';
import { FAULTS_SKIP_MESSAGE, MONGO_KIND, withMongo } from '../support/with-mongo.js';
import {
  Workload,
  canonicalState,
  rawDifferences,
  rawState,
  type Instant,
  type RawInstant,
} from '../support/workload.js';
import { waitUntilCaptured } from '../support/capture-wait.js';
import { refRawState, referenceRebuild } from '../support/reference-replay.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(uri: string) {
  const env = await capturingEngine(uri, 'mbm-capture-');
  cleanups.push(() => env.close());
  return env;
}

const waitFor = async (cond: () => boolean | Promise<boolean>, ms = 10_000) => {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
};

async function snapshotNow(engine: Engine) {
  const job = await runTask(engine, 'snapshot.take', { source: 'rs' });
  if (job.state !== 'succeeded') throw new Error(JSON.stringify(job.error));
  return job.result as { snapshotId: string; consistentTs: { t: number; i: number } };
}

describe(`continuous capture (${MONGO_KIND})`, () => {
  it('rebuilds, from snapshot + captured oplog, the exact state at 20 recorded instants of a live workload', async () => {
    await withMongo(async ({ uri }) => {
      const { engine, row } = await setup(uri);
      const client = new MongoClient(uri);
      cleanups.push(() => client.close());
      const w = new Workload(client, `wl_${Date.now()}`);
      await engine.capture.start(row);
      for (let k = 0; k < 30; k++) await w.step();
      const snap = await snapshotNow(engine);
      const instants: Instant[] = [];
      const raw: RawInstant[] = [];
      for (let k = 0; k < 400; k++) {
        await w.step();
        if (k % 20 === 19) {
          instants.push(await w.recordInstant());
          raw.push(await w.recordRawInstant());
        }
        if (k === 200) await snapshotNow(engine); // a second snapshot mid-way
      }
      await waitUntilCaptured(engine.capture.get(row.id)!, client);
      // Another process (here a CLI engine on the same data dir) sees the live capture through the catalog.
      engine.capture.persistMetrics();
      const cli = Engine.open({ dataDir: engine.dataDir, mode: 'cli', readOnly: true });
      const seen = await dispatch(cli, 'source.status', { source: 'rs' });
      await cli.close();
      expect(seen).toMatchObject({
        ok: true,
        result: { capture: { state: 'capturing', recoveryPointSeconds: expect.any(Number) } },
      });
      await engine.capture.stop(row.id);

      expect(instants).toHaveLength(20);
      // The workload really changed metadata between instants (an index came and went, collections were renamed).
      expect(instants.some((i) => Object.values(i.meta).some((m) => m.includes('status_1')))).toBe(true);
      expect(instants.some((i) => !Object.values(i.meta).some((m) => m.includes('status_1')))).toBe(true);
      expect(instants.some((i) => Object.keys(i.meta).some((k) => k.includes('.scratch_')))).toBe(true);
      const store = await engine.stores.get();
      const plans = instants.map((inst) => {
        const plan = planRestore(engine.catalog, row.id, { kind: 'ts', ts: inst.ts });
        if (!plan.ok) throw new Error(JSON.stringify(plan));
        expect(plan.snapshot.consistentTs.t).toBeGreaterThanOrEqual(snap.consistentTs.t);
        return plan;
      });
      // The backup holds everything: a reference replay (the tests' own applier) gives the source.
      for (const [k, plan] of plans.entries())
        expect(
          rawDifferences(refRawState(await referenceRebuild(store.repo, plan), w.db), raw[k]!),
          `reference at ${raw[k]!.ts.t}:${raw[k]!.ts.i}`,
        ).toEqual([]);
      // The engine's rebuild: every document as raw BSON (types, field order), every collection's
      // options and indexes.
      for (const [k, plan] of plans.entries()) {
        const offline = await buildOfflineState(store.repo, plan);
        expect(
          rawDifferences(rawState(offline, w.db), raw[k]!),
          `at ${raw[k]!.ts.t}:${raw[k]!.ts.i}`,
        ).toEqual([]);
        expect(canonicalState(offline, w.db).meta).toEqual(instants[k]!.meta);
      }
      const cov = listCoverage(engine.catalog, row.id);
      expect(cov.gaps).toEqual([]);
      expect(cov.intervals).toHaveLength(1);
    });
  });

  it('backs up a time-series collection as its definition plus its buckets, and replays bucket writes', async () => {
    await withMongo(async ({ uri }) => {
      const { engine, row } = await setup(uri);
      const client = new MongoClient(uri);
      cleanups.push(() => client.close());
      const db = client.db(`ts_${Date.now()}`);
      await db.createCollection('metrics', {
        timeseries: { timeField: 'at', metaField: 'host', granularity: 'seconds' },
      });
      const metrics = db.collection('metrics');
      const base = Date.UTC(2026, 10, 22, 10, 0, 0);
      const measure = (k: number, host: string) => ({ at: new Date(base + k * 1000), host, cpu: k % 97 });
      await metrics.insertMany(Array.from({ length: 40 }, (_, k) => measure(k, k % 2 ? 'db1' : 'db2')));
      const snap = await snapshotNow(engine);

      const store = await engine.stores.get();
      const manifest = await readManifest(store.repo, snapshotRelDir(row.id, snap.snapshotId));
      const byName = Object.fromEntries(manifest.namespaces.map((n) => [n.name, n]));
      expect(byName.metrics).toMatchObject({
        type: 'timeseries',
        file: null, // the definition; the data is in the buckets
        options: { timeseries: expect.objectContaining({ timeField: 'at', metaField: 'host' }) },
      });
      expect(byName['system.buckets.metrics']!.count).toBeGreaterThan(0);

      // After the snapshot: measurements into open buckets (bucket updates) and a new series (a new bucket).
      for (let k = 40; k < 70; k++) await metrics.insertOne(measure(k, k % 3 ? 'db1' : 'db3'));
      await waitUntilCaptured(engine.capture.get(row.id)!, client);
      const bucketWrites = await client
        .db('local')
        .collection('oplog.rs')
        .find({
          ns: `${db.databaseName}.system.buckets.metrics`,
          ts: { $gt: new Timestamp(snap.consistentTs) },
        })
        .toArray();
      // New buckets and measurements added to open ones.
      expect([...new Set(bucketWrites.map((e) => e.op as string))].sort()).toEqual(['i', 'u']);

      const plan = planRestore(engine.catalog, row.id, { kind: 'latest' });
      if (!plan.ok) throw new Error(plan.message);
      const rebuilt = await buildOfflineState(store.repo, plan);
      // Byte for byte: the rebuilt buckets against the server's own BSON.
      const hexes = (docs: Iterable<Uint8Array>) =>
        [...docs].map((d) => Buffer.from(d).toString('hex')).sort();
      const buckets = (await db
        .collection('system.buckets.metrics')
        .find({}, { raw: true })
        .toArray()) as unknown as Uint8Array[];
      expect(hexes(rebuilt.get(`${db.databaseName}.system.buckets.metrics`)!.docs.values())).toEqual(
        hexes(buckets),
      );
      expect(await metrics.countDocuments()).toBe(70);
      expect(rebuilt.has(`${db.databaseName}.metrics`)).toBe(false); // no data of its own
    });
  });

  it.skipIf(MONGO_KIND !== 'standin')(
    `resumes after dropped connections, refusals and a server restart without a gap ${MONGO_KIND !== 'standin' ? FAULTS_SKIP_MESSAGE : ''}`,
    async () => {
      await withMongo(async ({ uri, standin }) => {
        const { engine, row } = await setup(uri);
        const client = new MongoClient(uri, { retryWrites: true });
        cleanups.push(() => client.close());
        const coll = client.db('faulty').collection('x');
        const capture = await engine.capture.start(row);
        await waitFor(() => capture.metrics.state === 'capturing'); // a first start begins at the newest entry
        let n = 0;
        const write = async (k: number) => {
          for (let j = 0; j < k; j++) await coll.insertOne({ n: n++ }).catch(() => n--);
        };
        await write(20);
        // What capture reported while the faults lasted (a later resume clears lastError again).
        const errorsSeen = new Set<string>();
        const sampler = setInterval(() => {
          if (capture.metrics.lastError) errorsSeen.add(capture.metrics.lastError);
        }, 10);
        cleanups.push(() => clearInterval(sampler));
        standin!.faults.dropConnections();
        await write(20);
        await standin!.faults.refuseFor(300);
        await write(20);
        await standin!.faults.restart();
        await write(20);
        await waitUntilCaptured(capture, client);
        clearInterval(sampler);
        // Pause (as an in-place restore does), write, resume: no gap, nothing lost.
        expect(await dispatch(engine, 'capture.pause', { source: 'rs' })).toMatchObject({
          ok: true,
          result: { state: 'paused' },
        });
        await write(10);
        expect(await dispatch(engine, 'capture.resume', { source: 'rs' })).toMatchObject({ ok: true });
        await write(5);
        await waitUntilCaptured(capture, client);
        await engine.capture.stop(row.id);
        const cov = listCoverage(engine.catalog, row.id);
        expect(cov.gaps).toEqual([]);
        // Every insert was captured exactly once.
        const store = await engine.stores.get();
        const paths = engine.catalog
          .prepare('SELECT path FROM oplog_segments WHERE source_id = ? ORDER BY first_t, first_i')
          .pluck()
          .all(row.id) as string[];
        const seen = new Set<string>();
        let inserts = 0;
        for (const p of paths) {
          for (const e of (await readSegment(store.repo, p)).entries) {
            const key = Buffer.from(e).toString('hex');
            expect(seen.has(key)).toBe(false);
            seen.add(key);
            if (Buffer.from(e).includes(Buffer.from('faulty.x'))) inserts++;
          }
        }
        expect(inserts).toBe(n);
        expect(errorsSeen.size).toBeGreaterThan(0); // it did see the faults, and got over them
      });
    },
  );

  it.skipIf(MONGO_KIND !== 'standin')(
    'detects an oplog roll-over past the resume point: gap, PITR_GAP alert, new snapshot',
    async () => {
      await withMongo(async ({ uri, standin }) => {
        const { engine, row } = await setup(uri);
        const client = new MongoClient(uri);
        cleanups.push(() => client.close());
        const coll = client.db('roll').collection('x');
        await engine.capture.start(row);
        await snapshotNow(engine);
        for (let k = 0; k < 10; k++) await coll.insertOne({ k });
        await waitFor(() => (engine.capture.get(row.id)!.metrics.segmentsWritten ?? 0) > 0);
        await engine.capture.stop(row.id);
        for (let k = 0; k < 10; k++) await coll.insertOne({ k: 100 + k });
        // The oplog rolls over while capture is stopped: everything up to now is gone.
        const [last] = await client
          .db('local')
          .collection('oplog.rs')
          .find({})
          .sort({ $natural: -1 })
          .limit(1)
          .toArray();
        standin!.faults.trimOplogTo({ t: last!.ts.high, i: last!.ts.low });
        await engine.capture.start(row);
        for (let k = 0; k < 5; k++) await coll.insertOne({ k: 200 + k });
        await waitFor(async () => {
          const alerts = await dispatch(engine, 'alert.list', { source: 'rs', open: true });
          return alerts.ok && (alerts.result as { kind: string }[]).some((a) => a.kind === 'PITR_GAP');
        });
        // The new snapshot taken because of the gap completes (every snapshot job has finished, all succeeded).
        await waitFor(() => {
          const snaps = engine.tasks.list().filter((j) => j.kind === 'snapshot');
          return snaps.length >= 2 && snaps.every((j) => j.state === 'succeeded');
        });
        await waitUntilCaptured(engine.capture.get(row.id)!, client);
        const status = await dispatch(engine, 'source.status', { source: 'rs' });
        expect(status).toMatchObject({
          ok: true,
          result: {
            coverage: { gaps: [{ reason: 'chain-break' }] },
            openAlerts: [{ kind: 'PITR_GAP', severity: 'critical' }],
          },
        });
        // After the gap, the latest point is restorable again from the new snapshot.
        expect(await dispatch(engine, 'restore.plan', { source: 'rs', at: 'latest' })).toMatchObject({
          ok: true,
          result: { restorable: true },
        });
      });
    },
  );
});
