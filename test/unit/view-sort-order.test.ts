/**
 * Sorts a view holds or spills: MongoDB's comparison order on raw BSON
 * (bson-order.ts) against mongod's documented order, the external sort
 * (runs on disk, stable, top-k, refused without allowDiskUse, temporary
 * files removed), and `$group` accumulated one group at a time over a
 * spilled sort, against the same groups computed plainly.
 */
import {
  Binary,
  Decimal128,
  Double,
  EJSON,
  Int32,
  Long,
  MaxKey,
  MinKey,
  ObjectId,
  Timestamp,
  BSONRegExp,
  serialize,
  type Document,
} from 'bson';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Aggregator } from 'mingo';
import { afterEach, describe, expect, it } from 'vitest';
import { createViewFile, indexViewFile, viewWriter, type ViewDb } from '../../engine/catalog/view-store.js';
import { elements } from '../../engine/oplog/bson-raw.js';
import { groupStage, runPipeline, sortStage } from '../../engine/views/blocking-stages.js';
import { compareValues } from '../../engine/views/bson-order.js';
import { ExternalSort } from '../../engine/views/external-sort.js';
import { aggregate, distinct, find } from '../../engine/views/query.js';
import { ViewSink } from '../../engine/views/view-sink.js';
import { tempDir } from '../support/temp-dir.js';

let dir: ReturnType<typeof tempDir> | null = null;
let db: ViewDb | null = null;
afterEach(() => {
  db?.close();
  db = null;
  dir?.remove();
  dir = null;
});

const TWO53 = 2 ** 53;
const asDouble = (x: number) => (Number.isInteger(x) ? new Double(x) : x);

function cmp(a: unknown, b: unknown): number {
  const x = Buffer.from(serialize({ v: a }));
  const y = Buffer.from(serialize({ v: b }));
  return compareValues(x, elements(x)[0]!, y, elements(y)[0]!);
}

describe("MongoDB's comparison order on raw BSON", () => {
  it('orders by type, numbers exactly across Int32/Int64/Double/Decimal128, documents field by field', () => {
    const ordered: unknown[] = [
      new MinKey(),
      null,
      NaN,
      -Infinity,
      Long.fromNumber(-5),
      new Double(-1.5),
      new Int32(0),
      Decimal128.fromString('0.1'),
      new Double(0.1), // the double nearest 0.1 is 0.1000000000000000055…
      Decimal128.fromString('0.1000000000000000100'),
      new Double(TWO53),
      Long.fromString('9007199254740993'), // 2^53 + 1: a double cannot hold it
      Decimal128.fromString('9007199254740993.5'),
      new Double(TWO53 + 2),
      Decimal128.fromString('1E+400'),
      Infinity,
      '',
      'a',
      'ab',
      'b',
      {},
      { a: 1 },
      { a: 1, b: 0 },
      { a: 2 },
      { b: 0 }, // same value type as {a: 2}: the field name decides
      { a: 'x' }, // a string value is above any number
      [],
      [1],
      [1, 2],
      [2],
      ['a'],
      new Binary(Buffer.from('zz')),
      new Binary(Buffer.from('aaa')), // longer binary is greater, whatever the bytes
      new ObjectId('000000000000000000000001'),
      new ObjectId('ffffffffffffffffffffffff'),
      false,
      true,
      new Date(-1000),
      new Date(0),
      new Timestamp({ t: 1, i: 5 }),
      new Timestamp({ t: 2, i: 1 }),
      new BSONRegExp('a', ''),
      new BSONRegExp('a', 'i'),
      new BSONRegExp('b', ''),
      new MaxKey(),
    ];
    for (let i = 0; i < ordered.length; i++)
      for (let j = 0; j < ordered.length; j++)
        expect(cmp(ordered[i], ordered[j]), `${i} vs ${j}`).toBe(Math.sign(i - j));
    // Equal values of different numeric types.
    expect(cmp(new Int32(7), new Double(7))).toBe(0);
    expect(cmp(Long.fromNumber(7), Decimal128.fromString('7.000'))).toBe(0);
    expect(cmp(new Double(-0), new Int32(0))).toBe(0);
    expect(cmp(Long.fromString('9007199254740993'), Decimal128.fromString('9007199254740993'))).toBe(0);
    expect(cmp({ a: new Int32(1) }, { a: new Double(1) })).toBe(0);
  });
});

