/**
 * The oplog as MongoDB writes it: entry shapes per op kind (compared with the
 * real entries in ../shared/fixtures), update entries that the tests' own
 * reference applier (test/support/reference-applier.ts, written from mongod's
 * rules, not the engine's code) and the engine's applier (on raw BSON) each
 * turn from the pre-image into the post-image,
 * also when re-applied to newer pre-images, tailable awaitData cursors,
 * roll-over. Runs against the stand-in or a real server.
 */
import { Decimal128, Double, Long, deserialize, type Document } from 'bson';
import fc from 'fast-check';
import { readFileSync, readdirSync } from 'node:fs';
import { type MongoClient, type Timestamp } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { splitBsonDocuments } from '../../engine/repo/bson-entries.js';
import { applyUpdateEntry } from '../../engine/oplog/update-entry.js';
import { applyOplogUpdate, parseDoc } from '../support/reference-applier.js';
import { rawField } from '../support/standin/wire.js';
import { HAVE_FIXTURES, fixture } from '../support/fixtures.js';
import { MONGO_KIND, sharedMongoClient, uniqueDb } from '../support/with-mongo.js';

let client: MongoClient;
let release: () => Promise<void>;

beforeAll(async () => {
  ({ client, release } = await sharedMongoClient());
});
afterAll(() => release());

const oplog = () => client.db('local').collection('oplog.rs');

/** Raw oplog entries (exact BSON types) after `after`, for one database. */
async function entriesAfter(after: Timestamp, db: string): Promise<Document[]> {
  const docs = await oplog()
    .find({ ts: { $gt: after } }, { raw: true })
    .toArray();
  return docs
    .map((b) => deserialize(b as unknown as Buffer, { promoteValues: false, promoteLongs: false }))
    .filter(
      (e) => String(e.ns).startsWith(`${db}.`) || (e.ns === 'admin.$cmd' && JSON.stringify(e.o).includes(db)),
    );
}

async function lastTs(): Promise<Timestamp> {
  const [e] = await oplog().find({}).sort({ $natural: -1 }).limit(1).toArray();
  return e!.ts as Timestamp;
}

const typeOf = (v: unknown): string => {
  const t = (v as { _bsontype?: string })?._bsontype;
  if (t) return t === 'Binary' ? `Binary(${(v as { sub_type: number }).sub_type})` : t;
  if (v instanceof Date) return 'Date';
  if (Array.isArray(v)) return 'array';
  return typeof v;
};

function shape(e: Document): Record<string, string> {
  return Object.fromEntries(Object.entries(e).map(([k, v]) => [k, typeOf(v)]));
}

