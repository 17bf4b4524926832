/**
 * Restore into a MongoDB deployment ("new target"): after a live workload,
 * each of 20 recorded instants is restored and the target holds exactly the
 * documents the source held at that instant, compared as raw BSON (types and
 * field order), with the same indexes; include/rename are honoured; bad input
 * is refused before anything is written.
 */
import { join } from 'node:path';
import { closeSync, fstatSync, openSync, readFileSync, readSync, writeSync } from 'node:fs';
import { Decimal128, Double, Long } from 'bson';
import { type MongoClient, type Document } from 'mongodb';
import { afterEach, describe, expect, it } from 'vitest';
import { capturingEngine } from '../support/capturing-engine.js';
import { dispatch } from '../../engine/api/dispatch.js';
import { type Engine } from '../../engine/engine.js';
import { INCOMPLETE_MARKER } from '../../engine/restore/restore-to-mongo.js';
import { newestOplogTs } from '../../engine/source/snapshot.js';
import { waitUntilCaptured } from '../support/capture-wait.js';
import { runTask } from '../support/run-task.js';
import { MONGO_KIND, withMongo } from '../support/with-mongo.js';
import { Workload } from '../support/workload.js';

type AnyDoc = Document & { _id: unknown };
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(uri: string) {
  const env = await capturingEngine(uri, 'mbm-restore-');
  cleanups.push(() => env.close());
  return env;
}

/** Every collection of `db` as raw BSON documents (exact bytes), sorted, plus its index keys by name. */
async function rawState(client: MongoClient, db: string) {
  const docs: Record<string, string[]> = {};
  const indexes: Record<string, string[]> = {};
  for (const c of await client.db(db).listCollections().toArray()) {
    if (c.name === INCOMPLETE_MARKER || c.name.startsWith('system.')) continue;
    const coll = client.db(db).collection(c.name);
    const raw = (await coll.find({}, { raw: true }).toArray()) as unknown as Buffer[];
    if (raw.length) docs[c.name] = raw.map((b) => Buffer.from(b).toString('hex')).sort();
    indexes[c.name] = (await coll.listIndexes().toArray())
      .map((ix: Document) => `${String(ix.name)} ${JSON.stringify(ix.key)} unique=${String(!!ix.unique)}`)
      .sort();
  }
  return { docs, indexes };
}

async function restore(engine: Engine, input: Record<string, unknown>) {
  const started = await dispatch(engine, 'restore.run', { source: 'rs', ...input } as never);
  if (!started.ok) return { refused: started.error };
  const task = await engine.tasks.wait((started.result as { taskId: string }).taskId);
  return { task };
}