describe('sorts no key table serves', () => {
  function build(docs: Document[], indexed: string[] = []) {
    dir = tempDir('mbm-sort-order-');
    db = createViewFile(join(dir.path, 'v.sqlite'));
    const sink = new ViewSink(viewWriter(db));
    sink.addCollection('t.c', 'collection', Buffer.from(serialize({})), [
      Buffer.from(serialize({ v: 2, key: { _id: 1 }, name: '_id_' })),
      ...indexed.map((f) => Buffer.from(serialize({ v: 2, key: { [f]: 1 }, name: `${f}_1` }))),
    ]);
    for (const d of docs) sink.loadDocument('t.c', serialize(d));
    sink.flush();
    indexViewFile(db);
  }
  const ids = (texts: string[]) => texts.map((t) => (EJSON.parse(t) as { _id: number })._id);
  const sorted = (sort: Document) =>
    ids(find(db!, 't.c', { filter: {}, sort, skip: 0, limit: 100, canonical: false }).documents);

  const mixed = [
    { _id: 1, v: Long.fromString('9007199254740993') },
    { _id: 2, v: new Double(TWO53) },
    { _id: 3, v: Decimal128.fromString('9007199254740992.5') },
    { _id: 4, v: [5, -3] }, // ascending by -3, descending by 5
    { _id: 5, v: [] }, // below null
    { _id: 6 }, // missing: null
    { _id: 7, v: null },
    { _id: 8, v: { a: 1 } },
    { _id: 9, v: 'x' },
    { _id: 10, v: [Long.fromString('9007199254740994')] },
  ];

  it("orders a find by mongod's rules: Int64 beyond a double, arrays by their smallest or largest element", () => {
    build(mixed);
    expect(sorted({ v: 1 })).toEqual([5, 6, 7, 4, 2, 3, 1, 10, 9, 8]);
    expect(sorted({ v: -1 })).toEqual([8, 9, 10, 1, 3, 2, 4, 6, 7, 5]);
    // The same through an aggregation's $sort.
    const agg = aggregate(db!, 't.c', [{ $sort: { v: 1 } }, { $project: { _id: 1 } }], 100, false);
    expect(ids(agg.documents)).toEqual([5, 6, 7, 4, 2, 3, 1, 10, 9, 8]);
  });

  it('sorts by $natural in the order the documents were written, backwards with -1, filtered, no index', () => {
    build(
      [5, 3, 9, 1, 7].map((k) => ({ _id: k, v: k % 2 === 0 ? 'even' : 'odd', k })),
      ['v'],
    );
    expect(sorted({ $natural: 1 })).toEqual([5, 3, 9, 1, 7]);
    expect(sorted({ $natural: -1 })).toEqual([7, 1, 9, 3, 5]);
    const page = find(db!, 't.c', {
      filter: { _id: { $gt: 2 } },
      sort: { $natural: -1 },
      skip: 1,
      limit: 2,
      canonical: false,
    });
    expect(ids(page.documents)).toEqual([9, 3]);
    expect(page.plan.index).toBeNull();
  });

  it('keeps stored types through a pipeline a find does alike ($match, $sort, $skip, $limit, $project), as the pipeline gives the same documents', () => {
    build([
      { _id: 1, v: new Double(2), big: Long.fromString('9007199254740993'), s: 'a' },
      { _id: 2, v: new Int32(3), big: Long.fromString('5'), s: 'b' },
      { _id: 3, v: new Double(2.5), big: Long.fromString('-9007199254740995'), s: 'c' },
      { _id: 4, v: new Int32(9), s: 'd' },
    ]);
    const shaped = [{ $match: { _id: { $lt: 4 } } }, { $sort: { v: -1 } }, { $skip: 0 }, { $limit: 3 }];
    const got = aggregate(db!, 't.c', [...shaped, { $project: { s: 0 } }], 10, true).documents;
    expect(got).toEqual([
      '{"_id":{"$numberInt":"2"},"v":{"$numberInt":"3"},"big":{"$numberLong":"5"}}',
      '{"_id":{"$numberInt":"3"},"v":{"$numberDouble":"2.5"},"big":{"$numberLong":"-9007199254740995"}}',
      '{"_id":{"$numberInt":"1"},"v":{"$numberDouble":"2.0"},"big":{"$numberLong":"9007199254740993"}}',
    ]);
    // The same stages with a no-op $match after the $sort run as a pipeline: the same documents.
    const piped = aggregate(
      db!,
      't.c',
      [...shaped.slice(0, 2), { $match: { $expr: true } }, ...shaped.slice(2)],
      10,
      false,
    );
    expect(ids(piped.documents)).toEqual(ids(got));
    expect(
      ids(
        aggregate(
          db!,
          't.c',
          [{ $match: { s: { $ne: 'a' } } }, { $match: { v: { $gt: 2 } } }, { $sort: { _id: 1 } }],
          10,
          false,
        ).documents,
      ),
    ).toEqual([2, 3, 4]);
  });

  it('tells Int64 2^53+1 from Double 2^53 in distinct and $addToSet, and equal numbers of other types not', () => {
    build([
      { _id: 1, v: Long.fromString('9007199254740993') },
      { _id: 2, v: new Double(TWO53) },
      { _id: 3, v: Decimal128.fromString('9007199254740993.0') },
      { _id: 4, v: new Int32(5) },
      { _id: 5, v: new Double(5) },
      { _id: 6, v: Decimal128.fromString('5.00') },
      { _id: 7, v: new Double(0.5) },
      { _id: 8, v: Decimal128.fromString('0.50') },
    ]);
    expect(distinct(db!, 't.c', 'v', {}, true)).toEqual([
      '{"$numberLong":"9007199254740993"}',
      '{"$numberDouble":"9007199254740992.0"}',
      '{"$numberInt":"5"}',
      '{"$numberDouble":"0.5"}',
    ]);
    const set = aggregate(db!, 't.c', [{ $group: { _id: null, s: { $addToSet: '$v' } } }], 10, false);
    expect((EJSON.parse(set.documents[0]!) as { s: unknown[] }).s).toHaveLength(4);
  });

  it('answers a lookup on a multikey field from its keys, lazily, each document once', () => {
    const docs = Array.from({ length: 3000 }, (_, k) => ({
      _id: k,
      tags: [`t${k % 7}`, `t${(k + 1) % 7}`, 'all'],
    }));
    build(docs, ['tags']);
    const q = (filter: Document) => find(db!, 't.c', { filter, skip: 0, limit: 10_000, canonical: false });
    const both = q({ tags: { $in: ['t1', 't2', 't2'] } });
    expect(both.plan.index).toBe('tags_1');
    const want = docs.filter((d) => d.tags.includes('t1') || d.tags.includes('t2')).map((d) => d._id);
    expect(ids(both.documents).sort((a, b) => a - b)).toEqual(want);
    expect(both.plan.documentsExamined).toBe(want.length);
    const range = q({ tags: { $gte: 't5' } });
    expect(ids(range.documents).sort((a, b) => a - b)).toEqual(
      docs.filter((d) => d.tags.some((t) => t >= 't5')).map((d) => d._id),
    );
    // The first batch of a lookup matching every document reads about one batch.
    const first = find(db!, 't.c', { filter: { tags: 'all' }, skip: 0, limit: 10, canonical: false });
    expect(first.documents).toHaveLength(10);
    expect(first.plan.documentsExamined).toBeLessThanOrEqual(11);
  });

  it('joins $lookup through the foreign key table, one document at a time, as mingo joins it', () => {
    dir = tempDir('mbm-sort-order-');
    db = createViewFile(join(dir.path, 'v.sqlite'));
    const sink = new ViewSink(viewWriter(db));
    const idIndex = Buffer.from(serialize({ v: 2, key: { _id: 1 }, name: '_id_' }));
    const opts = Buffer.from(serialize({}));
    sink.addCollection('t.orders', 'collection', opts, [idIndex]);
    sink.addCollection('t.customers', 'collection', opts, [
      idIndex,
      Buffer.from(serialize({ v: 2, key: { code: 1 }, name: 'code_1' })),
    ]);
    const customers = Array.from({ length: 50 }, (_, k) => ({
      _id: k,
      code: k % 10 === 0 ? null : `c${k % 17}`,
      name: `n${k}`,
    }));
    customers.push({ _id: 50, name: 'no code' } as never);
    const orders = Array.from({ length: 400 }, (_, k) => ({
      _id: k,
      cust: k % 9 === 0 ? [k % 50, (k + 1) % 50] : k % 60,
      code: k % 7 === 0 ? undefined : k % 5 === 0 ? [`c${k % 17}`, 'c1'] : `c${k % 20}`,
    }));
    for (const c of customers) sink.loadDocument('t.customers', serialize(c));
    for (const o of orders) sink.loadDocument('t.orders', serialize(o, { ignoreUndefined: true }));
    sink.flush();
    indexViewFile(db);
    const plain = (pipeline: Document[]) =>
      new Aggregator(pipeline, { collectionResolver: () => customers }).run(
        orders.map((o) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined))),
      );
    for (const lookup of [
      { from: 'customers', localField: 'cust', foreignField: '_id', as: 'c' },
      { from: 'customers', localField: 'code', foreignField: 'code', as: 'c' },
      { from: 'customers', localField: 'code', foreignField: 'name', as: 'c' }, // no index: mingo
    ]) {
      const pipeline = [{ $lookup: lookup }, { $project: { 'c._id': 1 } }];
      const got = aggregate(db, 't.orders', pipeline, 1000, false).documents.map((d) => EJSON.parse(d));
      const want = plain(pipeline).map((d) => ({
        ...d,
        c: (d.c as { _id: number }[]).sort((a, b) => a._id - b._id),
      }));
      for (const d of got) (d.c as { _id: number }[]).sort((a, b) => a._id - b._id);
      expect(got, lookup.foreignField).toEqual(want);
    }
  });

  it('orders the runs of equal keys of an indexed field exactly (numbers sharing a key, documents)', () => {
    build(
      [
        { _id: 1, w: Long.fromString('9007199254740993') },
        { _id: 2, w: new Double(TWO53) },
        { _id: 3, w: Decimal128.fromString('9007199254740992.5') },
        { _id: 4, w: { b: 0 } },
        { _id: 5, w: { a: 2 } },
        { _id: 6, w: { a: 1, b: 0 } },
        { _id: 7, w: { a: 'x' } },
      ],
      ['w'],
    );
    const r = find(db!, 't.c', { filter: {}, sort: { w: 1 }, skip: 0, limit: 100, canonical: false });
    expect(r.plan.index).toBe('w_1');
    expect(ids(r.documents)).toEqual([2, 3, 1, 6, 5, 4, 7]);
    expect(sorted({ w: -1 })).toEqual([7, 4, 5, 6, 1, 3, 2]);
  });
});

