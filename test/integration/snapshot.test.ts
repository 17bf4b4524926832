import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { afterEach, describe, expect, it } from 'vitest';
import { dispatch } from '../../engine/api/dispatch.js';
import { Engine } from '../../engine/engine.js';
import { getSourceByName } from '../../engine/catalog/sources.js';
import { Repository } from '../../engine/repo/repository.js';
import { readManifest, readUsersAndRoles, snapshotRelDir } from '../../engine/repo/snapshot-files.js';
import { TEST_KDF } from '../support/store-fixture.js';
import { runTask } from '../support/run-task.js';
import { tempDir } from '../support/temp-dir.js';
import { MONGO_KIND, withMongo } from '../support/with-mongo.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(uri: string) {
  const dir = tempDir('mbm-snap-');
  const engine = Engine.open({ dataDir: join(dir.path, 'data'), mode: 'cli', sourceTimeoutMs: 3000 });
  const repo = await Repository.init(join(dir.path, 'repo'));
  await engine.stores.attach(repo);
  const added = await dispatch(engine, 'source.add', { name: 'rs', uri });
  if (!added.ok) throw new Error(added.error.message);
  cleanups.push(async () => {
    await engine.close();
    dir.remove();
  });
  return { engine, repo, sourceId: getSourceByName(engine.catalog, 'rs').id };
}

