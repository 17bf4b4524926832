/**
 * How mongod logs the writes the engine must replay, and how its reads see
 * concurrent writes: replacements as whole documents, two-phase index builds
 * on non-empty collections, transactions above 16 MB as partialTxn chains,
 * prepared transactions followed by commit or abort (and their
 * config.transactions record), collection scans that read live data at each
 * getMore. Shapes are compared with the real entries in ../shared/fixtures.
 * Runs against the stand-in or a real server (MONGOD_BINARY / MONGODB_URI).
 */
import { type Binary, Long, type Timestamp, deserialize, type Document } from 'bson';
import { readFileSync } from 'node:fs';
import { MongoClient, type ClientSession } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { splitBsonDocuments } from '../../engine/repo/bson-entries.js';
import { probeClient } from '../../engine/source/probe.js';
import { HAVE_FIXTURES, fixture } from '../support/fixtures.js';
import { parseDoc } from '../support/reference-applier.js';
import { startStandin } from '../support/standin/server.js';
import { rawField } from '../support/standin/wire.js';
import { FAULTS_SKIP_MESSAGE, MONGO_KIND, sharedMongoClient, uniqueDb } from '../support/with-mongo.js';

let client: MongoClient;
let release: () => Promise<void>;
beforeAll(async () => {
  ({ client, release } = await sharedMongoClient());
});
afterAll(() => release());

const TYPED = { promoteLongs: false } as const; // Longs stay Longs (txnNumber, count)
const oplog = () => client.db('local').collection('oplog.rs');

async function lastTs(): Promise<Timestamp> {
  const [e] = await oplog().find({}).sort({ $natural: -1 }).limit(1).toArray();
  return e!.ts as Timestamp;
}

/** Raw entries after `after` whose namespace or applyOps mention `db`. */
async function rawEntriesAfter(after: Timestamp, db: string): Promise<Uint8Array[]> {
  const raws = (await oplog()
    .find({ ts: { $gt: after } }, { raw: true })
    .toArray()) as unknown as Uint8Array[];
  return raws.filter((r) => Buffer.from(r).includes(Buffer.from(db)));
}

const typed = (raw: Uint8Array) => deserialize(raw, TYPED);
const cmdName = (e: Document) => Object.keys(e.o as Document)[0];
const tsOf = (e: Document) => e.ts as Timestamp;

/** The fixture's oplog entries (Extended JSON lines) of one file. */
function realEntries(...parts: string[]): Document[] {
  return [...splitBsonDocuments(readFileSync(fixture(...parts)))].map((r) => deserialize(r, TYPED));
}

