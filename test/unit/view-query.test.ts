/**
 * A view file built directly (no repository): the order-preserving keys
 * against MongoDB's comparison order, lookups through the key tables against
 * a scan, and sorts larger than one in-memory chunk against a plain sort.
 */
import { Decimal128, Double, EJSON, Int32, Long, MaxKey, MinKey, ObjectId, Timestamp, serialize } from 'bson';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createViewFile, indexViewFile, viewWriter, type ViewDb } from '../../engine/catalog/view-store.js';
import { elements } from '../../engine/oplog/bson-raw.js';
import { keyOf } from '../../engine/views/index-keys.js';
import { find, count } from '../../engine/views/query.js';
import { ViewSink } from '../../engine/views/view-sink.js';
import { tempDir } from '../support/temp-dir.js';

let dir: ReturnType<typeof tempDir> | null = null;
let db: ViewDb | null = null;
afterEach(() => {
  db?.close();
  dir?.remove();
});

const key = (v: unknown) => {
  const doc = Buffer.from(serialize({ v }));
  return keyOf(doc, elements(doc)[0]!);
};

describe('view index keys', () => {
  it('order values as MongoDB compares them: type order first, numbers of every type by value', () => {
    const ordered = [
      new MinKey(),
      null,
      NaN,
      -Infinity,
      Long.fromNumber(-5),
      new Double(-1.5),
      new Int32(0),
      new Double(0.5),
      Decimal128.fromString('1.25'),
      new Int32(2),
      Long.fromNumber(2 ** 40),
      Infinity,
      '',
      'a',
      'ab',
      'b',
      { a: 1 },
      [1],
      new ObjectId('000000000000000000000001'),
      new ObjectId('ffffffffffffffffffffffff'),
      false,
      true,
      new Date(-1000),
      new Date(0),
      new Date(1000),
      new Timestamp({ t: 1, i: 5 }),
      new Timestamp({ t: 2, i: 1 }),
      /a/,
      new MaxKey(),
    ].map(key);
    for (let k = 1; k < ordered.length; k++)
      expect(Buffer.compare(ordered[k - 1]!, ordered[k]!), `at ${k}`).toBe(-1);
    // One key for equal numbers of different types, and for 0 and -0.
    expect(key(new Int32(7)).equals(key(new Double(7)))).toBe(true);
    expect(key(Long.fromNumber(7)).equals(key(Decimal128.fromString('7')))).toBe(true);
    expect(key(new Double(-0)).equals(key(new Int32(0)))).toBe(true);
  });
});

describe('queries on a view file', () => {
  function build(n: number) {
    dir = tempDir('mbm-view-unit-');
    db = createViewFile(join(dir.path, 'v.sqlite'));
    const sink = new ViewSink(viewWriter(db));
    const idx = Buffer.from(serialize({ v: 2, key: { grp: 1 }, name: 'grp_1' }));
    sink.addCollection('t.c', 'collection', Buffer.from(serialize({})), [
      Buffer.from(serialize({ v: 2, key: { _id: 1 }, name: '_id_' })),
      idx,
    ]);
    const docs = Array.from({ length: n }, (_, k) => ({
      _id: k,
      grp: k % 13,
      score: (k * 7919) % 1000,
      name: `n${k}`,
    }));
    for (const d of docs) sink.loadDocument('t.c', serialize(d));
    sink.flush();
    indexViewFile(db);
    return docs;
  }

  it('sorts more documents than one chunk exactly as a full sort, with skip and limit', () => {
    const docs = build(25_000);
    const want = [...docs].sort((a, b) => b.score - a.score || a._id - b._id).slice(12_000, 12_050);
    const r = find(db!, 't.c', {
      filter: {},
      sort: { score: -1, _id: 1 },
      skip: 12_000,
      limit: 50,
      canonical: false,
    });
    expect(r.documents.map((d) => EJSON.parse(d))).toEqual(want);
    expect(r.more).toBe(true);
  });

  it('a lookup through the key tables finds what a scan finds', () => {
    const docs = build(3000);
    for (const filter of [
      { grp: 4 },
      { grp: { $in: [1, 12] } },
      { grp: { $gte: 11 } },
      { _id: { $lt: 40 } },
      { _id: 2999 },
      { grp: 4, score: { $lt: 100 } },
    ]) {
      const viaKeys = find(db!, 't.c', { filter, skip: 0, limit: 10_000, canonical: false });
      expect(viaKeys.plan.index, JSON.stringify(filter)).not.toBeNull();
      const expected = docs.filter((d) =>
        Object.entries(filter).every(([f, c]) => {
          const v = d[f as keyof typeof d] as number;
          if (typeof c === 'number') return v === c;
          const o = c as Record<string, unknown>;
          if ('$in' in o) return (o.$in as number[]).includes(v);
          if ('$gte' in o) return v >= (o.$gte as number);
          return v < (o.$lt as number);
        }),
      );
      expect(
        viaKeys.documents.map((d) => EJSON.parse(d)).sort((a, b) => a._id - b._id),
        JSON.stringify(filter),
      ).toEqual(expected);
      // Only the key's candidates are read: all of them match, but for the condition no index serves
      // and a number equal to an exclusive end (its key is a double's: a Decimal128 may be above it).
      const candidates =
        'score' in filter
          ? docs.filter((d) => d.grp === 4).length
          : expected.length + ('$lt' in Object(filter._id) ? 1 : 0);
      expect(viaKeys.plan.documentsExamined, JSON.stringify(filter)).toBe(candidates);
    }
    expect(count(db!, 't.c', {})).toBe(3000);
  });
});
