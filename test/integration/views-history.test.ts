/**
 * Document history and the query features on a scripted scenario under
 * continuous capture: one document inserted, updated twice and deleted; one
 * in a collection renamed and later dropped with its database; every version
 * with its exact ts (the server's oplog entry), kind, change, document
 * after, and the restore point just before it (the entry before). Then the
 * view's key tables answer lookups by _id and by an indexed field without a
 * scan, time-series and MongoDB views read as mongod shows them, and bad
 * input gets typed errors.
 */
import { EJSON, type Timestamp } from 'bson';
import type { Document } from 'mongodb';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Engine } from '../../engine/engine.js';
import { capturingEngine } from '../support/capturing-engine.js';
import { waitUntilCaptured } from '../support/capture-wait.js';
import { runTask } from '../support/run-task.js';
import { splitBsonDocuments } from '../../engine/repo/bson-entries.js';
import { call, refusal } from '../support/views-helpers.js';
import { MONGO_KIND, withMongo } from '../support/with-mongo.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function snapshotNow(engine: Engine) {
  const job = await runTask(engine, 'snapshot.take', { source: 'rs' });
  if (job.state !== 'succeeded') throw new Error(JSON.stringify(job.error));
  return job.result as { consistentTs: { t: number; i: number } };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const text = (ts: Timestamp) => `${ts.high}:${ts.low}`;