describe(`restore into a MongoDB deployment (${MONGO_KIND})`, () => {
  it('restores 20 recorded instants of a live workload exactly (raw BSON), with their indexes', async () => {
    await withMongo(async ({ uri }) => {
      const { engine, row, client } = await setup(uri);
      const w = new Workload(client, `rw_${Date.now()}`);
      await engine.capture.start(row);
      // Types and names that a JavaScript round trip would change.
      await client
        .db(w.db)
        .collection<AnyDoc>('typed')
        .insertOne(
          new Map<string, unknown>([
            ['_id', 1],
            ['z', new Double(2)],
            ['2024', new Long(7)],
            ['10', Decimal128.fromString('1.50')],
          ]) as unknown as AnyDoc,
        );
      for (let k = 0; k < 30; k++) await w.step();
      const snap = await runTask(engine, 'snapshot.take', { source: 'rs' });
      expect(snap.state).toBe('succeeded');
      const instants: { ts: { t: number; i: number }; state: Awaited<ReturnType<typeof rawState>> }[] = [];
      for (let k = 0; k < 200; k++) {
        await w.step();
        if (k % 10 === 9)
          instants.push({ ts: (await newestOplogTs(client))!, state: await rawState(client, w.db) });
      }
      await waitUntilCaptured(engine.capture.get(row.id)!, client);
      await engine.capture.stop(row.id);
      expect(instants).toHaveLength(20);

      for (const [k, inst] of instants.entries()) {
        const target = `r${k}_${w.db}`;
        const { task, refused } = await restore(engine, {
          at: `${inst.ts.t}:${inst.ts.i}`,
          targetUri: uri,
          include: [`${w.db}.*`],
          rename: [`${w.db}.$c$=${target}.$c$`],
        });
        expect(refused, JSON.stringify(refused)).toBeUndefined();
        expect(task!.state, JSON.stringify(task!.error)).toBe('succeeded');
        const validation = (task!.result as { validation: { passed: boolean; checks: unknown[] } })
          .validation;
        expect(validation.passed, JSON.stringify(validation.checks)).toBe(true);
        const got = await rawState(client, target);
        expect(got.docs).toEqual(inst.state.docs);
        expect(got.indexes).toEqual(inst.state.indexes);
        // Complete: no marker left behind.
        const names = (await client.db(target).listCollections().toArray()).map((c) => c.name);
        expect(names).not.toContain(INCOMPLETE_MARKER);
        await client.db(target).dropDatabase();
      }
      const history = await dispatch(engine, 'restore.list', {});
      expect(
        history.ok && (history.result as { state: string }[]).filter((r) => r.state === 'succeeded'),
      ).toHaveLength(20);
    });
  });

  it('restores only the chosen namespaces under new names', async () => {
    await withMongo(async ({ uri }) => {
      const { engine, client } = await setup(uri);
      const db = `sel_${Date.now()}`;
      await client
        .db(db)
        .collection<AnyDoc>('orders')
        .insertMany([{ _id: 1 }, { _id: 2 }]);
      await client.db(db).collection<AnyDoc>('audit').insertOne({ _id: 1 });
      expect((await runTask(engine, 'snapshot.take', { source: 'rs' })).state).toBe('succeeded');
      const { task } = await restore(engine, {
        at: 'latest',
        targetUri: uri,
        include: [`${db}.orders`],
        rename: [`${db}.orders=${db}_staging.orders_copy`],
      });
      expect(task!.state, JSON.stringify(task!.error)).toBe('succeeded');
      const names = (await client.db(`${db}_staging`).listCollections().toArray()).map((c) => c.name);
      expect(names).toEqual(['orders_copy']);
      expect(await client.db(`${db}_staging`).collection<AnyDoc>('orders_copy').countDocuments()).toBe(2);
      await client.db(`${db}_staging`).dropDatabase();
    });
  });

  it('refuses a non-empty target without --drop (listing it), and replaces it with --drop', async () => {
    await withMongo(async ({ uri }) => {
      const { engine, client } = await setup(uri);
      const db = `conf_${Date.now()}`;
      await client
        .db(db)
        .collection<AnyDoc>('orders')
        .insertMany([{ _id: 1 }, { _id: 2 }]);
      expect((await runTask(engine, 'snapshot.take', { source: 'rs' })).state).toBe('succeeded');
      await client.db(`${db}_t`).collection<AnyDoc>('orders').insertOne({ _id: 99 });
      const args = { at: 'latest', targetUri: uri, include: [`${db}.*`], rename: [`${db}.$c$=${db}_t.$c$`] };
      const { task } = await restore(engine, args);
      expect(task!.state).toBe('failed');
      expect(task!.error).toMatchObject({ code: 'CONFLICT' });
      expect(task!.error!.message).toContain(`${db}_t.orders (1 documents)`);
      expect(await client.db(`${db}_t`).collection<AnyDoc>('orders').countDocuments()).toBe(1); // untouched
      const again = await restore(engine, { ...args, drop: true });
      expect(again.task!.state, JSON.stringify(again.task!.error)).toBe('succeeded');
      expect(await client.db(`${db}_t`).collection<AnyDoc>('orders').countDocuments()).toBe(2);
      await client.db(`${db}_t`).dropDatabase();
    });
  });

  it('refuses a point outside the window, an unreachable target and a corrupt segment before writing', async () => {
    await withMongo(async ({ uri }) => {
      const { engine, row, client, dir } = await setup(uri);
      const db = `bad_${Date.now()}`;
      await engine.capture.start(row);
      await client.db(db).collection<AnyDoc>('orders').insertOne({ _id: 1 });
      expect((await runTask(engine, 'snapshot.take', { source: 'rs' })).state).toBe('succeeded');
      for (let k = 2; k < 50; k++) await client.db(db).collection<AnyDoc>('orders').insertOne({ _id: k });
      await waitUntilCaptured(engine.capture.get(row.id)!, client);
      await engine.capture.stop(row.id);

      const before = await restore(engine, { at: '2001-01-01T00:00:00Z', targetUri: uri });
      expect(before.refused).toMatchObject({ code: 'NOT_FOUND' });
      expect((before.refused!.details as { reason: string }).reason).toBe('BEFORE_WINDOW');

      const unreachable = await restore(engine, {
        at: 'latest',
        targetUri: 'mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=500',
      });
      expect(unreachable.refused).toMatchObject({ code: 'UNREACHABLE' });

      const badPattern = await restore(engine, { at: 'latest', targetUri: uri, rename: ['nonsense'] });
      expect(badPattern.refused).toMatchObject({ code: 'INVALID_INPUT' });

      // Flip a byte in the middle of the last segment of the range.
      const store = await engine.stores.get();
      const plan = await dispatch(engine, 'restore.plan', { source: 'rs', at: 'latest' });
      const segments = (plan as { result: { segments: { path: string }[] } }).result.segments;
      const seg = segments[segments.length - 1]!.path;
      const fd = openSync(store.repo.abs(seg), 'r+');
      const size = fstatSync(fd).size;
      const b = Buffer.alloc(1);
      readSync(fd, b, 0, 1, size - 20);
      b[0] = b[0]! ^ 0xff;
      writeSync(fd, b, 0, 1, size - 20);
      closeSync(fd);
      const corrupt = await restore(engine, {
        at: 'latest',
        targetUri: uri,
        include: [`${db}.*`],
        rename: [`${db}.$c$=${db}_t.$c$`],
      });
      expect(corrupt.refused?.code).toBe('CORRUPT');
      expect((await client.db(`${db}_t`).listCollections().toArray()).length).toBe(0); // nothing written
      void dir;
    });
  });

  it('a cancelled restore leaves the incomplete marker and says so', async () => {
    await withMongo(async ({ uri }) => {
      const { engine, client } = await setup(uri);
      const db = `cx_${Date.now()}`;
      await client
        .db(db)
        .collection<AnyDoc>('orders')
        .insertMany(Array.from({ length: 200 }, (_, k) => ({ _id: k })));
      expect((await runTask(engine, 'snapshot.take', { source: 'rs' })).state).toBe('succeeded');
      const started = await dispatch(engine, 'restore.run', {
        source: 'rs',
        at: 'latest',
        targetUri: uri,
        include: [`${db}.*`],
        rename: [`${db}.$c$=${db}_t.$c$`],
      } as never);
      expect(started.ok).toBe(true);
      const taskId = (started as { result: { taskId: string } }).result.taskId;
      await dispatch(engine, 'task.cancel', { taskId });
      const task = await engine.tasks.wait(taskId);
      expect(task.state).toBe('cancelled');
      const list = await dispatch(engine, 'restore.list', {});
      const rec = (list as { result: { state: string; markerLeft: boolean }[] }).result[0]!;
      expect(rec).toMatchObject({ state: 'cancelled', markerLeft: true });
      const marker = await client.db(`${db}_t`).collection(INCOMPLETE_MARKER).findOne({});
      expect(marker).toMatchObject({ source: 'rs', point: 'latest' });
      await client.db(`${db}_t`).dropDatabase();
    });
  });

  it('validation catches a missing document, a changed document, a missing index and a wrong option', async () => {
    await withMongo(async ({ uri, kind }) => {
      const { engine, client, dir } = await setup(uri);
      const db = `val_${Date.now()}`;
      for (const name of ['a', 'b', 'c', 'd']) {
        await client.db(db).createCollection(name, { validator: { qty: { $gte: 0 } } });
        await client
          .db(db)
          .collection<AnyDoc>(name)
          .insertMany(Array.from({ length: 20 }, (_, k) => ({ _id: k, qty: k })));
        await client.db(db).collection(name).createIndex({ qty: 1 }, { name: 'qty_1', unique: true });
      }
      expect((await runTask(engine, 'snapshot.take', { source: 'rs' })).state).toBe('succeeded');
      const selection = { include: [`${db}.*`], rename: [`${db}.$c$=${db}_t.$c$`] };
      const { task } = await restore(engine, { at: 'latest', targetUri: uri, ...selection });
      expect(task!.state, JSON.stringify(task!.error)).toBe('succeeded');
      expect((task!.result as { validation: { passed: boolean } }).validation.passed).toBe(true);

      const t = client.db(`${db}_t`);
      await t.collection('a').deleteOne({ _id: 7 as never });
      await t.collection('b').updateOne({ _id: 3 as never }, { $set: { qty: 1000 } });
      await t.collection('c').dropIndex('qty_1');
      await t.command({ collMod: 'd', validator: { qty: { $gte: 5 } } });
      const html = join(dir.path, 'report.html');
      const v = await runTask(engine, 'restore.validate', {
        source: 'rs',
        at: 'latest',
        targetUri: uri,
        ...selection,
        full: true,
        html,
      });
      expect(v.state, JSON.stringify(v.error)).toBe('succeeded');
      const report = v.result as {
        passed: boolean;
        checks: { name: string; passed: boolean; findings: string[] }[];
      };
      expect(report.passed).toBe(false);
      const check = (n: string) => report.checks.find((c) => c.name === n)!;
      expect(check('collections')).toMatchObject({ passed: true, findings: [] });
      expect(check('counts').findings).toEqual([`${db}_t.a: 19 documents on the target, 20 in the backup.`]);
      expect(check('documents').findings).toEqual([
        `${db}_t.a: document _id {"$numberInt":"7"} is missing.`,
        expect.stringContaining(`${db}_t.b: document _id {"$numberInt":"3"} differs`),
      ]);
      expect(check('indexes').findings).toEqual([
        expect.stringContaining(`${db}_t.c: index qty_1 is missing`),
      ]);
      expect(check('options').findings).toEqual([expect.stringContaining(`${db}_t.d: options differ`)]);
      const page = readFileSync(html, 'utf8');
      expect(page).toContain('FAILED');
      expect(page).toContain(`${db}_t.c: index qty_1 is missing`);
      expect(page).not.toMatch(/<script/i);
      await t.dropDatabase();
      void kind;
    });
  });

  it('restores a time-series collection: its definition, its buckets and the bucket writes of the oplog', async () => {
    await withMongo(async ({ uri }) => {
      const { engine, row, client } = await setup(uri);
      const db = `tsr_${Date.now()}`;
      await engine.capture.start(row);
      await client.db(db).createCollection('metrics', {
        timeseries: { timeField: 'at', metaField: 'host', granularity: 'seconds' },
      });
      const metrics = client.db(db).collection('metrics');
      const base = Date.UTC(2026, 10, 22, 10, 0, 0);
      const measure = (k: number) => ({
        at: new Date(base + k * 1000),
        host: k % 2 ? 'db1' : 'db2',
        cpu: k % 97,
      });
      await metrics.insertMany(Array.from({ length: 30 }, (_, k) => measure(k)));
      expect((await runTask(engine, 'snapshot.take', { source: 'rs' })).state).toBe('succeeded');
      await metrics.insertMany(Array.from({ length: 30 }, (_, k) => measure(30 + k)));
      await waitUntilCaptured(engine.capture.get(row.id)!, client);
      await engine.capture.stop(row.id);
      const { task } = await restore(engine, {
        at: 'latest',
        targetUri: uri,
        include: [`${db}.*`],
        rename: [`${db}.$c$=${db}_t.$c$`],
      });
      expect(task!.state, JSON.stringify(task!.error)).toBe('succeeded');
      const info = await client.db(`${db}_t`).listCollections({ name: 'metrics' }).toArray();
      expect(info[0]).toMatchObject({
        type: 'timeseries',
        options: { timeseries: { timeField: 'at', metaField: 'host' } },
      });
      const sort = { at: 1 } as const;
      const want = await metrics
        .find({}, { projection: { _id: 0 } })
        .sort(sort)
        .toArray();
      const got = await client
        .db(`${db}_t`)
        .collection('metrics')
        .find({}, { projection: { _id: 0 } })
        .sort(sort)
        .toArray();
      expect(got).toHaveLength(60);
      expect(got).toEqual(want);
      await client.db(`${db}_t`).dropDatabase();
    });
  });

  it('in place: an accident (deleteMany) is undone by restoring the source to just before it; capture pauses and resumes without a gap, a new snapshot follows, every step is audited', async () => {
    await withMongo(async ({ uri }) => {
      const { engine, row, client } = await setup(uri);
      const db = `ip_${Date.now()}`;
      await engine.capture.start(row);
      const orders = client.db(db).collection<AnyDoc>('orders');
      await orders.insertMany(
        Array.from({ length: 50 }, (_, k) => ({ _id: k, qty: new Double(k), tag: 'a' })),
      );
      expect((await runTask(engine, 'snapshot.take', { source: 'rs' })).state).toBe('succeeded');
      for (let k = 0; k < 20; k++) await orders.updateOne({ _id: k as never }, { $set: { tag: 'b' } });
      await orders.insertOne({ _id: 100, qty: new Double(2), tag: 'late' });
      const before = { ts: (await newestOplogTs(client))!, state: await rawState(client, db) };
      await orders.deleteMany({}); // the accident
      await waitUntilCaptured(engine.capture.get(row.id)!, client);
      const args = { inPlace: true, source: 'rs', at: `${before.ts.t}:${before.ts.i}`, include: [`${db}.*`] };

      const wrong = await dispatch(engine, 'restore.in-place', { ...args, confirm: 'rs-typo' } as never);
      expect(wrong).toMatchObject({ ok: false, error: { code: 'CONFLICT' } });
      expect(await orders.countDocuments()).toBe(0); // nothing was touched

      const started = await dispatch(engine, 'restore.in-place', { ...args, confirm: 'rs' } as never);
      expect(started.ok, JSON.stringify(started)).toBe(true);
      const task = await engine.tasks.wait((started as { result: { taskId: string } }).result.taskId);
      expect(task.state, JSON.stringify(task.error)).toBe('succeeded');
      const result = task.result as { newSnapshot: string | null; inPlace: boolean };
      expect(result.inPlace).toBe(true);
      expect(result.newSnapshot).not.toBeNull();

      // The source holds again exactly what it held just before the accident.
      expect((await rawState(client, db)).docs).toEqual(before.state.docs);
      // Capture runs again and has no gap across the pause; the restore's own writes are captured too.
      expect(engine.capture.get(row.id)?.metrics.state).not.toBe('paused');
      await waitUntilCaptured(engine.capture.get(row.id)!, client);
      const coverage = await dispatch(engine, 'source.coverage', { source: 'rs' });
      expect((coverage as { result: { gaps: unknown[] } }).result.gaps).toEqual([]);
      const snaps = await dispatch(engine, 'snapshot.list', { source: 'rs' });
      expect((snaps as { result: { id: string }[] }).result.map((x) => x.id)).toContain(result.newSnapshot);
      // Every step is in the audit log, in order.
      const auditLog = await dispatch(engine, 'audit.list', { limit: 50 });
      const actions = (auditLog as { result: { action: string }[] }).result.map((a) => a.action).reverse();
      const steps = actions.filter((a) => a.startsWith('restore.in-place') || a.startsWith('capture.'));
      expect(steps).toEqual([
        'restore.in-place.start',
        'capture.pause',
        'restore.in-place.restored',
        'capture.resume',
        'restore.in-place.snapshot',
        'restore.in-place.finish',
      ]);
      const history = await dispatch(engine, 'restore.list', {});
      expect((history as { result: { kind: string; state: string }[] }).result[0]).toMatchObject({
        kind: 'in-place',
        state: 'succeeded',
      });
      await engine.capture.stop(row.id);
    });
  });
});
