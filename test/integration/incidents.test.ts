/**
 * The finder for destructive operations on a scripted scenario, captured
 * live by the engine: one document inserted, updated twice and deleted (no
 * finding); a mass delete; a dropDatabase; a rename over an existing
 * collection; a transaction that mass-deletes. Each finding must be exactly
 * what the source's own oplog says (read back from local.oplog.rs by the
 * test, judged by mongod's rules), including the restore point before it,
 * and restoring to that point must give the data back. The stored findings
 * must equal a full rescan, survive a restart (resumed, not rescanned) and
 * come back after a catalog rebuild.
 */
import { join } from 'node:path';
import { type Binary, Timestamp, type Document } from 'bson';
import type { MongoClient } from 'mongodb';
import { afterEach, describe, expect, it } from 'vitest';
import { dispatch } from '../../engine/api/dispatch.js';
import type { CommandOutput } from '../../engine/api/contract.js';
import {
  countSegmentsAfter,
  forgetIncidents,
  incidentScan,
  incidentsBetween,
} from '../../engine/catalog/incidents.js';
import { Engine } from '../../engine/engine.js';
import { planRestore } from '../../engine/restore/planner.js';
import { buildOfflineState } from '../../engine/restore/offline-state.js';
import { newestOplogTs } from '../../engine/source/snapshot.js';
import { waitUntilSealed } from '../support/capture-wait.js';
import { capturingEngine } from '../support/capturing-engine.js';
import { runTask } from '../support/run-task.js';
import { MONGO_KIND, uniqueDb, withMongo } from '../support/with-mongo.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

type Ts = { t: number; i: number };
const tsOf = (e: Document): Ts => ({ t: (e.ts as Timestamp).high, i: (e.ts as Timestamp).low });
const text = (ts: Ts | null) => (ts ? `${ts.t}:${ts.i}` : null);

/** The source's oplog after `from` (exclusive), in ts order, as the server holds it. */
async function oplogAfter(client: MongoClient, from: Ts): Promise<Document[]> {
  return client
    .db('local')
    .collection('oplog.rs')
    .find({ ts: { $gt: new Timestamp(from) } }, { promoteLongs: false })
    .sort({ $natural: 1 })
    .toArray();
}

async function list(engine: Engine, input: Record<string, unknown> = {}) {
  const res = await dispatch(engine, 'incident.list', { source: 'rs', ...input } as never);
  if (!res.ok) throw new Error(res.error.message);
  return res.result as CommandOutput<'incident.list'>;
}

const comparable = (l: CommandOutput<'incident.list'>) =>
  l.incidents.map(({ id: _id, summary: _s, ...rest }) => rest);

