/**
 * Conformance of the MongoDB used by integration tests (the stand-in, or a
 * real server through MONGODB_URI / MONGOD_BINARY), through the official driver.
 * Nothing here asserts stand-in-only behaviour.
 */
import { Decimal128, Double, Int32, Long, serialize, deserialize, Timestamp, type Document } from 'bson';
import { readFileSync } from 'node:fs';
import {
  type MongoClient,
  type MongoServerError,
  ObjectId,
  Timestamp as DriverTimestamp,
  UUID,
} from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { splitBsonDocuments } from '../../engine/repo/bson-entries.js';
import { HAVE_FIXTURES, fixture } from '../support/fixtures.js';
import { MONGO_KIND, sharedMongoClient, uniqueDb } from '../support/with-mongo.js';

// Test documents are free-form; the driver's strict typing of filters and operators is not under test.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyDoc = any;
const coll = (db: string, name: string) => client.db(db).collection<AnyDoc>(name);

let client: MongoClient;
let release: () => Promise<void>;

beforeAll(async () => {
  ({ client, release } = await sharedMongoClient());
});
afterAll(() => release());

const err = async (p: Promise<unknown>): Promise<MongoServerError> => {
  try {
    await p;
  } catch (e) {
    return e as MongoServerError;
  }
  throw new Error('expected the server to refuse');
};

