/**
 * What only the stand-in can do on demand: a tiny capped oplog that rolls
 * over, authentication with a configured user, and fault injection. Against a
 * real server (MONGODB_URI / MONGOD_BINARY) these are skipped with a message.
 */
import { MongoClient, type MongoServerError, type Document, type Timestamp } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { FAULTS_SKIP_MESSAGE, MONGO_KIND, withMongo } from '../support/with-mongo.js';

const standinOnly = MONGO_KIND !== 'standin';
if (standinOnly) console.log(FAULTS_SKIP_MESSAGE);

async function refused(p: Promise<unknown>): Promise<MongoServerError> {
  try {
    await p;
  } catch (e) {
    return e as MongoServerError;
  }
  throw new Error('expected an error');
}

describe.skipIf(standinOnly)('stand-in: oplog roll-over', () => {
  it('trims the oldest entries and fails a tailing cursor whose position is gone with CappedPositionLost (136)', async () => {
    await withMongo(
      async ({ uri }) => {
        const client = new MongoClient(uri);
        try {
          const c = client.db('roll').collection('x');
          await c.insertOne({ n: 0 });
          const oplog = client.db('local').collection('oplog.rs');
          const first = (await oplog.find({}).limit(1).toArray())[0]!.ts as Timestamp;
          const cursor = oplog.find(
            { ts: { $gte: first } },
            { tailable: true, awaitData: true, batchSize: 2, maxAwaitTimeMS: 200 },
          );
          await cursor.next(); // position at the start
          await cursor.next();
          await c.insertMany(
            Array.from({ length: 40 }, (_, n) => ({ n })),
            { ordered: true },
          );
          expect(await oplog.countDocuments({})).toBe(20);
          const oldest = (await oplog.find({}).limit(1).toArray())[0]!.ts as Timestamp;
          expect(oldest.greaterThan(first)).toBe(true);
          const e = await refused(
            (async () => {
              for (let k = 0; k < 50; k++) await cursor.next();
            })(),
          );
          expect(e.code).toBe(136);
          expect(e.codeName).toBe('CappedPositionLost');
        } finally {
          await client.close();
        }
      },
      { oplogMaxEntries: 20 },
    );
  });
});

describe.skipIf(standinOnly)('stand-in: oplog size cap', () => {
  it('keeps the oplog under oplogMaxBytes, dropping the oldest entries', async () => {
    await withMongo(
      async ({ uri, standin }) => {
        const client = new MongoClient(uri);
        try {
          await client
            .db('cap')
            .collection('x')
            .insertMany(Array.from({ length: 100 }, (_, n) => ({ n, pad: 'x'.repeat(500) })));
          const entries = standin!.state.oplog.entries;
          const bytes = entries.reduce((n, e) => n + e.raw.byteLength, 0);
          expect(bytes).toBeLessThanOrEqual(8 * 1024);
          expect(entries.length).toBeGreaterThan(5);
          expect((entries.at(-1)!.js.o as { n: number }).n).toBe(99); // the newest are kept
        } finally {
          await client.close();
        }
      },
      { oplogMaxBytes: 8 * 1024 },
    );
  });
});

describe.skipIf(standinOnly)('stand-in: authentication', () => {
  it('accepts the configured user over SCRAM-SHA-256 and refuses a wrong password or no login', async () => {
    await withMongo(
      async ({ uri }) => {
        const ok = new MongoClient(uri, { serverSelectionTimeoutMS: 3000 });
        await ok.connect();
        expect((await ok.db('admin').command({ connectionStatus: 1 })).authInfo.authenticatedUsers).toEqual([
          { user: 'backup', db: 'admin' },
        ]);
        await ok.db('a').collection('b').insertOne({ x: 1 });
        await ok.close();

        const bad = new MongoClient(uri.replace('s3cret-pass', 'wrong'), { serverSelectionTimeoutMS: 3000 });
        const e = await refused(bad.connect());
        expect(e.message).toMatch(/Authentication failed/);
        await bad.close();

        const anon = new MongoClient(uri.replace('backup:s3cret-pass@', ''), {
          serverSelectionTimeoutMS: 3000,
        });
        const u = await refused(anon.db('a').collection('b').findOne({}));
        expect(u.code).toBe(13);
        await anon.close();
      },
      { auth: { username: 'backup', password: 's3cret-pass' } },
    );
  });
});