describe(`writes as mongod logs them (${MONGO_KIND})`, () => {
  it('logs a replacement (replaceOne, update with a whole document) as the new document with _id first and no $v', async () => {
    const db = uniqueDb('repl');
    const c = client.db(db).collection('docs');
    await c.insertOne({ _id: 1 as never, a: 1, b: { c: 2 } });
    const before = await lastTs();
    await c.replaceOne({ _id: 1 as never }, { z: 'x', a: 1 });
    await client.db(db).command({ update: 'docs', updates: [{ q: { _id: 1 }, u: { y: 2 } }] });
    const ups = (await rawEntriesAfter(before, db)).filter((r) => typed(r).op === 'u');
    expect(ups).toHaveLength(2);
    for (const r of ups) {
      expect(typed(r).o2).toEqual({ _id: 1 });
      expect(Object.keys(typed(r).o as Document)).not.toContain('$v');
    }
    // The whole new document, fields in the order written, _id first (read from the raw bytes).
    expect(ups.map((r) => parseDoc(rawField(r, 'o')!).fields.map(([f]) => f))).toEqual([
      ['_id', 'z', 'a'],
      ['_id', 'y'],
    ]);
  });

  it('builds indexes on an empty collection with createIndexes, on a non-empty one with startIndexBuild/commitIndexBuild, and aborts a unique build that meets a duplicate', async () => {
    const db = uniqueDb('idx');
    const c = client.db(db).collection('items');
    await client.db(db).createCollection('items');
    const t0 = await lastTs();
    await c.createIndex({ sku: 1 }, { name: 'sku_1' }); // empty collection
    await c.insertMany([
      { _id: 1 as never, sku: 'a', grp: 1 },
      { _id: 2 as never, sku: 'b', grp: 1 },
    ]);
    await c.createIndexes([
      { key: { grp: 1 }, name: 'grp_1' },
      { key: { sku: 1, grp: 1 }, name: 'sku_1_grp_1' },
    ]);
    const err = await c.createIndex({ grp: -1 }, { name: 'grp_-1_u', unique: true }).catch((e: unknown) => e);
    expect((err as { code?: number }).code).toBe(11000);
    const entries = (await rawEntriesAfter(t0, db)).map(typed).filter((e) => e.op === 'c');
    expect(entries.map(cmdName)).toEqual([
      'createIndexes',
      'startIndexBuild',
      'commitIndexBuild',
      'startIndexBuild',
      'abortIndexBuild',
    ]);
    const [created, start, commit, startU, abort] = entries as [
      Document,
      Document,
      Document,
      Document,
      Document,
    ];
    expect(created.o).toMatchObject({ createIndexes: 'items', v: 2, key: { sku: 1 }, name: 'sku_1' });
    for (const e of [start, commit]) {
      expect(Object.keys(e.o as Document)).toEqual([cmdName(e), 'indexBuildUUID', 'indexes']);
      expect(((e.o as Document).indexBuildUUID as Binary).sub_type).toBe(4);
      expect(((e.o as Document).indexes as Document[]).map((i) => i.name)).toEqual(['grp_1', 'sku_1_grp_1']);
    }
    expect(Buffer.from(((start.o as Document).indexBuildUUID as Binary).buffer)).toEqual(
      Buffer.from(((commit.o as Document).indexBuildUUID as Binary).buffer),
    );
    expect((abort.o as Document).indexBuildUUID).toEqual((startU.o as Document).indexBuildUUID);
    expect((abort.o as Document).cause).toMatchObject({ ok: false, code: 11000, codeName: 'DuplicateKey' });
    const names = (await c.listIndexes().toArray()).map((i) => i.name as string).sort();
    expect(names).toEqual(['_id_', 'grp_1', 'sku_1', 'sku_1_grp_1']);
    if (HAVE_FIXTURES) {
      // The same fields as the real two-phase build in the fixtures.
      const real = realEntries('mongorestore', 'testdata', 'oplogs', 'bson', 'commit_index.bson');
      expect(real.map(cmdName)).toEqual(['startIndexBuild', 'commitIndexBuild']);
      for (const [mine, theirs] of [
        [start, real[0]!],
        [commit, real[1]!],
      ] as const) {
        expect(Object.keys(mine.o as Document)).toEqual(Object.keys(theirs.o as Document));
        expect(Object.keys(mine).sort()).toEqual(Object.keys(theirs).sort());
      }
    }
  });

  it('logs a transaction above 16 MB as a partialTxn chain linked by prevOpTime, the last entry with count', async () => {
    const db = uniqueDb('bigtxn');
    const c = client.db(db).collection('blobs');
    await c.insertOne({ _id: 'seed' as never });
    const before = await lastTs();
    const session = client.startSession();
    const pad = 'x'.repeat(1024 * 1024);
    try {
      await session.withTransaction(async () => {
        for (let k = 0; k < 20; k++) await c.insertOne({ _id: k as never, pad }, { session });
      });
    } finally {
      await session.endSession();
    }
    const chain = (await rawEntriesAfter(before, db)).map(typed).filter((e) => e.ns === 'admin.$cmd');
    expect(chain.length).toBeGreaterThanOrEqual(2);
    const ops = chain.flatMap((e) => (e.o as Document).applyOps as Document[]);
    expect(ops.map((o) => o._id ?? (o.o as Document)._id)).toHaveLength(20);
    chain.forEach((e, k) => {
      const o = e.o as Document;
      const last = k === chain.length - 1;
      expect(Object.keys(o)).toEqual(last ? ['applyOps', 'count'] : ['applyOps', 'partialTxn']);
      if (last) expect(o.count).toEqual(Long.fromNumber(20));
      else expect(o.partialTxn).toBe(true);
      const prev = e.prevOpTime as { ts: Timestamp; t: Long };
      if (k === 0) expect([prev.ts.high, prev.ts.low, Number(prev.t)]).toEqual([0, 0, -1]);
      else expect(prev.ts.equals(tsOf(chain[k - 1]!))).toBe(true);
      expect(e).toMatchObject({ lsid: { id: expect.anything(), uid: expect.anything() }, op: 'c' });
      expect((e.txnNumber as Long)._bsontype).toBe('Long');
    });
    expect(await c.countDocuments()).toBe(21);
  });

  /** Starts a transaction that inserts `ids`, then prepares it; returns its session and prepare ts. */
  async function prepared(
    db: string,
    ids: number[],
  ): Promise<{ session: ClientSession; prepareTs: Timestamp }> {
    const session = client.startSession();
    session.startTransaction();
    for (const _id of ids)
      await client
        .db(db)
        .collection('acct')
        .insertOne({ _id: _id as never, v: _id }, { session });
    const res = await client.db('admin').command({ prepareTransaction: 1 }, { session });
    return { session, prepareTs: res.prepareTimestamp as Timestamp };
  }

  it('logs a prepared transaction as applyOps with prepare: true, then commitTransaction or abortTransaction pointing at it, and keeps config.transactions as mongod does', async () => {
    const db = uniqueDb('prep');
    await client
      .db(db)
      .collection('acct')
      .insertOne({ _id: 0 as never });
    const before = await lastTs();
    const a = await prepared(db, [1, 2]);
    const record = async (s: ClientSession) =>
      client
        .db('config')
        .collection('transactions')
        .findOne({ '_id.id': s.id!.id } as never);
    const open = await record(a.session);
    expect(open).toMatchObject({ state: 'prepared', txnNum: expect.anything() });
    expect((open!.startOpTime as { ts: Timestamp }).ts.equals(a.prepareTs)).toBe(true);
    // Not visible before the commit.
    expect(await client.db(db).collection('acct').countDocuments()).toBe(1);
    await client
      .db('admin')
      .command({ commitTransaction: 1, commitTimestamp: a.prepareTs }, { session: a.session });
    const done = await record(a.session);
    expect(done).toMatchObject({ state: 'committed' });
    expect(done!.startOpTime).toBeUndefined();
    expect(await client.db(db).collection('acct').countDocuments()).toBe(3);
    await a.session.endSession().catch(() => undefined);

    const b = await prepared(db, [3]);
    await client.db('admin').command({ abortTransaction: 1 }, { session: b.session });
    expect(await record(b.session)).toMatchObject({ state: 'aborted' });
    await b.session.endSession().catch(() => undefined);
    expect(await client.db(db).collection('acct').countDocuments()).toBe(3);

    const entries = (await rawEntriesAfter(before, db))
      .map(typed)
      .concat(
        (
          (await oplog()
            .find({ ts: { $gt: before }, ns: 'admin.$cmd', 'o.applyOps': { $exists: false } }, { raw: true })
            .toArray()) as unknown as Uint8Array[]
        ).map(typed),
      )
      .filter((e) => e.ns === 'admin.$cmd')
      .sort((x, y) => tsOf(x).compare(tsOf(y)));
    expect(entries.map((e) => Object.keys(e.o as Document))).toEqual([
      ['applyOps', 'prepare'],
      ['commitTransaction', 'commitTimestamp'],
      ['applyOps', 'prepare'],
      ['abortTransaction'],
    ]);
    expect((entries[1]!.prevOpTime as { ts: Timestamp }).ts.equals(tsOf(entries[0]!))).toBe(true);
    expect((entries[3]!.prevOpTime as { ts: Timestamp }).ts.equals(tsOf(entries[2]!))).toBe(true);
    if (HAVE_FIXTURES) {
      // The shapes of transactions.json's "small, prepared, committed" and "…, aborted" cases.
      const cases = JSON.parse(
        readFileSync(fixture('mongorestore', 'testdata', 'transactions.json'), 'utf8'),
      ) as Record<string, { ops: { o: Document }[] }>;
      expect(cases['small, prepared, committed']!.ops.map((e) => Object.keys(e.o))).toEqual([
        ['applyOps', 'prepare'],
        ['commitTransaction', 'commitTimestamp'],
      ]);
      expect(cases['small, prepared, aborted']!.ops.map((e) => Object.keys(e.o))[1]).toEqual([
        'abortTransaction',
      ]);
    }
  });

  it('reads a collection scan live at each getMore: changed documents in their new version, deleted ones not at all', async () => {
    const c = client.db(uniqueDb('live')).collection('docs');
    await c.insertMany(Array.from({ length: 300 }, (_, k) => ({ _id: k as never, v: 'old' })));
    const cursor = c.find({}, { batchSize: 50 });
    const seen = new Map<number, string>();
    for (let k = 0; k < 50; k++) {
      const d = (await cursor.next())!;
      seen.set(d._id as unknown as number, d.v as string);
    }
    await c.updateOne({ _id: 250 as never }, { $set: { v: 'new' } });
    await c.deleteOne({ _id: 200 as never });
    await c.deleteOne({ _id: 10 as never }); // already returned
    for await (const d of cursor) seen.set(d._id as unknown as number, d.v as string);
    expect(seen.has(200)).toBe(false);
    expect(seen.get(250)).toBe('new');
    expect(seen.get(10)).toBe('old');
    expect(seen.size).toBe(299);
  });
});

