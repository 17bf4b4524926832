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
import { EJSON, Timestamp } from 'bson';
import { MongoClient, type Document } from 'mongodb';
import { afterEach, describe, expect, it } from 'vitest';
import type { Engine } from '../../engine/engine.js';
import { capturingEngine } from '../support/capturing-engine.js';
import { waitUntilCaptured } from '../support/capture-wait.js';
import { runTask } from '../support/run-task.js';
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
      await snapshotNow(engine);
      const people = db.collection<Document>('people');
      const filler = db.collection('filler');
      // Writes to other documents between the changes, over several segments (cut every 200 ms).
      const fill = async () => {
        for (let k = 0; k < 3; k++) {
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
      await db.dropDatabase();
      await waitUntilCaptured(engine.capture.get(row.id)!, client);
      await engine.capture.stop(row.id);

      const oplog = (await client
        .db('local')
        .collection('oplog.rs')
        .find({})
        .sort({ $natural: 1 })
        .toArray()) as { ts: Timestamp; op: string; ns: string; o: Document; o2?: Document }[];
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
});