describe(`incident finder on a captured scenario (${MONGO_KIND})`, () => {
  it('finds each destructive operation exactly, with the restore point just before it', async () => {
    await withMongo(
      async ({ uri, kind }) => {
        const env = await capturingEngine(uri, 'mbm-incidents-');
        cleanups.push(() => env.close());
        const { engine, row, client } = env;
        const db = uniqueDb('inc');
        const db2 = uniqueDb('inc_gone');
        await client
          .db(db)
          .collection('seed')
          .insertOne({ _id: 0 as never });
        const announced: unknown[] = [];
        const unsubscribe = engine.events.subscribe((e) => {
          if (e.event === 'incident.found') announced.push(e.payload);
        });
        cleanups.push(unsubscribe);
        await engine.capture.start(row);
        const snap = await runTask(engine, 'snapshot.take', { source: 'rs' });
        expect(snap.state).toBe('succeeded');
        const start = (await newestOplogTs(client))!;
        // The finder reads sealed segments: wait for the seal, not only for the journal.
        const captured = () => waitUntilSealed(engine.catalog, row.id, client);

        // One document's life: no finding.
        const one = client.db(db).collection('people');
        await one.insertOne({ _id: 1 as never, name: 'Ada' });
        await one.updateOne({ _id: 1 as never }, { $set: { name: 'Ada L.' } });
        await one.updateOne({ _id: 1 as never }, { $set: { born: 1815 } });
        await one.deleteOne({ _id: 1 as never });
        // A mass delete.
        const orders = client.db(db).collection('orders');
        await orders.insertMany(Array.from({ length: 1500 }, (_, k) => ({ _id: k as never, total: k })));
        // In two commands with a segment cut between them: the window spans segments.
        await orders.deleteMany({ total: { $lt: 700 } });
        await captured();
        await orders.deleteMany({});
        await captured();
        // A dropDatabase of a database with two collections.
        await client
          .db(db2)
          .collection('a')
          .insertMany(Array.from({ length: 10 }, (_, k) => ({ _id: k as never })));
        await client
          .db(db2)
          .collection('b')
          .insertMany(Array.from({ length: 20 }, (_, k) => ({ _id: k as never })));
        await client.db(db2).createCollection('v', { viewOn: 'a', pipeline: [] });
        await client.db(db2).dropDatabase();
        await captured();
        // A rename over an existing collection.
        await client
          .db(db)
          .collection('dst')
          .insertMany(Array.from({ length: 7 }, (_, k) => ({ _id: k as never })));
        await client
          .db(db)
          .collection('src')
          .insertOne({ _id: 'new' as never });
        await client.db(db).collection('src').rename('dst', { dropTarget: true });
        await captured();
        // Every index of a collection dropped at once: one entry per index.
        await client
          .db(db)
          .collection('dst')
          .createIndexes([{ key: { x: 1 } }, { key: { y: 1 } }]);
        await client.db(db).collection('dst').dropIndexes();
        // A transaction that mass-deletes.
        const accounts = client.db(db).collection('accounts');
        await accounts.insertMany(Array.from({ length: 1200 }, (_, k) => ({ _id: k as never, v: k })));
        const session = client.startSession();
        try {
          await session.withTransaction(async () => {
            await accounts.deleteMany({}, { session });
          });
        } finally {
          await session.endSession();
        }
        const sessionId = (session.id!.id as Binary).toString('hex');

        await captured();
        await engine.incidents.catchUp(row.id);

        // What the source's oplog says, by mongod's rules.
        const log = await oplogAfter(client, start);
        const at = (pred: (e: Document) => boolean) => log.findIndex(pred);
        const lastAt = (pred: (e: Document) => boolean) => log.map(pred).lastIndexOf(true);
        const prevTs = (k: number) => (k > 0 ? tsOf(log[k - 1]!) : start);
        const cmd = (e: Document, name: string) => e.op === 'c' && Object.keys(e.o as Document)[0] === name;
        const isDel = (e: Document) => e.op === 'd' && e.ns === `${db}.orders`;
        const firstDel = at(isDel);
        const firstDrop = at((e) => cmd(e, 'drop') && e.ns === `${db2}.$cmd`);
        const dropDb = at((e) => cmd(e, 'dropDatabase') && e.ns === `${db2}.$cmd`);
        const rename = at((e) => cmd(e, 'renameCollection'));
        const isDropIndex = (e: Document) => cmd(e, 'dropIndexes') && e.ns === `${db}.$cmd`;
        const firstDropIndex = at(isDropIndex);
        expect(log.filter(isDropIndex).map((e) => (e.o as Document).index)).toEqual(['x_1', 'y_1']);
        const isTxn = (e: Document) =>
          cmd(e, 'applyOps') &&
          !!e.lsid &&
          ((e.o as Document).applyOps as Document[]).some((o) => o.op === 'd' && o.ns === `${db}.accounts`);
        const firstTxn = at(isTxn);
        const lastTxn = lastAt(isTxn);
        // The stand-in splits it as mongod does above 16 MB (txnSplitBytes here): a partialTxn chain.
        if (kind === 'standin') expect(lastTxn).toBeGreaterThan(firstTxn);
        // mongod's shapes: a rename over a collection is one entry naming the dropped one's UUID.
        expect((log[rename]!.o as Document).dropTarget).toMatchObject({ _bsontype: 'Binary', sub_type: 4 });
        expect(log[rename]!.o2).toEqual({ numRecords: expect.anything() });
        expect(Number((log[rename]!.o2 as Document).numRecords)).toBe(7);
        expect(
          log
            .slice(firstDrop, dropDb)
            .filter((e) => e.ns === `${db2}.$cmd`)
            .map((e) => [(e.o as Document).drop, Number((e.o2 as Document).numRecords)])
            .sort(),
        ).toEqual([
          ['a', 10],
          ['b', 20],
          ['system.views', 1],
        ]);
        // Between the first drop and dropDatabase, nothing else of that database.
        expect(
          log.slice(firstDrop, dropDb).filter((e) => String(e.ns).startsWith(`${db2}.`) && !cmd(e, 'drop')),
        ).toEqual([]);

        const found = await list(engine);
        expect(found.scan.pendingSegments).toBe(0);
        // Announced as segments were scanned (the renderer and the timeline read again on it).
        expect(announced.length).toBeGreaterThanOrEqual(4);
        expect(announced[0]).toEqual({ sourceId: row.id, source: 'rs', changed: expect.any(Number) });
        expect(found.scan).toMatchObject({ documents: 1000, seconds: 10 });
        const ours = (ns: string) => ns === db2 || ns.startsWith(`${db}.`);
        const mine = found.incidents.filter((f) => ours(f.ns));
        expect(
          mine.map((f) => ({
            kind: f.kind,
            ns: f.ns,
            first: f.firstTs.text,
            last: f.lastTs.text,
            before: f.restoreBefore?.text ?? null,
            size: f.size,
          })),
        ).toEqual([
          {
            kind: 'massDelete',
            ns: `${db}.orders`,
            first: text(tsOf(log[firstDel]!)),
            last: text(tsOf(log[lastAt(isDel)]!)),
            before: text(prevTs(firstDel)),
            size: 1500,
          },
          {
            kind: 'dropDatabase',
            ns: db2,
            first: text(tsOf(log[firstDrop]!)),
            last: text(tsOf(log[dropDb]!)),
            before: text(prevTs(firstDrop)),
            size: 31,
          },
          {
            kind: 'renameOverCollection',
            ns: `${db}.dst`,
            first: text(tsOf(log[rename]!)),
            last: text(tsOf(log[rename]!)),
            before: text(prevTs(rename)),
            size: 7,
          },
          {
            kind: 'dropIndexes',
            ns: `${db}.dst`,
            first: text(tsOf(log[firstDropIndex]!)),
            last: text(tsOf(log[lastAt(isDropIndex)]!)),
            before: text(prevTs(firstDropIndex)),
            size: 2,
          },
          {
            kind: 'transaction',
            ns: `${db}.accounts`,
            first: text(tsOf(log[firstTxn]!)),
            last: text(tsOf(log[lastTxn]!)),
            before: text(prevTs(firstTxn)),
            size: 1200,
          },
        ]);
        expect([...(mine[1]!.details.collections as string[])].sort()).toEqual(['a', 'b', 'system.views']);
        expect(mine[2]!.details).toEqual({ from: `${db}.src`, targetExisted: true });
        const txn = mine[4]!;
        expect(txn.lsid?.id.replace(/-/g, '')).toBe(sessionId);
        expect(txn.txnNumber).toBe(Number(log[firstTxn]!.txnNumber));
        expect(txn.wall).toBe((log[firstTxn]!.wall as Date).toISOString());
        expect(mine[0]!.summary).toMatch(
          new RegExp(`^1,500 documents deleted from ${db}\\.orders (within one second|in \\d+ seconds?)$`),
        );
        expect(found.incidents.filter((f) => !ours(f.ns))).toEqual([]);

        // "Restore to just before this" gives the data back; the event's own first entry does not.
        const store = await engine.stores.get();
        const offlineAt = async (ts: string) => {
          const [t, i] = ts.split(':').map(Number);
          const plan = planRestore(engine.catalog, row.id, { kind: 'ts', ts: { t: t!, i: i! } });
          if (!plan.ok) throw new Error(plan.message);
          return buildOfflineState(store.repo, plan);
        };
        const count = (s: Awaited<ReturnType<typeof offlineAt>>, ns: string) => s.get(ns)?.docs.size ?? 0;
        expect(count(await offlineAt(mine[0]!.restoreBefore!.text), `${db}.orders`)).toBe(1500);
        expect(count(await offlineAt(mine[0]!.firstTs.text), `${db}.orders`)).toBe(1499);
        const beforeDrop = await offlineAt(mine[1]!.restoreBefore!.text);
        expect([count(beforeDrop, `${db2}.a`), count(beforeDrop, `${db2}.b`)]).toEqual([10, 20]);
        expect(count(await offlineAt(mine[2]!.restoreBefore!.text), `${db}.dst`)).toBe(7);
        expect(count(await offlineAt(mine[4]!.restoreBefore!.text), `${db}.accounts`)).toBe(1200);
        expect(mine[3]!.details).toEqual({ indexes: ['x_1', 'y_1'] });

        // --from / --to select by the first entry.
        const only = await list(engine, { from: mine[1]!.firstTs.text, to: mine[2]!.firstTs.text });
        expect(only.incidents.map((f) => f.kind)).toEqual(['dropDatabase', 'renameOverCollection']);
        // More than asked: the oldest by default, the newest (the Incidents list's) on request.
        const ids = (l: CommandOutput<'incident.list'>) => l.incidents.map((f) => f.id);
        const oldest = await list(engine, { limit: 2 });
        expect([ids(oldest), oldest.truncated]).toEqual([ids(found).slice(0, 2), true]);
        const newest = await list(engine, { limit: 2, newest: true });
        expect([ids(newest), newest.truncated]).toEqual([ids(found).slice(-2), true]);
        expect((await list(engine, { limit: found.incidents.length, newest: true })).truncated).toBe(false);
        const reversed = await dispatch(engine, 'incident.list', {
          source: 'rs',
          from: mine[2]!.firstTs.text,
          to: mine[1]!.firstTs.text,
        });
        expect(reversed).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT' } });
        const unknown = await dispatch(engine, 'incident.list', { source: 'nope' });
        expect(unknown).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });

        // The timeline flags them.
        const tl = await dispatch(engine, 'timeline.get', {
          source: 'rs',
          from: new Date((mine[0]!.firstTs.t - 60) * 1000).toISOString(),
          to: new Date((mine[4]!.lastTs.t + 60) * 1000).toISOString(),
          width: 240,
        });
        if (!tl.ok) throw new Error(tl.error.message);
        const timeline = tl.result as CommandOutput<'timeline.get'>;
        expect(timeline.incidents?.map((f) => [f.id, f.kind, f.firstTs.text, f.restoreBefore?.text])).toEqual(
          found.incidents.map((f) => [f.id, f.kind, f.firstTs.text, f.restoreBefore?.text]),
        );
        expect(timeline.incidentCounts.reduce((a, b) => a + b, 0)).toBe(found.incidents.length);

        // Incremental (as capture wrote segments, from the entries in memory) equals a full rescan of the files.
        const scan = incidentScan(engine.catalog, row.id)!;
        expect(scan.segments).toBeGreaterThanOrEqual(5);
        expect(engine.incidents.scanned.fromMemory + engine.incidents.scanned.fromTail).toBe(scan.segments);
        const readBefore = engine.incidents.scanned.fromFiles;
        forgetIncidents(engine.catalog, row.id);
        // A read-only engine (a CLI beside this one) scans what is not stored, in memory, and writes nothing.
        const reader = Engine.open({ dataDir: engine.dataDir, mode: 'cli', readOnly: true });
        try {
          const seen = await list(reader);
          expect(comparable(seen)).toEqual(comparable(found));
          expect(seen.scan.pendingSegments).toBe(scan.segments);
          expect(seen.incidents.every((f) => f.id < 0)).toBe(true); // not stored
          expect(incidentScan(engine.catalog, row.id)).toBeUndefined();
        } finally {
          await reader.close();
        }
        const rescanned = await list(engine); // the writer catches up first: a full rescan of the files
        expect(comparable(rescanned)).toEqual(comparable(found));
        expect(incidentScan(engine.catalog, row.id)!.segments).toBe(scan.segments);
        expect(engine.incidents.scanned.fromFiles - readBefore).toBe(scan.segments); // every file, read again

        // Thresholds are settings; a change rescans with the new ones.
        const set = await dispatch(engine, 'settings.set', { incidentDocuments: 1500 });
        expect(set.ok).toBe(true);
        const stricter = await list(engine);
        expect(stricter.scan.documents).toBe(1500);
        expect(stricter.incidents.filter((f) => ours(f.ns)).map((f) => f.kind)).toEqual([
          'dropDatabase',
          'renameOverCollection',
          'dropIndexes',
        ]);
      },
      { txnSplitBytes: 4000 },
    );
  });

  it('resumes after a restart where it stopped, and finds everything again after a catalog rebuild', async () => {
    await withMongo(async ({ uri }) => {
      const env = await capturingEngine(uri, 'mbm-incidents-restart-');
      cleanups.push(() => env.close());
      const { row, client } = env;
      const db = uniqueDb('incr');
      await client
        .db(db)
        .collection('seed')
        .insertOne({ _id: 0 as never });
      await env.engine.capture.start(row);
      const coll = client.db(db).collection('a');
      await coll.insertMany(Array.from({ length: 5 }, (_, k) => ({ _id: k as never })));
      await coll.drop();
      await waitUntilSealed(env.engine.catalog, row.id, client);
      await env.engine.incidents.catchUp(row.id);
      const before = await list(env.engine);
      expect(before.incidents.map((f) => [f.kind, f.ns, f.size])).toEqual([['drop', `${db}.a`, 5]]);
      const scanned = incidentScan(env.engine.catalog, row.id)!;
      await env.engine.close();

      // While no engine runs: another drop.
      await client
        .db(db)
        .collection('b')
        .insertOne({ _id: 1 as never });
      const lastBeforeDrop = (await newestOplogTs(client))!;
      await client.db(db).collection('b').drop();

      const engine = Engine.open({
        dataDir: join(env.dir.path, 'data'),
        mode: 'headless',
        sourceTimeoutMs: 3000,
        capture: { segmentMaxMs: 200, awaitMs: 100, backoffMinMs: 50, backoffMaxMs: 400 },
      });
      cleanups.push(() => engine.close());
      await engine.stores.get();
      await engine.capture.start(row);
      await waitUntilSealed(engine.catalog, row.id, client);
      await engine.incidents.catchUp(row.id);
      const after = await list(engine);
      // The first finding kept its row (not rescanned); the new one is found from the stored state.
      expect(after.incidents[0]).toEqual(before.incidents[0]);
      expect(after.incidents.slice(1).map((f) => [f.kind, f.ns, f.size, f.restoreBefore?.text])).toEqual([
        ['drop', `${db}.b`, 1, text(lastBeforeDrop)],
      ]);
      const resumed = incidentScan(engine.catalog, row.id)!;
      const newSegments = countSegmentsAfter(engine.catalog, row.id, {
        t: scanned.through_t,
        i: scanned.through_i,
      });
      expect(newSegments).toBeGreaterThan(0);
      expect(resumed.segments).toBe(scanned.segments + newSegments);
      // Only the new segments were scanned by this run: it resumed, it did not start over.
      expect(
        engine.incidents.scanned.fromMemory +
          engine.incidents.scanned.fromTail +
          engine.incidents.scanned.fromFiles,
      ).toBe(newSegments);

      // catalog rebuild forgets them with the rest of the index; the next look finds them again.
      await engine.capture.stopAll();
      const rebuilt = await runTask(engine, 'catalog.rebuild', {});
      expect(rebuilt.state).toBe('succeeded');
      expect(incidentsBetween(engine.catalog, row.id, null, null, 10)).toEqual([]);
      expect(comparable(await list(engine))).toEqual(comparable(after));
    });
  });
});