describe.skipIf(standinOnly)('stand-in: faults', () => {
  it('drops connections, refuses, stalls and restarts; the driver recovers and data survives', async () => {
    await withMongo(async ({ uri, standin }) => {
      const client = new MongoClient(uri, {
        serverSelectionTimeoutMS: 5000,
        retryReads: true,
        retryWrites: true,
      });
      try {
        const c = client.db('faults').collection('x');
        await c.insertOne({ _id: 1 as never });

        standin!.faults.dropConnections();
        expect(await c.countDocuments({})).toBe(1); // retried on a new connection

        const refusing = standin!.faults.refuseFor(500);
        await new Promise((r) => setTimeout(r, 50));
        // Like a server that is down: the driver either fails fast with a network error, or (when its
        // monitor already marked the server unknown) waits in server selection until it is back.
        const t0 = Date.now();
        const outcome = await c.countDocuments({}).then(
          (n) => ({ n, waited: Date.now() - t0 }),
          (e: Error) => e,
        );
        if (outcome instanceof Error)
          expect(outcome.name).toMatch(/MongoNetworkError|MongoServerSelectionError/);
        else expect(outcome.waited).toBeGreaterThanOrEqual(300);
        await refusing;
        expect(await c.countDocuments({})).toBe(1); // back after the refusal

        standin!.faults.stall(300);
        const s0 = Date.now();
        await c.findOne({});
        expect(Date.now() - s0).toBeGreaterThanOrEqual(250);

        const find = await client.db('faults').command({ find: 'x', filter: {}, batchSize: 0 });
        await standin!.faults.restart();
        // The first request after a restart meets the dead pooled connection, as with a real server.
        await client
          .db('admin')
          .command({ ping: 1 })
          .catch(() => undefined);
        const gone = await refused(client.db('faults').command({ getMore: find.cursor.id, collection: 'x' }));
        expect(gone.code).toBe(43); // cursors do not survive a restart
        expect(await c.countDocuments({})).toBe(1); // data does

        standin!.faults.trimOplogTo({ t: 2 ** 32 - 1, i: 0 });
        expect(await client.db('local').collection('oplog.rs').countDocuments({})).toBe(0);
      } finally {
        await client.close();
      }
    });
  });
});

describe(`applyOps replay (${MONGO_KIND})`, () => {
  it('replays a captured oplog range into another database with the same result', async () => {
    await withMongo(async ({ uri }) => {
      const client = new MongoClient(uri);
      try {
        const src = client.db(`replay_src_${Date.now()}`);
        const oplog = client.db('local').collection('oplog.rs');
        const [tail] = await oplog.find({}).sort({ $natural: -1 }).limit(1).toArray();
        await src.createCollection('orders');
        const c = src.collection('orders');
        await c.insertMany([
          { _id: 1, a: 1, arr: [1, 2, 3] },
          { _id: 2, a: 2 },
        ] as never[]);
        await c.updateOne({ _id: 1 } as never, { $set: { 'sub.x': 1 }, $pop: { arr: 1 } });
        await c.updateOne({ _id: 2 } as never, { $unset: { a: '' }, $set: { b: 'x' } });
        await c.deleteOne({ _id: 2 } as never);
        await c.insertOne({ _id: 3, z: true } as never);
        const ops = (await oplog
          .find({
            ts: { $gt: tail!.ts },
            ns: { $in: [`${src.databaseName}.orders`, `${src.databaseName}.$cmd`] },
          })
          .toArray()) as Document[];
        const dst = `replay_dst_${Date.now()}`;
        const renamed = ops.map(({ op, ns, o, o2, ui: _ui }) => {
          const n = String(ns).replace(src.databaseName, dst);
          const entry: Document = { op, ns: n, o };
          if (o2) entry.o2 = o2;
          return entry;
        });
        await client.db('admin').command({ applyOps: renamed });
        const want = await c.find({}).sort({ _id: 1 }).toArray();
        const got = await client.db(dst).collection('orders').find({}).sort({ _id: 1 }).toArray();
        expect(got).toEqual(want);
      } finally {
        await client.close();
      }
    });
  });
});

describe.skipIf(standinOnly)('stand-in: secondary members', () => {
  it('serve the same data and refuse writes (NotWritablePrimary)', async () => {
    const { startStandin } = await import('../support/standin/server.js');
    const rs = await startStandin({ secondaries: 1, noopIntervalMs: 0 });
    const primary = new MongoClient(rs.uri);
    const direct = new MongoClient(`mongodb://${rs.secondaryHosts[0]}/?directConnection=true`);
    try {
      await primary.db('d').collection<{ _id: number }>('c').insertOne({ _id: 1 });
      const hello = await direct.db('admin').command({ hello: 1 });
      expect(hello).toMatchObject({ isWritablePrimary: false, secondary: true, primary: rs.host });
      // A direct connection reads with secondaryOk, as drivers do for a single server.
      expect(await direct.db('d').collection('c').find({}).toArray()).toEqual([{ _id: 1 }]);
      expect(
        (await refused(direct.db('d').collection<{ _id: number }>('c').insertOne({ _id: 2 }))).code,
      ).toBe(10107);
    } finally {
      await primary.close();
      await direct.close();
      await rs.stop();
    }
  });
});