describe.skipIf(MONGO_KIND !== 'standin')(
  `roles as mongod grants them (stand-in: a configured user) ${MONGO_KIND !== 'standin' ? FAULTS_SKIP_MESSAGE : ''}`,
  () => {
    async function as(roles: { role: string; db: string }[], fn: (c: MongoClient) => Promise<void>) {
      const s = await startStandin({
        noopIntervalMs: 0,
        auth: { username: 'bk', password: 'pw-123456', roles },
      });
      const c = new MongoClient(s.uri, { serverSelectionTimeoutMS: 3000 });
      try {
        await c.db('app').collection('x').insertOne({ a: 1 });
        await fn(c);
      } finally {
        await c.close();
        await s.stop();
      }
    }
    const readOplog = (c: MongoClient) => c.db('local').collection('oplog.rs').find({}).limit(1).toArray();
    const code = (p: Promise<unknown>) =>
      p.then(
        () => 0,
        (e: { code?: number }) => e.code,
      );

    it('reports the real roles, refuses local.oplog.rs to readAnyDatabase alone (13), allows it to backup or clusterMonitor', async () => {
      await as([{ role: 'readAnyDatabase', db: 'admin' }], async (c) => {
        const st = await c.db('admin').command({ connectionStatus: 1 });
        expect(st.authInfo.authenticatedUserRoles).toEqual([{ role: 'readAnyDatabase', db: 'admin' }]);
        expect(await code(c.db('app').collection('x').findOne({}))).toBe(0);
        expect(await code(readOplog(c))).toBe(13);
        expect(await code(c.db('config').collection('transactions').findOne({}))).toBe(13);
        const report = await probeClient(c, 'bk');
        expect(report.privileges.sufficient).toBe(false);
        expect(report.privileges.missing.join(' ')).toContain('local.oplog.rs');
      });
      await as([{ role: 'backup', db: 'admin' }], async (c) => {
        expect(await code(readOplog(c))).toBe(0);
        expect((await probeClient(c, 'bk')).privileges).toMatchObject({ sufficient: true, missing: [] });
      });
      await as([{ role: 'clusterMonitor', db: 'admin' }], async (c) => {
        expect(await code(readOplog(c))).toBe(0);
        expect(await code(c.db('app').collection('x').findOne({}))).toBe(13);
        expect((await probeClient(c, 'bk')).privileges.sufficient).toBe(false);
      });
      await as(
        [
          { role: 'readAnyDatabase', db: 'admin' },
          { role: 'read', db: 'local' },
        ],
        async (c) => {
          expect(await code(readOplog(c))).toBe(0);
          expect((await probeClient(c, 'bk')).privileges.sufficient).toBe(true);
        },
      );
    });
  },
);