describe(`snapshots (${MONGO_KIND})`, () => {
  it('copy documents, collection options, UUIDs, indexes and views, consistent between startTs and consistentTs', async () => {
    await withMongo(async ({ uri }) => {
      const { engine, repo, sourceId } = await setup(uri);
      const client = new MongoClient(uri);
      cleanups.push(() => client.close());
      const db = client.db(`snap_${Date.now()}`);
      await db.createCollection('capped', { capped: true, size: 1 << 16 });
      await db.createCollection('orders', { validator: { qty: { $gte: 0 } } });
      await db.collection('orders').createIndex({ sku: 1 }, { unique: true, name: 'sku_1' });
      await db
        .collection('orders')
        .insertMany(Array.from({ length: 2500 }, (_, k) => ({ sku: `s${k}`, qty: k })));
      await db.createCollection('big_orders', {
        viewOn: 'orders',
        pipeline: [{ $match: { qty: { $gt: 2000 } } }],
      });
      await db.collection('capped').insertOne({ a: 1 });

      const started = await dispatch(engine, 'snapshot.take', { source: 'rs', parallel: 2 });
      const job = await engine.tasks.wait((started as { result: { taskId: string } }).result.taskId);
      expect(job.state).toBe('succeeded');
      const { snapshotId } = job.result as { snapshotId: string };
      const m = await readManifest(repo, join('sources', sourceId, 'snapshots', snapshotId));
      const byName = Object.fromEntries(
        m.namespaces.filter((n) => n.db === db.databaseName).map((n) => [n.name, n]),
      );
      expect(byName.orders).toMatchObject({
        type: 'collection',
        count: 2500,
        options: { validator: { qty: { $gte: expect.anything() } } },
        uuid: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/),
      });
      expect(byName.orders!.indexes.map((i) => i.name)).toEqual(['_id_', 'sku_1']);
      expect(byName.capped).toMatchObject({ count: 1, options: { capped: true } });
      expect(byName.big_orders).toMatchObject({ type: 'view', file: null, options: { viewOn: 'orders' } });
      expect(m.serverVersion).toMatch(/^\d+\./);
      expect(m.consistentTs.t * 2 ** 32 + m.consistentTs.i).toBeGreaterThanOrEqual(
        m.startTs.t * 2 ** 32 + m.startTs.i,
      );
      // Without capture, the snapshot copied its own oplog range: it is restorable at consistentTs.
      const plan = await dispatch(engine, 'restore.plan', {
        source: 'rs',
        at: `${m.consistentTs.t}:${m.consistentTs.i}`,
      });
      expect(plan).toMatchObject({ ok: true, result: { restorable: true, snapshot: { id: snapshotId } } });
      // Selected namespaces only.
      const only = await dispatch(engine, 'snapshot.take', {
        source: 'rs',
        namespaces: [`${db.databaseName}.capped`],
      });
      const j2 = await engine.tasks.wait((only as { result: { taskId: string } }).result.taskId);
      const m2 = await readManifest(
        repo,
        join('sources', sourceId, 'snapshots', (j2.result as { snapshotId: string }).snapshotId),
      );
      expect(m2.namespaces.map((n) => n.ns)).toEqual([`${db.databaseName}.capped`]);
    });
  });

  it('leaves no trace when cancelled, and none (plus a BACKUP_FAILED alert) when the source fails midway', async () => {
    await withMongo(async ({ uri, standin }) => {
      const { engine, repo, sourceId } = await setup(uri);
      const client = new MongoClient(uri);
      cleanups.push(() => client.close());
      const coll = client.db(`cancel_${Date.now()}`).collection('many');
      for (let k = 0; k < 10; k++)
        await coll.insertMany(Array.from({ length: 2000 }, (_, j) => ({ k, j, pad: 'x'.repeat(200) })));
      const snapDir = join(repo.root, 'sources', sourceId, 'snapshots');
      const dirs = () => (existsSync(snapDir) ? readdirSync(snapDir) : []);

      const started = await dispatch(engine, 'snapshot.take', { source: 'rs', parallel: 1 });
      const id = (started as { result: { taskId: string } }).result.taskId;
      await new Promise((r) => setTimeout(r, 30));
      await dispatch(engine, 'task.cancel', { taskId: id });
      expect(await engine.tasks.wait(id)).toMatchObject({ state: 'cancelled' });
      expect(dirs()).toEqual([]);
      expect(engine.catalog.prepare('SELECT count(*) FROM snapshots').pluck().get()).toBe(0);

      if (standin) {
        const again = await dispatch(engine, 'snapshot.take', { source: 'rs', parallel: 1 });
        const id2 = (again as { result: { taskId: string } }).result.taskId;
        // Fail it midway: once documents are being copied (a getMore is not retried by the driver).
        while (engine.tasks.get(id2).progress.done === 0 && engine.tasks.get(id2).state === 'running')
          await new Promise((r) => setTimeout(r, 2));
        await standin.faults.refuseFor(300);
        const failed = await engine.tasks.wait(id2);
        expect(failed.state).toBe('failed');
        expect(dirs()).toEqual([]);
        const alerts = await dispatch(engine, 'alert.list', { source: 'rs' });
        expect(alerts).toMatchObject({ ok: true, result: [{ kind: 'BACKUP_FAILED' }] });

        // The next good snapshot ends the "backups are failing" condition.
        expect(await runTask(engine, 'snapshot.take', { source: 'rs', parallel: 1 })).toMatchObject({
          state: 'succeeded',
        });
        expect(await dispatch(engine, 'alert.list', { source: 'rs', open: true })).toEqual({
          ok: true,
          result: [],
        });
      }
    });
  });

  it('with users and roles: no SCRAM key in clear in an encrypted repository, the catalog or the API', async () => {
    await withMongo(async ({ uri }) => {
      const dir = tempDir('mbm-snap-users-');
      const engine = Engine.open({
        dataDir: join(dir.path, 'data'),
        mode: 'cli',
        sourceTimeoutMs: 3000,
        kdfCost: TEST_KDF,
      });
      const repo = await Repository.init(join(dir.path, 'repo'), {
        passphrase: 'users and roles passphrase',
        kdfCost: TEST_KDF,
      });
      await engine.stores.attach(repo);
      const client = new MongoClient(uri);
      cleanups.push(async () => {
        await engine.close();
        dir.remove();
      });
      cleanups.push(() => client.close());
      const added = await dispatch(engine, 'source.add', { name: 'rs', uri });
      if (!added.ok) throw new Error(added.error.message);
      const user = `backup_probe_${Date.now()}`;
      await client.db('admin').command({
        createUser: user,
        pwd: 'Probe-Passw0rd-1',
        roles: [],
        mechanisms: ['SCRAM-SHA-256'],
      });
      // Dropped while the server still runs (it stops when this callback ends).
      const dropUser = () => client.db('admin').command({ dropUser: user });
      try {
        const seeded = (await client
          .db('admin')
          .collection<{ _id: string }>('system.users')
          .findOne({ _id: `admin.${user}` })) as unknown as {
          credentials: { 'SCRAM-SHA-256': { storedKey: string; serverKey: string } };
        };
        const { storedKey, serverKey } = seeded.credentials['SCRAM-SHA-256'];
        expect(storedKey).toMatch(/^[A-Za-z0-9+/]{43}=$/);

        const task = await runTask(engine, 'snapshot.take', { source: 'rs', includeUsers: true });
        expect(task.state).toBe('succeeded');
        const { snapshotId } = task.result as { snapshotId: string };

        const needles = [storedKey, serverKey].flatMap((k) => [
          Buffer.from(k),
          Buffer.from(k, 'base64'),
          Buffer.from(Buffer.from(k, 'base64').toString('hex')),
        ]);
        const walk = (d: string): string[] =>
          readdirSync(d).flatMap((n) =>
            statSync(join(d, n)).isDirectory() ? walk(join(d, n)) : [join(d, n)],
          );
        const all = walk(dir.path); // the repository and the data dir (catalog, its WAL, the audit log in it)
        expect(all.some((p) => p.endsWith('users.bin'))).toBe(true);
        for (const p of all) {
          const bytes = readFileSync(p);
          for (const n of needles) expect(bytes.includes(n), `${p} holds a SCRAM key`).toBe(false);
        }
        const views = JSON.stringify([
          task,
          await dispatch(engine, 'snapshot.list', { source: 'rs' }),
          await dispatch(engine, 'audit.list', {}),
        ]);
        for (const k of [storedKey, serverKey]) expect(views).not.toContain(k);

        // And the users come back byte for byte from the encrypted file.
        const sourceId = getSourceByName(engine.catalog, 'rs').id;
        const rel = snapshotRelDir(sourceId, snapshotId);
        const back = await readUsersAndRoles(repo, rel, await readManifest(repo, rel));
        const raw = (await client
          .db('admin')
          .collection('system.users')
          .find({}, { raw: true })
          .toArray()) as unknown as Uint8Array[];
        expect(back.users!.map((d) => Buffer.from(d).toString('hex')).sort()).toEqual(
          raw.map((d) => Buffer.from(d).toString('hex')).sort(),
        );
      } finally {
        await dropUser();
      }
    });
  });
});