describe(`oplog entries (${MONGO_KIND})`, () => {
  it.skipIf(!HAVE_FIXTURES)(
    'have the field names and BSON types of real MongoDB entries, per op kind',
    async () => {
      // What real MongoDB 5.0+ writes, read from the fixtures.
      const real: Record<string, Record<string, string>> = {};
      for (const f of readdirSync(fixture('mongorestore', 'testdata', 'oplogs', 'bson'))) {
        for (const raw of splitBsonDocuments(
          readFileSync(fixture('mongorestore', 'testdata', 'oplogs', 'bson', f)),
        )) {
          const e = deserialize(raw, { promoteValues: false, promoteLongs: false });
          if (e.op === 'c' && (e.t as { _bsontype?: string })?._bsontype === 'Long')
            real[`c:${Object.keys(e.o as Document)[0]}`] = shape(e);
        }
      }
      expect(Object.keys(real)).toEqual(expect.arrayContaining(['c:collMod', 'c:createIndexes']));

      const db = uniqueDb('shape');
      const before = await lastTs();
      const c = client.db(db).collection('orders');
      await c.insertOne({ _id: 1 as never, a: 1 });
      await c.updateOne({ _id: 1 as never }, { $set: { a: 2 } });
      await c.createIndex({ a: 1 }, { name: 'a_1', expireAfterSeconds: 1000 }); // non-empty: a two-phase build
      await client.db(db).command({ collMod: 'orders', index: { name: 'a_1', expireAfterSeconds: 3600 } });
      await c.deleteOne({ _id: 1 as never });
      await c.dropIndex('a_1');
      await c.rename('orders2');
      await client.db(db).collection('orders2').drop();
      await client.db(db).dropDatabase();
      const mine = await entriesAfter(before, db);
      const kinds = mine.map((e) => (e.op === 'c' ? `c:${Object.keys(e.o as Document)[0]}` : String(e.op)));
      expect(kinds).toEqual(
        expect.arrayContaining([
          'c:create',
          'i',
          'u',
          'c:startIndexBuild',
          'c:commitIndexBuild',
          'c:collMod',
          'd',
          'c:dropIndexes',
          'c:renameCollection',
          'c:drop',
          'c:dropDatabase',
        ]),
      );

      const common = {
        op: 'string',
        ns: 'string',
        ts: 'Timestamp',
        t: 'Long',
        v: 'Long',
        wall: 'Date',
        o: 'object',
      };
      for (const e of mine) {
        const s = shape(e);
        expect(s, JSON.stringify(e)).toMatchObject(common);
        if (e.ui !== undefined) expect(s.ui).toBe('Binary(4)');
        const kind = e.op === 'c' ? `c:${Object.keys(e.o as Document)[0]}` : String(e.op);
        if (real[kind]) expect(Object.keys(s).sort(), kind).toEqual(Object.keys(real[kind]!).sort());
        if (e.op === 'u') expect(s.o2).toBe('object');
      }
      const upd = mine.find((e) => e.op === 'u')!;
      expect(Number((upd.o as Document).$v)).toBe(2);
      expect((upd.o as Document).diff).toEqual({ u: { a: expect.anything() } });
    },
  );

  it('commits a transaction as one applyOps entry in admin.$cmd with lsid, txnNumber and prevOpTime', async () => {
    const db = uniqueDb('txnlog');
    const c = client.db(db).collection('acct');
    await c.insertOne({ _id: 1 as never, bal: 1 });
    const before = await lastTs();
    const s = client.startSession();
    try {
      await s.withTransaction(async () => {
        await c.insertOne({ _id: 2 as never, bal: 2 }, { session: s });
        await c.updateOne({ _id: 1 as never }, { $inc: { bal: 1 } }, { session: s });
      });
    } finally {
      await s.endSession();
    }
    const [entry] = (await entriesAfter(before, db)).filter((e) => e.ns === 'admin.$cmd');
    expect(entry).toBeDefined();
    expect(shape(entry!)).toMatchObject({
      lsid: 'object',
      txnNumber: 'Long',
      prevOpTime: 'object',
      op: 'string',
    });
    const ops = (entry!.o as Document).applyOps as Document[];
    expect(ops.map((o) => o.op)).toEqual(['i', 'u']);
    expect(ops.every((o) => o.ns === `${db}.acct`)).toBe(true);
  });
});

/**
 * Random documents and updates for the property tests: BSON types that JavaScript
 * numbers would blur (Double, Int64, Decimal128) and field names like numbers
 * ("2024", "10"), inserted as Maps so that their order is the one written.
 */