describe('the external sort', () => {
  const spillDir = () => {
    dir = tempDir('mbm-ext-sort-');
    const d = join(dir.path, 'views');
    mkdirSync(d);
    return d;
  };
  const num = (b: Buffer) => b.readInt32LE(0);
  const byNum = (a: Buffer, b: Buffer) => num(a) - num(b);
  const rec = (k: number, seq: number) => {
    const key = Buffer.alloc(4);
    key.writeInt32LE(k);
    const payload = Buffer.alloc(4);
    payload.writeInt32LE(seq);
    return { key, payload };
  };

  it('spills runs past its budget and merges them in order, stably, removing its files', () => {
    const d = spillDir();
    const s = new ExternalSort(byNum, { memoryBytes: 20_000, allowDiskUse: true, dir: d, what: 'Sort' });
    const input = Array.from({ length: 5000 }, (_, seq) => ({ k: (seq * 7919) % 97, seq }));
    for (const { k, seq } of input) {
      const r = rec(k, seq);
      s.add(r.key, r.payload);
    }
    expect(s.spilled).toBeGreaterThan(10);
    expect(readdirSync(d)).toHaveLength(1);
    const out = [...s.sorted()].map((r) => ({ k: num(r.key), seq: num(r.payload) }));
    expect(out).toEqual([...input].sort((a, b) => a.k - b.k || a.seq - b.seq));
    expect(readdirSync(d)).toEqual([]);
  });

  it('keeps only the first `keep`, removes its files when closed early, and refuses without allowDiskUse', () => {
    const d = spillDir();
    const top = new ExternalSort(byNum, {
      memoryBytes: 2_000,
      allowDiskUse: false,
      dir: d,
      keep: 5,
      what: 'Sort',
    });
    for (let k = 10_000; k > 0; k--) top.add(rec(k, k).key, rec(k, k).payload);
    expect([...top.sorted()].map((r) => num(r.key))).toEqual([1, 2, 3, 4, 5]);

    const early = new ExternalSort(byNum, { memoryBytes: 2_000, allowDiskUse: true, dir: d, what: 'Sort' });
    for (let k = 0; k < 1000; k++) early.add(rec(k, k).key, rec(k, k).payload);
    const it = early.sorted();
    expect(num(it.next().value!.key)).toBe(0);
    expect(readdirSync(d)).toHaveLength(1);
    it.return(undefined);
    expect(readdirSync(d)).toEqual([]);

    const refused = new ExternalSort(byNum, {
      memoryBytes: 2_000,
      allowDiskUse: false,
      dir: d,
      what: 'Sort',
    });
    expect(() => {
      for (let k = 0; k < 1000; k++) refused.add(rec(k, k).key, rec(k, k).payload);
    }).toThrow(
      expect.objectContaining({ code: 'UNSUPPORTED', message: expect.stringMatching(/allowDiskUse/) }),
    );
    refused.close();
    expect(existsSync(d) && readdirSync(d)).toEqual([]);
  });
});

