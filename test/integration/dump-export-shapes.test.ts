/**
 * Export of what mongodump treats specially: a view (metadata only, type
 * "view"), a time-series collection (its buckets as
 * `system.buckets.<name>.bson`, type "timeseries"), collection options and
 * secondary indexes, users and roles taken with the snapshot
 * (admin/system.users.bson, system.roles.bson), and URL-escaped names.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { deserialize } from 'bson';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dispatch } from '../../engine/api/dispatch.js';
import { Engine } from '../../engine/engine.js';
import { Repository } from '../../engine/repo/repository.js';
import { parseArchiveBySpec } from '../support/archive-spec-reader.js';
import { TOOLS, dumpEnv, fileTree, type DumpEnv } from '../support/dump-helpers.js';
import { startStandin, type Standin } from '../support/standin/server.js';
import { tempDir } from '../support/temp-dir.js';

const run = promisify(execFile);
const HAVE_TOOLS = existsSync(join(TOOLS, 'mongorestore'));

describe('export of views, time-series, options, indexes, users and roles', () => {
  let dir: ReturnType<typeof tempDir>;
  let source: Standin;
  let engine: Engine;
  let env: DumpEnv;
  const DB = 'shapes';

  beforeAll(async () => {
    dir = tempDir('mbm-shapes-');
    source = await startStandin();
    engine = Engine.open({ dataDir: join(dir.path, 'data'), mode: 'cli', sourceTimeoutMs: 3000 });
    await engine.stores.attach(await Repository.init(join(dir.path, 'repo')));
    const added = await dispatch(engine, 'source.add', { name: 'rs', uri: source.uri });
    if (!added.ok) throw new Error(added.error.message);
    const client = await MongoClient.connect(source.uri, { directConnection: true });
    const db = client.db(DB);
    await db.createCollection('orders', { collation: { locale: 'fr' } });
    await db
      .collection<{ _id: number }>('orders')
      .insertMany(Array.from({ length: 30 }, (_, k) => ({ _id: k, qty: k % 7, 'a b': 1 })));
    await db.collection('orders').createIndex({ qty: 1 }, { name: 'qty_1', unique: false });
    await db.createCollection('recent', { viewOn: 'orders', pipeline: [{ $match: { qty: { $gt: 3 } } }] });
    await db.createCollection('metrics', { timeseries: { timeField: 'at', metaField: 'host' } });
    await db.collection('metrics').insertMany(
      Array.from({ length: 20 }, (_, k) => ({
        at: new Date(Date.UTC(2026, 0, 1, 0, 0, k)),
        host: `h${k % 2}`,
        v: k,
      })),
    );
    await db.collection<{ _id: number }>('odd name+1').insertOne({ _id: 1 });
    await client
      .db('admin')
      .collection<{ _id: string; user: string; db: string; roles: unknown[] }>('system.users')
      .insertOne({
        _id: 'shapes.app',
        user: 'app',
        db: 'shapes',
        roles: [{ role: 'readWrite', db: 'shapes' }],
      });
    await client.close();
    env = await dumpEnv({ engine });
    const snap = await dispatch(engine, 'snapshot.take', { source: 'rs', includeUsers: true });
    if (!snap.ok) throw new Error(snap.error.message);
    const t = await engine.tasks.wait((snap.result as { taskId: string }).taskId);
    if (t.state !== 'succeeded') throw new Error(JSON.stringify(t.error));
  }, 60_000);

  afterAll(async () => {
    await env?.close();
    await engine?.close();
    await source?.stop();
    dir?.remove();
  });

  it('writes the directory layout mongodump writes', async () => {
    const out = join(env.dir, 'dir');
    await env.exportDump({ source: 'rs', at: 'latest', out });
    const files = [...fileTree(out).keys()];
    expect(files).toEqual(
      expect.arrayContaining([
        'admin/system.users.bson',
        'admin/system.users.metadata.json',
        `${DB}/orders.bson`,
        `${DB}/orders.metadata.json`,
        `${DB}/recent.metadata.json`,
        `${DB}/metrics.metadata.json`,
        `${DB}/system.buckets.metrics.bson`,
        `${DB}/odd+name%2B1.bson`,
        'prelude.json',
      ]),
    );
    expect(files).not.toContain(`${DB}/recent.bson`);
    expect(files).not.toContain(`${DB}/metrics.bson`);
    expect(files).not.toContain(`${DB}/system.buckets.metrics.metadata.json`);
    const meta = (f: string) => JSON.parse(readFileSync(join(out, DB, f), 'utf8')) as Record<string, unknown>;
    expect(Object.keys(meta('orders.metadata.json'))).toEqual([
      'options',
      'indexes',
      'uuid',
      'collectionName',
    ]);
    expect(meta('orders.metadata.json').options).toMatchObject({ collation: { locale: 'fr' } });
    expect((meta('orders.metadata.json').indexes as { name: string }[]).map((i) => i.name)).toEqual([
      '_id_',
      'qty_1',
    ]);
    expect(meta('recent.metadata.json')).toMatchObject({
      type: 'view',
      collectionName: 'recent',
      options: { viewOn: 'orders' },
    });
    expect(meta('metrics.metadata.json')).toMatchObject({
      type: 'timeseries',
      options: { timeseries: { timeField: 'at' } },
    });
    const users = readFileSync(join(out, 'admin', 'system.users.bson'));
    expect(deserialize(users)).toMatchObject({ _id: 'shapes.app', user: 'app' });
    if (HAVE_TOOLS)
      for (const f of files.filter((f) => f.endsWith('.bson'))) {
        const { stderr } = await run(join(TOOLS, 'bsondump'), ['--type=debug', join(out, f)]);
        expect(stderr, f).not.toMatch(/error/i);
      }
  });

  it('lists views and time-series by type in the archive prelude, with the buckets as the data', async () => {
    const path = join(env.dir, 'x.archive');
    await env.exportDump({ source: 'rs', at: 'latest', archive: path });
    const a = parseArchiveBySpec(readFileSync(path));
    const type = (c: string) => a.prelude.find((p) => p.db === DB && p.collection === c)?.type;
    expect([type('orders'), type('recent'), type('metrics')]).toEqual(['', 'view', 'timeseries']);
    expect(a.data.has(`${DB}.recent`)).toBe(false);
    expect(a.data.get(`${DB}.metrics`)!.length).toBeGreaterThan(0); // buckets
    expect(a.data.get(`${DB}.orders`)).toHaveLength(30);
  });

  it.skipIf(!HAVE_TOOLS)(
    'mongorestore recreates the view, the time-series collection and the indexes',
    async () => {
      // mongorestore refuses --oplogReplay with --nsInclude; an export filtered by us has no such limit.
      const out = join(env.dir, 'only-shapes');
      await env.exportDump({ source: 'rs', at: 'latest', out, include: [`${DB}.*`] });
      expect(existsSync(join(out, 'admin'))).toBe(false);
      const target = await startStandin();
      try {
        await run(join(TOOLS, 'mongorestore'), ['--uri', target.uri, '--dir', out, '--oplogReplay']);
        const client = await MongoClient.connect(target.uri, { directConnection: true });
        const db = client.db(DB);
        const colls = Object.fromEntries((await db.listCollections().toArray()).map((c) => [c.name, c.type]));
        expect(colls).toMatchObject({ orders: 'collection', recent: 'view', metrics: 'timeseries' });
        expect(await db.collection('metrics').countDocuments()).toBe(20);
        expect(await db.collection('recent').countDocuments()).toBe(12);
        expect((await db.collection('orders').indexes()).map((i) => i.name).sort()).toEqual([
          '_id_',
          'qty_1',
        ]);
        expect(await db.collection('odd name+1').countDocuments()).toBe(1);
        await client.close();
      } finally {
        await target.stop();
      }
    },
    60_000,
  );
});