const scalar = fc.oneof(
  fc.integer({ min: -1000, max: 1000 }),
  fc.string({ maxLength: 6 }),
  fc.boolean(),
  fc.constant(null),
  fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 }),
  fc.integer({ min: -5, max: 5 }).map((n) => new Double(n)),
  fc.bigInt({ min: -(2n ** 40n), max: 2n ** 40n }).map((n) => Long.fromBigInt(n)),
  fc.integer({ min: -999, max: 999 }).map((n) => Decimal128.fromString(`${n}.5`)),
);
const key = fc.constantFrom('a', 'b', 'c', '2024', '10');
const value: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  v: fc.oneof({ depthSize: 'small', withCrossShrink: true }, scalar, tie('obj'), tie('arr')),
  obj: fc.uniqueArray(fc.tuple(key, tie('v')), { maxLength: 4, selector: ([k]) => k }).map((e) => new Map(e)),
  arr: fc.array(tie('v'), { maxLength: 4 }),
})).v;
const docArb = fc.uniqueArray(fc.tuple(key, value), { maxLength: 5, selector: ([k]) => k });
const path = fc.oneof(
  key,
  fc.tuple(key, key).map(([x, y]) => `${x}.${y}`),
  fc.tuple(key, fc.integer({ min: 0, max: 3 })).map(([x, i]) => `${x}.${i}`),
);
const updateArb = fc.oneof(
  fc.dictionary(path, value, { minKeys: 1, maxKeys: 3 }).map((set) => ({ $set: set })),
  fc.dictionary(key, fc.constant(''), { minKeys: 1, maxKeys: 2 }).map((unset) => ({ $unset: unset })),
  fc.tuple(key, value).map(([k, v]) => ({ $push: { [k]: v } })),
  fc
    .tuple(key, key)
    .filter(([x, y]) => x !== y)
    .map(([x, y]) => ({ $rename: { [x]: y } })),
  fc.tuple(key, fc.integer({ min: 1, max: 5 })).map(([k, n]) => ({ $inc: { [k]: n } })),
  docArb.map((fields) => ({ replace: new Map(fields) })),
);

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe(`update entries (${MONGO_KIND})`, () => {
  it('turn S0 into Sn through D1..Dn with the reference applier and the engine alike, also re-applied to any newer Sj (property)', async () => {
    const c = client.db(uniqueDb('diff')).collection('docs');
    let n = 0;
    let steps = 0;
    let reapplied = 0;
    await fc.assert(
      fc.asyncProperty(
        docArb,
        fc.array(updateArb, { minLength: 1, maxLength: 6 }),
        async (fields, updates) => {
          const _id = ++n;
          await c.insertOne(new Map<string, unknown>([['_id', _id], ...fields]) as never);
          const read = async () =>
            (await c.findOne({ _id } as never, { raw: true })) as unknown as Uint8Array;
          const states: Uint8Array[] = [await read()]; // S0, S1, …
          const diffs: Uint8Array[] = []; // D1, D2, …: the raw `o` of each logged update
          const ids: Uint8Array[] = []; // their o2
          for (const u of updates) {
            const before = await lastTs();
            try {
              if ('replace' in u) await c.replaceOne({ _id } as never, u.replace as never);
              else await c.updateOne({ _id } as never, u as never);
            } catch {
              continue; // an update MongoDB refuses (e.g. $inc on a string, a path through a scalar) logs nothing
            }
            const post = await read();
            const raw = (await oplog()
              .find({ ts: { $gt: before }, op: 'u', ns: c.namespace }, { raw: true })
              .toArray()) as unknown as Uint8Array[];
            if (hex(post) === hex(states[states.length - 1]!)) {
              expect(raw).toEqual([]); // no-op updates are not logged
              continue;
            }
            expect(raw).toHaveLength(1);
            const o = rawField(raw[0]!, 'o')!;
            if ('replace' in u) {
              // A replacement is logged as the whole new document: _id first, no $v.
              const names = parseDoc(o).fields.map(([f]) => f);
              expect(names[0]).toBe('_id');
              expect(names).not.toContain('$v');
              expect(hex(o)).toBe(hex(post));
            }
            // The entry turns the previous state into this one, byte for byte: with the reference
            // applier and with the engine's (engine/oplog/update-entry.ts), each on its own.
            const o2 = rawField(raw[0]!, 'o2')!;
            expect(hex(applyOplogUpdate(states[states.length - 1]!, o))).toBe(hex(post));
            expect(
              hex(applyUpdateEntry(Buffer.from(states[states.length - 1]!), Buffer.from(o), Buffer.from(o2))),
            ).toBe(hex(post));
            states.push(post);
            diffs.push(o);
            ids.push(o2);
            steps++;
          }
          // Re-application: D_k..D_n applied to any S_j with j >= k-1 gives S_n (what replay over a
          // snapshot taken while writes ran does to every document changed meanwhile).
          const last = hex(states[states.length - 1]!);
          for (let k = 1; k <= diffs.length; k++) {
            for (let j = k - 1; j < states.length; j++) {
              let doc: Uint8Array = states[j]!;
              let engineDoc: Buffer = Buffer.from(states[j]!);
              for (let d = k; d <= diffs.length; d++) {
                doc = applyOplogUpdate(doc, diffs[d - 1]!);
                engineDoc = applyUpdateEntry(engineDoc, Buffer.from(diffs[d - 1]!), Buffer.from(ids[d - 1]!));
              }
              expect(hex(doc), `D${k}..D${diffs.length} over S${j}`).toBe(last);
              expect(hex(engineDoc), `engine: D${k}..D${diffs.length} over S${j}`).toBe(last);
              if (j >= k) reapplied++;
            }
          }
        },
      ),
      { numRuns: 120 },
    );
    expect(steps).toBeGreaterThan(100);
    expect(reapplied).toBeGreaterThan(50);
  });
});

describe(`tailable oplog cursors (${MONGO_KIND})`, () => {
  it('wake up on a new entry instead of waiting for the await timeout', async () => {
    const db = uniqueDb('tail');
    const start = await lastTs();
    const cursor = oplog().find(
      { ts: { $gt: start } },
      { tailable: true, awaitData: true, maxAwaitTimeMS: 8000, batchSize: 1 },
    );
    const c = client.db(db).collection('x');
    const writer = setTimeout(() => void c.insertOne({ _id: 'woke' as never }), 300);
    const t0 = Date.now();
    let found: Document | null = null;
    while (!found) {
      const e = await cursor.next();
      if (e && e.ns === `${db}.x` && e.op === 'i') found = e;
    }
    // Functional check with a wide margin: the cursor did not sit out the 8 s await.
    expect(Date.now() - t0).toBeLessThan(6000);
    clearTimeout(writer);
    await cursor.close();
  });
});