describe(`MongoDB conformance (${MONGO_KIND})`, () => {
  it('reports a replica-set primary', async () => {
    const hello = await client.db('admin').command({ hello: 1 });
    expect(hello).toMatchObject({
      isWritablePrimary: true,
      setName: expect.any(String),
      hosts: expect.any(Array),
    });
    expect(hello.topologyVersion).toBeDefined();
    expect(hello.maxWireVersion).toBeGreaterThanOrEqual(17);
    const info = await client.db('admin').command({ buildInfo: 1 });
    expect(info.version).toMatch(/^\d+\.\d+\.\d+/);
    const status = await client.db('admin').command({ replSetGetStatus: 1 });
    expect(status.members[0]).toMatchObject({
      stateStr: 'PRIMARY',
      optime: { ts: expect.any(DriverTimestamp) },
    });
  });

  it('does CRUD with filters, projections, sorts, upserts and array filters', async () => {
    const c = coll(uniqueDb('crud'), 'orders');
    await c.insertMany([
      { sku: 'a', qty: 5, tags: ['x'], items: [{ n: 1 }, { n: 2 }] },
      { sku: 'b', qty: 1, tags: [], items: [] },
      { sku: 'c', qty: 9, tags: ['x', 'y'], items: [{ n: 3 }] },
    ]);
    expect(
      await c
        .find({ qty: { $gt: 2 } }, { projection: { _id: 0, sku: 1 } })
        .sort({ qty: -1 })
        .toArray(),
    ).toEqual([{ sku: 'c' }, { sku: 'a' }]);
    expect(await c.find({}).skip(1).limit(1).sort({ sku: 1 }).project({ _id: 0, sku: 1 }).toArray()).toEqual([
      { sku: 'b' },
    ]);
    expect(
      (await c.updateOne({ sku: 'a' }, { $inc: { qty: 2 }, $push: { tags: 'z' } as never })).modifiedCount,
    ).toBe(1);
    expect(
      (
        await c.updateOne(
          { sku: 'a' },
          { $set: { 'items.$[e].n': 10 } },
          { arrayFilters: [{ 'e.n': { $gte: 2 } }] },
        )
      ).modifiedCount,
    ).toBe(1);
    expect(await c.findOne({ sku: 'a' }, { projection: { _id: 0 } })).toEqual({
      sku: 'a',
      qty: 7,
      tags: ['x', 'z'],
      items: [{ n: 1 }, { n: 10 }],
    });
    const up = await c.updateOne(
      { sku: 'd' },
      { $set: { qty: 4 }, $setOnInsert: { created: true } },
      { upsert: true },
    );
    expect(up.upsertedCount).toBe(1);
    expect(await c.findOne({ sku: 'd' }, { projection: { _id: 0 } })).toEqual({
      sku: 'd',
      qty: 4,
      created: true,
    });
    expect((await c.updateMany({ qty: { $lt: 5 } }, { $set: { low: true } })).modifiedCount).toBe(2);
    expect((await c.replaceOne({ sku: 'b' }, { sku: 'b', qty: 0 })).modifiedCount).toBe(1);
    const after = await c.findOneAndUpdate({ sku: 'c' }, { $set: { qty: 8 } }, { returnDocument: 'after' });
    expect(after?.qty).toBe(8);
    expect((await c.deleteMany({ low: true })).deletedCount).toBe(1);
    expect(await c.countDocuments({})).toBe(3);
    const agg = await c
      .aggregate([
        { $match: { qty: { $gte: 1 } } },
        { $group: { _id: null, total: { $sum: '$qty' } } },
        { $project: { _id: 0, total: 1 } },
      ])
      .toArray();
    expect(agg).toEqual([{ total: 15 }]);
    expect(await c.aggregate([{ $sort: { qty: 1 } }, { $limit: 1 }, { $count: 'n' }]).toArray()).toEqual([
      { n: 1 },
    ]);
  });

  it('returns large results in batches through getMore and kills cursors', async () => {
    const c = coll(uniqueDb('cursor'), 'many');
    await c.insertMany(Array.from({ length: 250 }, (_, k) => ({ k })));
    const seen = await c.find({}, { batchSize: 40 }).sort({ k: 1 }).toArray();
    expect(seen.map((d) => d.k)).toEqual(Array.from({ length: 250 }, (_, k) => k));
    // A cursor left open can be killed, after which getMore says CursorNotFound (43).
    const first = await c.db.command({ find: c.collectionName, filter: {}, batchSize: 10 });
    const id = first.cursor.id;
    expect(first.cursor.firstBatch).toHaveLength(10);
    const more = await c.db.command({ getMore: id, collection: c.collectionName, batchSize: 5 });
    expect(more.cursor.nextBatch).toHaveLength(5);
    const killed = await c.db.command({ killCursors: c.collectionName, cursors: [id] });
    expect(killed.cursorsKilled.map(String)).toEqual([String(id)]);
    expect((await err(c.db.command({ getMore: id, collection: c.collectionName })))?.code).toBe(43);
  });

  it('finds by _id and by _id $in (what validation asks), with numbers equal across types', async () => {
    const c = coll(uniqueDb('byid'), 'docs');
    const docs = Array.from({ length: 300 }, (_, k) => ({ _id: new ObjectId(), k }));
    await c.insertMany([...docs, { _id: 'text-id', k: -1 }, { _id: 7, k: -2 }, { _id: new Long(8), k: -3 }]);
    const want = [docs[5]!, docs[250]!, docs[17]!];
    const got = await c
      .find({ _id: { $in: [...want.map((d) => d._id), new ObjectId(), want[0]!._id] } })
      .toArray();
    expect(got.map((d) => d.k).sort((a, b) => a - b)).toEqual([5, 17, 250]);
    expect(await c.find({ _id: docs[42]!._id }).toArray()).toEqual([{ _id: docs[42]!._id, k: 42 }]);
    expect((await c.find({ _id: { $in: ['text-id'] } }).toArray()).map((d) => d.k)).toEqual([-1]);
    // Numbers compare by value whatever their BSON type: 7.0 finds the int32 7.
    const numeric = await c.find({ _id: { $in: [new Double(7), new Long(8)] } }).toArray();
    expect(numeric.map((d) => d.k).sort((a, b) => a - b)).toEqual([-3, -2]);
    expect(await c.countDocuments({ _id: { $in: [docs[1]!._id, 'text-id', 7] } })).toBe(3);
  });

  it('compares numbers by value across int32, int64 and double in filters, sorts and keys', async () => {
    const c = coll(uniqueDb('numbers'), 'mixed');
    await c.insertMany([
      { _id: 1, a: new Int32(5) },
      { _id: 2, a: new Double(5) },
      { _id: 3, a: new Long(5) },
      { _id: 4, a: new Double(4.5) },
      { _id: 5, a: new Long(7) },
      { _id: 6, a: '5' },
      { _id: 7, a: [new Int32(1), new Long(9)] },
    ]);
    const ids = async (filter: AnyDoc, sort: AnyDoc = { _id: 1 }) =>
      (await c.find(filter).sort(sort).toArray()).map((d) => d._id);
    // Equality: NumberLong(5) is the int32 5 and the double 5.0 (and not the string "5").
    expect(await ids({ a: new Long(5) })).toEqual([1, 2, 3]);
    expect(await ids({ a: new Int32(5) })).toEqual([1, 2, 3]);
    expect(await ids({ a: new Double(5) })).toEqual([1, 2, 3]);
    expect(await ids({ a: { $in: [new Long(5), new Long(9)] } })).toEqual([1, 2, 3, 7]);
    expect(await ids({ a: { $nin: [new Long(5)] } })).toEqual([4, 5, 6, 7]);
    // Ranges across types. Without $elemMatch each bound may hold for a different element of an
    // array (NumberLong(9) > 4, 1 < 5.5), so _id 7 is in; with it, no one element is in range.
    expect(await ids({ a: { $gt: new Long(4), $lt: new Double(5.5) } })).toEqual([1, 2, 3, 4, 7]);
    expect(await ids({ a: { $elemMatch: { $gt: new Long(4), $lt: new Double(5.5) } } })).toEqual([]);
    expect(await ids({ a: { $elemMatch: { $gt: new Double(8.5), $lt: new Long(10) } } })).toEqual([7]);
    expect(await ids({ a: { $gte: new Int32(7) } })).toEqual([5, 7]);
    expect(await c.countDocuments({ a: new Long(5) })).toBe(3);
    // Sorts order by value: 4.5 < 5 = 5.0 = NumberLong(5) < NumberLong(7).
    expect(await ids({ _id: { $lte: 5 } }, { a: 1, _id: 1 })).toEqual([4, 1, 2, 3, 5]);
    // _id lookups, one and $in, by any numeric type.
    expect(await ids({ _id: new Long(2) })).toEqual([2]);
    expect(await ids({ _id: new Double(3) })).toEqual([3]);
    expect(await ids({ _id: { $in: [new Long(1), new Double(4), new Long(6)] } })).toEqual([1, 4, 6]);
    const types = await c.find({ _id: new Long(3) }, { promoteValues: false, promoteLongs: false }).toArray();
    expect(types.map((d) => [d._id._bsontype, d.a._bsontype])).toEqual([['Int32', 'Long']]);
    // One key in an index: an int64 1 is a duplicate of the int32 1, in _id and in a unique index.
    expect((await err(c.insertOne({ _id: new Long(1), a: 0 }))).code).toBe(11000);
    expect((await err(c.insertOne({ _id: new Double(2), a: 0 }))).code).toBe(11000);
    const u = coll(uniqueDb('numbers'), 'unique');
    await u.createIndex({ n: 1 }, { unique: true, name: 'n_1' });
    await u.insertOne({ n: new Int32(1) });
    expect((await err(u.insertOne({ n: new Long(1) }))).code).toBe(11000);
    expect((await err(u.insertOne({ n: new Double(1) }))).code).toBe(11000);
    await u.insertOne({ n: new Long(2) });
    expect(await u.countDocuments({})).toBe(2);
    // Building a unique index over equal numbers of different types fails the same way.
    const b = coll(uniqueDb('numbers'), 'build');
    await b.insertMany([{ n: new Int32(3) }, { n: new Long(3) }]);
    expect((await err(b.createIndex({ n: 1 }, { unique: true }))).code).toBe(11000);
  });

  it('enforces unique indexes with DuplicateKey (11000) and lists index specs', async () => {
    const c = coll(uniqueDb('idx'), 'users');
    await c.createIndex({ email: 1 }, { unique: true, name: 'email_1' });
    await c.insertOne({ email: 'a@x' });
    const e = await err(c.insertOne({ email: 'a@x' }));
    expect(e.code).toBe(11000);
    expect(e.message).toMatch(/E11000 duplicate key error/);
    const idx = await c.listIndexes().toArray();
    expect(idx).toEqual([
      expect.objectContaining({ v: 2, key: { _id: 1 }, name: '_id_' }),
      expect.objectContaining({ v: 2, key: { email: 1 }, name: 'email_1', unique: true }),
    ]);
    await c.dropIndex('email_1');
    expect((await c.listIndexes().toArray()).map((i) => i.name)).toEqual(['_id_']);
  });

  it('describes collections, options, UUIDs and views like listCollections does', async () => {
    const db = client.db(uniqueDb('meta'));
    await db.createCollection('capped', { capped: true, size: 65536 });
    await db.createCollection('valid', {
      validator: { $jsonSchema: { required: ['a'] } },
      collation: { locale: 'fr', strength: 2 },
    });
    await db.createCollection('recent', { viewOn: 'valid', pipeline: [{ $match: { a: { $gt: 1 } } }] });
    await db.createCollection('metrics', {
      timeseries: { timeField: 'ts', metaField: 'host', granularity: 'seconds' },
    });
    const all = await db.listCollections().toArray();
    const byName = Object.fromEntries(all.map((c) => [c.name, c]));
    expect(byName.capped).toMatchObject({
      type: 'collection',
      options: { capped: true, size: 65536 },
      info: { readOnly: false, uuid: expect.any(UUID) },
    });
    expect((byName.valid as AnyDoc).options).toMatchObject({
      validator: { $jsonSchema: { required: ['a'] } },
      collation: expect.objectContaining({ locale: 'fr', strength: 2 }),
    });
    expect(byName.recent).toMatchObject({
      type: 'view',
      options: { viewOn: 'valid', pipeline: [{ $match: { a: { $gt: 1 } } }] },
    });
    expect(byName.metrics).toMatchObject({
      type: 'timeseries',
      options: {
        timeseries: expect.objectContaining({ timeField: 'ts', metaField: 'host', granularity: 'seconds' }),
      },
    });
    expect(
      (await db.listCollections({}, { nameOnly: true }).toArray()).every(
        (c) => Object.keys(c).sort().join() === 'name,type',
      ),
    ).toBe(true);
    const e = await err(db.createCollection('capped'));
    expect(e.code).toBe(48); // NamespaceExists
  });

  it('answers with MongoDB error codes', async () => {
    const db = client.db(uniqueDb('errors'));
    expect((await err(db.command({ noSuchCommandAtAll: 1 }))).code).toBe(59);
    expect((await err(db.collection('missing').listIndexes().toArray())).code).toBe(26);
    await db.collection('a').insertOne({});
    await db.collection('b').insertOne({});
    expect((await err(db.collection('a').rename('b'))).code).toBe(48);
  });

  it('makes transaction writes visible at commit only, and discards aborted ones', async () => {
    const c = coll(uniqueDb('txn'), 'acct');
    await c.insertMany([
      { _id: 1, bal: 10 },
      { _id: 2, bal: 0 },
    ]);
    const s = client.startSession();
    try {
      s.startTransaction();
      await c.updateOne({ _id: 1 }, { $inc: { bal: -5 } }, { session: s });
      await c.updateOne({ _id: 2 }, { $inc: { bal: 5 } }, { session: s });
      expect((await c.findOne({ _id: 2 }))?.bal).toBe(0); // outside the transaction: not yet
      await s.commitTransaction();
      expect((await c.find({}).sort({ _id: 1 }).toArray()).map((d) => d.bal)).toEqual([5, 5]);
      s.startTransaction();
      await c.insertOne({ _id: 3, bal: 1 }, { session: s });
      await s.abortTransaction();
      expect(await c.countDocuments({})).toBe(2);
    } finally {
      await s.endSession();
    }
  });

  it.skipIf(!HAVE_FIXTURES)('round-trips every BSON type of all_types.bson exactly', async () => {
    const c = coll(uniqueDb('types'), 'all');
    const docs = [...splitBsonDocuments(readFileSync(fixture('bsondump', 'testdata', 'all_types.bson')))].map(
      (raw, k) => ({ _id: k, ...deserialize(raw, { promoteValues: false, bsonRegExp: true }) }) as Document,
    );
    await c.insertMany(docs.map((d) => ({ ...d })));
    const back = await c.find({}, { promoteValues: false, bsonRegExp: true }).sort({ _id: 1 }).toArray();
    // The deprecated BSON undefined type reaches JavaScript as undefined and any JS driver sends it as null.
    const bytes = (d: Document) => Buffer.from(serialize(d, { ignoreUndefined: false })).toString('hex');
    expect(back.map(bytes)).toEqual(docs.map(bytes));
    // And a hand-made one with the types a backup must never change.
    const special = {
      _id: 'special',
      d: new Double(1),
      i: new Int32(1),
      l: Long.fromString('9007199254740993'),
      dec: Decimal128.fromString('1.10'),
      ts: new Timestamp({ t: 5, i: 6 }),
    };
    await c.insertOne(special);
    const got = await c.findOne({ _id: 'special' }, { promoteValues: false, promoteLongs: false });
    expect(Buffer.from(serialize(got!)).equals(Buffer.from(serialize(special)))).toBe(true);
  });
});