describe(`document history and queries at a point (${MONGO_KIND})`, () => {
  it('gives every version of a document with its ts, kind, change and the restore point just before it', async () => {
    await withMongo(async ({ uri }) => {
      const env = await capturingEngine(uri, 'mbm-history-');
      cleanups.push(() => env.close());
      const { engine, row, client } = env;
      const dbName = `hist_${Date.now()}`;
      const db = client.db(dbName);
      await db.collection('people').insertOne({ _id: 0 as never, seed: true });
      await db.collection('old').insertOne({ _id: 'x' as never, v: 1 });
      await engine.capture.start(row);
      const snap = await snapshotNow(engine);
      const people = db.collection<Document>('people');
      const filler = db.collection('filler');
      // Writes to other documents between the changes, over several segments (cut every 200 ms): more
      // segments than those holding the document's entries or commands, even on a busy machine.
      const fill = async () => {
        for (let k = 0; k < 6; k++) {
          await filler.insertOne({ k });
          await sleep(120);
        }
      };
      await people.insertOne({ _id: 7 as never, name: 'Ada', n: 1, tags: ['a'] });
      await fill();
      await people.updateOne({ _id: 7 as never }, { $set: { n: 2 } });
      await fill();
      await people.updateOne({ _id: 7 as never }, { $set: { name: 'Grace' }, $unset: { tags: '' } });
      await fill();
      await people.deleteOne({ _id: 7 as never });
      await fill();
      await db.collection('old').rename('renamed');
      await fill();
      // Two documents of one _id in two collections, then one collection renamed over the other.
      await db.collection('dst').insertOne({ _id: 'y' as never, from: 'dst' });
      await db.collection('src').insertOne({ _id: 'y' as never, from: 'src' });
      await db.collection('src').updateOne({ _id: 'y' as never }, { $set: { n: 1 } });
      await db.collection('src').rename('dst', { dropTarget: true });
      await fill();
      await db.dropDatabase();
      await waitUntilCaptured(engine.capture.get(row.id)!, client);
      await engine.capture.stop(row.id);

      const oplog = (await client
        .db('local')
        .collection('oplog.rs')
        .find({})
        .sort({ $natural: 1 })
        .toArray()) as unknown as { ts: Timestamp; op: string; ns: string; o: Document; o2?: Document }[];
      const entryOf = (pred: (e: (typeof oplog)[number]) => boolean) => {
        const k = oplog.findIndex(pred);
        expect(k).toBeGreaterThan(0);
        return { ts: text(oplog[k]!.ts), before: text(oplog[k - 1]!.ts) };
      };
      const ns = `${dbName}.people`;
      const ins = entryOf((e) => e.op === 'i' && e.ns === ns && e.o._id === 7);
      const upd = oplog.filter((e) => e.op === 'u' && e.ns === ns && e.o2?._id === 7);
      expect(upd).toHaveLength(2);
      const u1 = entryOf((e) => e === upd[0]);
      const u2 = entryOf((e) => e === upd[1]);
      const del = entryOf((e) => e.op === 'd' && e.ns === ns && e.o._id === 7);

      const h = await call(engine, 'history.get', { source: 'rs', ns, id: '7' });
      expect(
        h.versions.map((v) => ({
          ts: v.ts.text,
          op: v.op,
          before: v.restoreBefore.text,
          change: v.change,
          after: v.after,
        })),
      ).toEqual([
        {
          ts: ins.ts,
          op: 'insert',
          before: ins.before,
          change: ['+ _id: 7', '+ name: "Ada"', '+ n: 1', '+ tags: ["a"]'],
          after: '{"_id":7,"name":"Ada","n":1,"tags":["a"]}',
        },
        {
          ts: u1.ts,
          op: 'update',
          before: u1.before,
          change: ['~ n: 1 -> 2'],
          after: '{"_id":7,"name":"Ada","n":2,"tags":["a"]}',
        },
        {
          ts: u2.ts,
          op: 'update',
          before: u2.before,
          change: ['~ name: "Ada" -> "Grace"', '- tags'],
          after: '{"_id":7,"name":"Grace","n":2}',
        },
        { ts: del.ts, op: 'delete', before: del.before, change: ['- _id', '- name', '- n'], after: null },
      ]);
      expect(h.versions.every((v) => v.ns === ns && !v.inTransaction)).toBe(true);
      // The first history indexed the segments it read; the second reads only those naming _id 7 or holding commands.
      expect(h.segmentsInWindow).toBeGreaterThan(5);
      const again = await call(engine, 'history.get', { source: 'rs', ns, id: '7.0' });
      expect(again.versions).toEqual(h.versions); // Double 7.0 is the same _id as Int32 7
      expect(again.segmentsRead).toBeLessThan(again.segmentsInWindow);
      // Each path now names another segment (as after the repository's were deleted and written again
      // behind this cache's back): no record is trusted, every segment is read, and recorded anew.
      const payloads = engine.catalog.prepare('SELECT id, payload_sha256 AS p FROM oplog_segments').all() as {
        id: number;
        p: string;
      }[];
      const setPayload = engine.catalog.prepare('UPDATE oplog_segments SET payload_sha256 = ? WHERE id = ?');
      for (const r of payloads) setPayload.run(r.p.split('').reverse().join(''), r.id);
      const rewritten = await call(engine, 'history.get', { source: 'rs', ns, id: '7' });
      expect(rewritten.versions).toEqual(h.versions);
      expect(rewritten.segmentsRead).toBe(rewritten.segmentsInWindow);
      const recorded = await call(engine, 'history.get', { source: 'rs', ns, id: '7' });
      expect(recorded.segmentsRead).toBe(again.segmentsRead);
      for (const r of payloads) setPayload.run(r.p, r.id);

      // The renamed collection's document: in the snapshot, renamed, then dropped with its database.
      const ren = entryOf((e) => e.op === 'c' && e.o.renameCollection === `${dbName}.old`);
      // mongod logs a drop of each collection before dropDatabase; the first of them that names `renamed` ends it.
      const dropColl = oplog.find((e) => e.op === 'c' && e.ns === `${dbName}.$cmd` && e.o.drop === 'renamed');
      const end = dropColl
        ? { ...entryOf((e) => e === dropColl), op: 'drop-collection' }
        : {
            ...entryOf((e) => e.op === 'c' && e.ns === `${dbName}.$cmd` && e.o.dropDatabase === 1),
            op: 'drop-database',
          };
      const x = await call(engine, 'history.get', { source: 'rs', ns: `${dbName}.renamed`, id: '"x"' });
      expect(x.versions.map((v) => [v.op, v.ns, v.ts.text, v.restoreBefore.text, v.after])).toEqual([
        ['snapshot', `${dbName}.old`, expect.any(String), expect.any(String), '{"_id":"x","v":1}'],
        ['rename', `${dbName}.renamed`, ren.ts, ren.before, '{"_id":"x","v":1}'],
        [end.op, `${dbName}.renamed`, end.ts, end.before, null],
      ]);
      // Renamed over a collection holding the same _id: the target's document is lost with its
      // collection, the source's takes its place; each change is against its own namespace's version.
      const dstIns = entryOf((e) => e.op === 'i' && e.ns === `${dbName}.dst`);
      const srcIns = entryOf((e) => e.op === 'i' && e.ns === `${dbName}.src`);
      const srcUpd = entryOf((e) => e.op === 'u' && e.ns === `${dbName}.src`);
      const over = entryOf((e) => e.op === 'c' && e.o.renameCollection === `${dbName}.src`);
      const y = await call(engine, 'history.get', { source: 'rs', ns: `${dbName}.dst`, id: '"y"' });
      const yEnd = y.versions.at(-1)!;
      expect(
        y.versions.slice(0, -1).map((v) => [v.op, v.ns, v.ts.text, v.restoreBefore.text, v.change, v.after]),
      ).toEqual([
        [
          'insert',
          `${dbName}.dst`,
          dstIns.ts,
          dstIns.before,
          ['+ _id: "y"', '+ from: "dst"'],
          '{"_id":"y","from":"dst"}',
        ],
        [
          'insert',
          `${dbName}.src`,
          srcIns.ts,
          srcIns.before,
          ['+ _id: "y"', '+ from: "src"'],
          '{"_id":"y","from":"src"}',
        ],
        ['update', `${dbName}.src`, srcUpd.ts, srcUpd.before, ['+ n: 1'], '{"_id":"y","from":"src","n":1}'],
        ['drop-collection', `${dbName}.dst`, over.ts, over.before, ['- _id', '- from'], null],
        [
          'rename',
          `${dbName}.dst`,
          over.ts,
          over.before,
          [`ns: ${dbName}.src -> ${dbName}.dst`],
          '{"_id":"y","from":"src","n":1}',
        ],
      ]);
      expect([yEnd.op, yEnd.ns, yEnd.after]).toEqual([end.op, `${dbName}.dst`, null]);

      // With a view at the snapshot's point, the starting version comes from it (at the consistent point).
      const snapAt = `${snap.consistentTs.t}:${snap.consistentTs.i}`;
      expect(
        await call(engine, 'query.count', { source: 'rs', at: snapAt, ns: `${dbName}.old`, count: true }),
      ).toMatchObject({ count: 1 });
      const viaView = await call(engine, 'history.get', { source: 'rs', ns: `${dbName}.renamed`, id: '"x"' });
      expect(viaView.versions[0]).toMatchObject({
        op: 'snapshot',
        ts: { text: snapAt },
        after: '{"_id":"x","v":1}',
      });
      expect(viaView.versions.slice(1)).toEqual(x.versions.slice(1));
      expect((await call(engine, 'history.get', { source: 'rs', ns, id: '7' })).versions).toEqual(h.versions);
      // Asked by its first name, the same history.
      expect(
        (await call(engine, 'history.get', { source: 'rs', ns: `${dbName}.old`, id: '"x"' })).versions,
      ).toEqual(x.versions);

      // Just before the delete, the document is there; query it at that point.
      const found = await call(engine, 'query.find', {
        source: 'rs',
        at: del.before,
        ns,
        filter: '{"_id": 7}',
      });
      expect(found.documents).toEqual(['{"_id":7,"name":"Grace","n":2}']);
      expect(found.plan).toEqual({ index: '_id_', documentsExamined: 1 });
      const gone = await call(engine, 'query.find', { source: 'rs', at: del.ts, ns, filter: '{"_id": 7}' });
      expect(gone.documents).toEqual([]);
      expect(EJSON.parse(found.documents[0]!)).toEqual({ _id: 7, name: 'Grace', n: 2 });
    });
  }, 120_000);

  it('answers by _id and by an indexed field from the key tables, reads time-series and MongoDB views as mongod shows them, refuses bad input with typed errors', async () => {
    await withMongo(async ({ uri }) => {
      const env = await capturingEngine(uri, 'mbm-query-');
      cleanups.push(() => env.close());
      const { engine, row, client } = env;
      const dbName = `q_${Date.now()}`;
      const db = client.db(dbName);
      const items = db.collection<Document>('items');
      await items.insertMany(
        Array.from({ length: 300 }, (_, k) => ({
          _id: k as never,
          sku: `s${k % 50}`,
          qty: k,
          tags: [`t${k % 7}`, 'all'],
        })),
      );
      await items.createIndex({ sku: 1 });
      await items.createIndex({ qty: -1, sku: 1 }, { name: 'qty_sku' });
      await items.createIndex({ tags: 1 });
      await db.createCollection('metrics', { timeseries: { timeField: 'at', metaField: 'host' } });
      const base = Date.UTC(2026, 10, 22, 10, 0, 0);
      await db.collection('metrics').insertMany(
        Array.from({ length: 12 }, (_, k) => ({
          at: new Date(base + k * 1000),
          host: k % 2 ? 'a' : 'b',
          cpu: k,
        })),
      );
      await db.createCollection('big_qty', {
        viewOn: 'items',
        pipeline: [{ $match: { qty: { $gte: 295 } } }, { $project: { qty: 1 } }],
      });
      await engine.capture.start(row);
      const snap = await snapshotNow(engine);
      await items.updateOne({ _id: 3 as never }, { $set: { sku: 'moved' } });
      await items.deleteOne({ _id: 4 as never });
      await waitUntilCaptured(engine.capture.get(row.id)!, client);
      await engine.capture.stop(row.id);
      const q = (filter: unknown, extra: Record<string, unknown> = {}) =>
        call(engine, 'query.find', {
          source: 'rs',
          at: 'latest',
          ns: `${dbName}.items`,
          filter: JSON.stringify(filter),
          limit: 1000,
          ...extra,
        });

      // Equality on an indexed field: only its documents are read; the change after the snapshot is seen.
      const bySku = await q({ sku: 's3' });
      expect(bySku.plan).toEqual({ index: 'sku_1', documentsExamined: 5 });
      expect(
        bySku.documents.map((d) => (EJSON.parse(d) as { _id: number })._id).sort((a, b) => a - b),
      ).toEqual([53, 103, 153, 203, 253]);
      expect((await q({ sku: 'moved' })).documents).toEqual([
        '{"_id":3,"sku":"moved","qty":3,"tags":["t3","all"]}',
      ]);
      // A range on the first field of a compound index, and a multikey field.
      const range = await q({ qty: { $gte: 290 } }, { sort: '{"qty": 1}' });
      expect(range.plan).toEqual({ index: 'qty_sku', documentsExamined: 10 });
      expect(range.documents.map((d) => (EJSON.parse(d) as { qty: number }).qty)).toEqual([
        290, 291, 292, 293, 294, 295, 296, 297, 298, 299,
      ]);
      expect((await q({ tags: 't6' })).plan.documentsExamined).toBe(42);
      expect((await q({ _id: { $in: [1, 4, 2] } })).documents).toHaveLength(2); // 4 was deleted
      // No usable index: a scan, same semantics.
      const scan = await q({ qty: { $mod: [100, 0] } }, { projection: '{"qty": 1, "_id": 0}' });
      expect(scan.plan).toEqual({ index: null, documentsExamined: 299 });
      expect(scan.documents).toEqual(['{"qty":0}', '{"qty":100}', '{"qty":200}']);
      // Batches: a cursor while documents remain; a limit ends the query.
      const page = await q({}, { sort: '{"_id": -1}', skip: 10, batchSize: 5 });
      expect(page.documents.map((d) => (EJSON.parse(d) as { _id: number })._id)).toEqual([
        289, 288, 287, 286, 285,
      ]);
      expect(page.more).toBe(true);
      const next = await call(engine, 'query.more', { cursorId: page.cursorId!, batchSize: 2 });
      expect(next.documents.map((d) => (EJSON.parse(d) as { _id: number })._id)).toEqual([284, 283]);
      expect(await call(engine, 'query.close', { cursorId: page.cursorId! })).toMatchObject({ closed: true });
      const limited = await q({}, { sort: '{"_id": -1}', skip: 10, limit: 5 });
      expect(limited.documents).toHaveLength(5);
      expect(limited).toMatchObject({ more: false, cursorId: null });
      // Canonical Extended JSON on request.
      expect((await q({ _id: 5 }, { canonical: true })).documents[0]).toContain('{"$numberInt":"5"}');
      expect(
        await call(engine, 'query.count', { source: 'rs', at: 'latest', ns: `${dbName}.items`, count: true }),
      ).toMatchObject({ count: 299 });
      const skus = await call(engine, 'query.distinct', {
        source: 'rs',
        at: 'latest',
        ns: `${dbName}.items`,
        distinct: 'tags',
        filter: '{"qty": {"$lt": 7}}',
      });
      expect([...skus.values].sort()).toEqual(['"all"', '"t0"', '"t1"', '"t2"', '"t3"', '"t5"', '"t6"']);
      const agg = await call(engine, 'query.aggregate', {
        source: 'rs',
        at: 'latest',
        ns: `${dbName}.items`,
        pipeline: '[{"$match": {"qty": {"$lt": 10}}}, {"$group": {"_id": null, "total": {"$sum": "$qty"}}}]',
      });
      expect(agg.documents).toEqual(['{"_id":null,"total":41}']); // 0..9 without the deleted 4
      // $lookup reads another collection of the same database at the same point.
      const joined = await call(engine, 'query.aggregate', {
        source: 'rs',
        at: 'latest',
        ns: `${dbName}.items`,
        pipeline:
          '[{"$match": {"_id": 5}}, {"$lookup": {"from": "items", "localField": "sku", "foreignField": "sku", "as": "same"}}, {"$project": {"n": {"$size": "$same"}}}]',
      });
      expect(joined.documents).toEqual(['{"_id":5,"n":6}']);

      // A time-series collection returns its measurements (time field, meta field, then the others, as mongod
      // unpacks them); its buckets stay readable by name.
      const m = await call(engine, 'query.find', {
        source: 'rs',
        at: 'latest',
        ns: `${dbName}.metrics`,
        sort: '{"cpu": 1}',
        limit: 100,
      });
      expect(m.documents).toHaveLength(12);
      const server = await db.collection('metrics').find({}).sort({ cpu: 1 }).toArray();
      expect(m.documents.map((d) => EJSON.parse(d))).toEqual(
        server.map((d) => EJSON.parse(EJSON.stringify(d))),
      );
      expect(Object.keys(EJSON.parse(m.documents[0]!) as object).slice(0, 2)).toEqual(['at', 'host']);
      const buckets = await call(engine, 'query.count', {
        source: 'rs',
        at: 'latest',
        ns: `${dbName}.system.buckets.metrics`,
        count: true,
      });
      expect(buckets.count).toBeGreaterThan(0);
      const cols = await call(engine, 'collections.list', { source: 'rs', at: 'latest' });
      const mine = cols.databases.find((d) => d.name === dbName)!.collections;
      expect(mine.map((c) => [c.name, c.type, c.count])).toEqual(
        expect.arrayContaining([
          ['items', 'collection', 299],
          ['metrics', 'timeseries', 12],
          ['system.buckets.metrics', 'buckets', buckets.count],
          ['big_qty', 'view', null],
        ]),
      );
      expect(mine.find((c) => c.name === 'items')!.indexes.map((i) => i.name)).toEqual([
        '_id_',
        'sku_1',
        'qty_sku',
        'tags_1',
      ]);
      // A MongoDB view reads through its pipeline.
      const view = await call(engine, 'query.find', {
        source: 'rs',
        at: 'latest',
        ns: `${dbName}.big_qty`,
        filter: '{"qty": {"$lt": 298}}',
      });
      expect(view.documents).toEqual([
        '{"_id":295,"qty":295}',
        '{"_id":296,"qty":296}',
        '{"_id":297,"qty":297}',
      ]);

      // Export the selected documents as BSON (mongorestore reads it) and restore them elsewhere by _id.
      const out = join(env.dir.path, 'sku3.bson');
      const exp = await runTask(engine, 'query.export', {
        source: 'rs',
        at: 'latest',
        ns: `${dbName}.items`,
        filter: '{"sku": "s3"}',
        format: 'bson',
        out,
      } as never);
      expect(exp).toMatchObject({ state: 'succeeded', result: { documents: 5, format: 'bson' } });
      const serverRaw = (await items.find({ sku: 's3' }, { raw: true }).toArray()) as unknown as Uint8Array[];
      const hexOf = (b: Uint8Array) => Buffer.from(b).toString('hex');
      expect([...splitBsonDocuments(readFileSync(out))].map(hexOf).sort()).toEqual(
        serverRaw.map(hexOf).sort(),
      );
      const restored = await runTask(engine, 'query.restore', {
        source: 'rs',
        at: 'latest',
        ns: `${dbName}.items`,
        filter: '{"sku": "s3"}',
        targetUri: uri,
        targetNs: `${dbName}_rec.items`,
      } as never);
      expect(restored).toMatchObject({
        state: 'succeeded',
        result: { selected: 5, inserted: 5, replaced: 0, failures: [] },
      });
      const rec = (await client
        .db(`${dbName}_rec`)
        .collection('items')
        .find({}, { raw: true })
        .toArray()) as unknown as Uint8Array[];
      expect(rec.map(hexOf).sort()).toEqual(serverRaw.map(hexOf).sort());
      const again2 = await runTask(engine, 'query.restore', {
        source: 'rs',
        at: 'latest',
        ns: `${dbName}.items`,
        filter: '{"sku": "s3"}',
        targetUri: uri,
        targetNs: `${dbName}_rec.items`,
        mode: 'insert',
      } as never);
      expect(again2).toMatchObject({ state: 'succeeded', result: { selected: 5, inserted: 0 } });
      expect((again2.result as { failures: unknown[] }).failures).toHaveLength(5);

      // view.build is a task: progress, a result, and cancel leaves no view behind.
      const built = await runTask(engine, 'view.build', { source: 'rs', at: 'latest' });
      expect(built).toMatchObject({ state: 'succeeded', result: { how: 'reused', state: 'ready' } });
      const viewsBefore = (await call(engine, 'view.list', {})).length;
      const snapAt = `${snap.consistentTs.t}:${snap.consistentTs.i}`;
      const started = await call(engine, 'view.build', { source: 'rs', at: snapAt });
      await call(engine, 'task.cancel', { taskId: started.taskId });
      expect(await engine.tasks.wait(started.taskId)).toMatchObject({ state: 'cancelled' });
      expect((await call(engine, 'view.list', {})).length).toBe(viewsBefore);
      expect(readdirSync(join(engine.dataDir, 'views')).filter((f) => f.startsWith('.tmp-'))).toEqual([]);

      // Bad input: typed errors naming what is wrong.
      const target = { source: 'rs', at: 'latest', ns: `${dbName}.items` };
      expect(await refusal(engine, 'query.find', { ...target, filter: '{"qty": ' })).toMatchObject({
        code: 'INVALID_INPUT',
        message: /filter: not valid Extended JSON/,
        details: { field: 'filter' },
      });
      expect(
        await refusal(engine, 'query.find', { ...target, filter: '{"qty": {"$foo": 1}}' }),
      ).toMatchObject({
        code: 'INVALID_INPUT',
        message: /\$foo/,
      });
      expect(await refusal(engine, 'query.find', { ...target, filter: '[1]' })).toMatchObject({
        code: 'INVALID_INPUT',
      });
      expect(await refusal(engine, 'query.find', { ...target, sort: '{"qty": 2}' })).toMatchObject({
        code: 'INVALID_INPUT',
        details: { field: 'sort' },
      });
      expect(
        await refusal(engine, 'query.find', { ...target, sort: '{"$natural": -1, "qty": 1}' }),
      ).toMatchObject({ code: 'INVALID_INPUT', details: { field: 'sort' }, message: /\$natural/ });
      // Newest written first, as a DBA asks mongod for the last documents inserted.
      const lastWritten = await call(engine, 'query.find', { ...target, sort: '{"$natural": -1}', limit: 2 });
      const { count: n } = await call(engine, 'query.count', { ...target, count: true });
      expect(n).toBeGreaterThan(2);
      const firstWritten = await call(engine, 'query.find', {
        ...target,
        sort: '{"$natural": 1}',
        skip: n - 2,
        limit: 2,
      });
      expect(lastWritten.documents).toEqual([...firstWritten.documents].reverse());
      expect(lastWritten.plan.index).toBeNull();
      expect(
        await refusal(engine, 'query.aggregate', { ...target, pipeline: '[{"$bogus": {}}]' }),
      ).toMatchObject({ code: 'INVALID_INPUT' });
      // An expression failing on the documents (mingo's own error): typed, not INTERNAL.
      expect(
        await refusal(engine, 'query.aggregate', {
          ...target,
          pipeline: '[{"$project": {"x": {"$add": ["$qty", "a"]}}}]',
        }),
      ).toMatchObject({ code: 'INVALID_INPUT', details: { field: 'pipeline' } });
      // A computed projection writes `_id` first, as mongod does.
      const computed = await call(engine, 'query.find', {
        ...target,
        projection: '{"doubled": {"$multiply": ["$qty", 2]}}',
        limit: 3,
      });
      expect(computed.documents.length).toBeGreaterThan(0);
      for (const d of computed.documents)
        expect(Object.keys(JSON.parse(d) as object)).toEqual(['_id', 'doubled']);
      expect(await refusal(engine, 'query.find', { ...target, ns: `${dbName}.nope` })).toMatchObject({
        code: 'NOT_FOUND',
        message: /does not exist at this point/,
      });
      expect(await refusal(engine, 'query.find', { ...target, at: '1000:1' })).toMatchObject({
        code: 'NOT_FOUND',
        details: { reason: 'BEFORE_WINDOW' },
      });
      expect(await refusal(engine, 'query.find', { ...target, at: '4000000000:1' })).toMatchObject({
        code: 'NOT_FOUND',
        details: { reason: 'IN_FUTURE' },
      });
      expect(
        await refusal(engine, 'history.get', { source: 'rs', ns: `${dbName}.items`, id: '{"$oid": 5}' }),
      ).toMatchObject({
        code: 'INVALID_INPUT',
        details: { field: 'id' },
      });
      expect(await refusal(engine, 'view.drop', { id: 999_999 })).toMatchObject({ code: 'NOT_FOUND' });

      // A damaged view file is never read: it is removed and built again.
      const before = await call(engine, 'view.list', {});
      const current = before.find((v) => v.bound.text === bySku.view.bound.text)!;
      const file = join(engine.dataDir, 'views', `view-${current.id}.sqlite`);
      const bytes = readFileSync(file);
      bytes.fill(0x5a, 4096, 8192 + 4096);
      writeFileSync(file, bytes);
      const again = await q({ sku: 's3' });
      expect(again.view.how).not.toBe('reused');
      expect(again.view.viewId).not.toBe(current.id);
      expect(again.documents.sort()).toEqual(bySku.documents.sort());
      expect((await call(engine, 'view.list', {})).some((v) => v.id === current.id)).toBe(false);
    });
  }, 120_000);
});