describe('$group and $sort over spilled runs', () => {
  it('accumulate one group at a time exactly as the groups computed plainly', () => {
    dir = tempDir('mbm-group-');
    const spill = { memoryBytes: 16_000, allowDiskUse: true, dir: dir.path };
    const docs = Array.from({ length: 6000 }, (_, k) => ({
      _id: k,
      g: k % 37 === 0 ? null : `g${(k * 13) % 250}`,
      n: k % 11 === 0 ? undefined : (k % 9) - 2,
      tag: `t${k % 3}`,
      o: { [`f${k % 4}`]: k },
    }));
    const out = [
      ...groupStage(
        docs,
        {
          _id: '$g',
          count: { $count: {} },
          total: { $sum: '$n' },
          ones: { $sum: 1 },
          avg: { $avg: '$n' },
          min: { $min: '$n' },
          max: { $max: '$n' },
          first: { $first: '$_id' },
          last: { $last: '$n' },
          pushed: { $push: '$n' },
          tags: { $addToSet: '$tag' },
          merged: { $mergeObjects: '$o' },
        },
        {},
        spill,
      ),
    ];
    const groups = new Map<string | null, typeof docs>();
    for (const d of docs) groups.set(d.g, [...(groups.get(d.g) ?? []), d]);
    expect(out.map((g) => g._id)).toEqual(
      [...groups.keys()].sort((a, b) => (a === null ? -1 : b === null ? 1 : a < b ? -1 : a > b ? 1 : 0)),
    );
    for (const g of out) {
      const members = groups.get(g._id as string | null)!;
      const ns = members.map((d) => d.n).filter((n): n is number => n !== undefined);
      expect(g, String(g._id)).toEqual({
        _id: g._id,
        count: members.length,
        total: ns.reduce((a, b) => a + b, 0),
        ones: members.length,
        // $avg is a Double, integral or not (mongod's AccumulatorAvg): decoded as a Double object when integral.
        avg: ns.length ? asDouble(ns.reduce((a, b) => a + b, 0) / ns.length) : null,
        min: ns.length ? Math.min(...ns) : null,
        max: ns.length ? Math.max(...ns) : null,
        first: members[0]!._id,
        last: members[members.length - 1]!.n ?? null, // $last of a missing value is null
        pushed: ns, // $push skips missing values, as mongod does
        tags: [...new Set(members.map((d) => d.tag))],
        merged: Object.assign({}, ...members.map((d) => d.o)),
      });
    }
    // And $sort over the same spilled runs, stably.
    const byTag = [...sortStage(docs, { tag: -1, n: 1 }, undefined, spill)].map((d) => d._id);
    const want = [...docs]
      .sort(
        (a, b) =>
          (a.tag < b.tag ? 1 : a.tag > b.tag ? -1 : 0) ||
          (a.n === undefined ? -Infinity : a.n) - (b.n === undefined ? -Infinity : b.n) ||
          a._id - b._id,
      )
      .map((d) => d._id);
    expect(byTag).toEqual(want);
    expect(readdirSync(dir.path)).toEqual([]);
  });

  it('run $count and $sortByCount as mongod defines them, over spilled runs', () => {
    dir = tempDir('mbm-group-');
    const spill = { memoryBytes: 16_000, allowDiskUse: true, dir: dir.path };
    const docs = Array.from({ length: 3000 }, (_, k) => ({ _id: k, g: `g${k % 4 === 0 ? 0 : k % 3}` }));
    expect([...runPipeline(docs, [{ $count: 'n' }], {}, spill)]).toEqual([{ n: 3000 }]);
    // An empty input counts nothing (mongod answers no document, not 0).
    expect([...runPipeline(docs, [{ $match: { g: 'none' } }, { $count: 'n' }], {}, spill)]).toEqual([]);
    const counts = new Map<string, number>();
    for (const d of docs) counts.set(d.g, (counts.get(d.g) ?? 0) + 1);
    expect([...runPipeline(docs, [{ $sortByCount: '$g' }], {}, spill)]).toEqual(
      [...counts].map(([_id, count]) => ({ _id, count })).sort((a, b) => b.count - a.count),
    );
    expect(readdirSync(dir.path)).toEqual([]);
  });

  it('remove their runs when the pipeline is closed early, behind the stages mingo runs after them', () => {
    dir = tempDir('mbm-group-');
    const spill = { memoryBytes: 16_000, allowDiskUse: true, dir: dir.path };
    const docs = Array.from({ length: 3000 }, (_, k) => ({ _id: k, n: (k * 7919) % 1000 }));
    const out = runPipeline(docs, [{ $sort: { n: -1 } }, { $project: { n: 1 } }, { $skip: 1 }], {}, spill);
    const it = out[Symbol.iterator]();
    expect(it.next().value).toMatchObject({ n: 999 });
    expect(readdirSync(dir.path)).toHaveLength(1); // the runs, while the output is read
    it.return?.(undefined);
    expect(readdirSync(dir.path)).toEqual([]);
  });
});
