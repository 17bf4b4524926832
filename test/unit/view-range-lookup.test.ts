/**
 * Ranges with both ends through a view's key tables (lookup-plan.ts): the
 * ends are intersected on a field no document holds an array in (only the
 * matching keys are read), one end alone on a multikey field, and the
 * answer always equals a collection scan's, byte for byte; `$or` of points
 * on one field as a union of lookups.
 */
import { Decimal128, Long, serialize, type Document } from 'bson';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createViewFile, indexViewFile, viewWriter, type ViewDb } from '../../engine/catalog/view-store.js';
import { planLookup } from '../../engine/views/lookup-plan.js';
import { find, matchingRaw } from '../../engine/views/query.js';
import { ViewSink } from '../../engine/views/view-sink.js';
import { tempDir } from '../support/temp-dir.js';

let dir: ReturnType<typeof tempDir>;
let db: ViewDb;

const N = 600;
const day = (k: number) => new Date(Date.UTC(2024, 0, 1) + k * 3_600_000);

function docOf(k: number): Document {
  return {
    _id: k,
    // Strings, a few numbers, a few nulls and missing: one value per document.
    ...(k % 50 === 7 ? {} : { name: k % 40 === 3 ? k : k % 45 === 4 ? null : `n${k}` }),
    when: k % 30 === 1 ? `t${k}` : day(k),
    // Multikey: arrays of two numbers, a string and a number, a scalar, an empty array.
    tags: k % 9 === 0 ? 'b' : k % 11 === 0 ? ['b', k % 7] : k % 13 === 0 ? [] : [k % 10, (k * 3) % 17],
    // A number beyond a double's precision near the ends of a range.
    num:
      k === 5
        ? Decimal128.fromString('10.000000000000000001')
        : k === 6
          ? Decimal128.fromString('10.999999999999999999')
          : k === 8
            ? Long.fromString('9007199254740993')
            : k % 20,
    // Through an array of documents: one with the field, one without (a single key per document).
    a: k % 2 ? [{ b: k % 8 }, {}] : { b: k % 8 },
    score: k % 3,
  };
}

beforeAll(() => {
  dir = tempDir('mbm-view-range-');
  db = createViewFile(join(dir.path, 'v.sqlite'));
  const sink = new ViewSink(viewWriter(db));
  const index = (field: string) => Buffer.from(serialize({ v: 2, key: { [field]: 1 }, name: `${field}_1` }));
  sink.addCollection('t.c', 'collection', Buffer.from(serialize({})), [
    Buffer.from(serialize({ v: 2, key: { _id: 1 }, name: '_id_' })),
    ...['name', 'when', 'tags', 'num', 'a.b'].map(index),
  ]);
  for (let k = 0; k < N; k++) sink.loadDocument('t.c', serialize(docOf(k)));
  sink.flush();
  indexViewFile(db);
});
afterAll(() => {
  db?.close();
  dir?.remove();
});

const hexes = (filter: Document, sort?: Document) =>
  [...matchingRaw(db, 't.c', { filter, skip: 0, ...(sort ? { sort } : {}) })].map((d) =>
    Buffer.from(d.raw!).toString('hex'),
  );

/** The filter's answer through the keys, against a scan (`$nor` of `$nor` is the filter, and no lookup serves it). */
function check(filter: Document, sort?: Document) {
  const scan = find(db, 't.c', {
    filter: { $nor: [{ $nor: [filter] }] },
    skip: 0,
    limit: N,
    canonical: true,
  });
  expect(scan.plan.index).toBeNull();
  const viaKeys = find(db, 't.c', { filter, skip: 0, limit: N, canonical: true, ...(sort ? { sort } : {}) });
  const label = JSON.stringify(filter);
  expect([...viaKeys.documents].sort(), label).toEqual([...scan.documents].sort());
  expect(hexes(filter, sort).sort(), label).toEqual(hexes({ $nor: [{ $nor: [filter] }] }).sort());
  return { plan: viaKeys.plan, n: viaKeys.documents.length };
}

describe('two-sided ranges on an indexed field', () => {
  it('reads only the keys between both ends on a field holding no array: strings and dates, inclusive and exclusive', () => {
    for (const filter of [
      { name: { $gte: 'n1', $lt: 'n2' } },
      { name: { $gt: 'n1', $lte: 'n2' } },
      { name: { $gt: 'n100', $lt: 'n200' } },
      { name: { $gte: 'n100', $lte: 'n100' } },
      { name: { $gte: 'n3', $lt: 'n4' }, score: 1 },
      { when: { $gt: day(100), $lte: day(250) } },
      { when: { $gte: day(100), $lt: day(250) } },
      { $and: [{ when: { $gt: day(10) } }, { when: { $lte: day(20) } }] },
      { $and: [{ name: { $gte: 'n2' } }, { name: { $gte: 'n3', $lt: 'n5' } }, { name: { $lt: 'n4' } }] },
      { _id: { $gte: 100, $lte: 200 } },
    ]) {
      const { plan, n } = check(filter);
      expect(plan.index, JSON.stringify(filter)).not.toBeNull();
      expect(n, JSON.stringify(filter)).toBeGreaterThan(0);
      // `score` has no index: only the name range's documents are read.
      const candidates = 'score' in filter ? check({ name: filter.name }).n : n;
      expect(plan.documentsExamined, JSON.stringify(filter)).toBe(candidates);
    }
  });

  it('reads nothing for an empty range or ends of different types on a field holding no array', () => {
    for (const filter of [
      { name: { $gt: 'n100', $lt: 'n100' } },
      { name: { $gte: 'n100', $lt: 'n100' } },
      { name: { $gt: 'n2', $lt: 'n1' } },
      // mongod: a scalar is never both a string >= "a" and a number < 5.
      { name: { $gte: 'a', $lt: 5 } },
      { when: { $gte: 't', $lte: day(N) } },
      { $and: [{ name: { $lt: 'z' } }, { name: { $gt: 0 } }] },
    ]) {
      const { plan, n } = check(filter);
      expect(n, JSON.stringify(filter)).toBe(0);
      expect(plan.index, JSON.stringify(filter)).toBe(
        Object.keys(filter)[0] === '$and' ? 'name_1' : `${Object.keys(filter)[0]}_1`,
      );
      expect(plan.documentsExamined, JSON.stringify(filter)).toBe(0);
    }
    // Each end alone does match documents.
    expect(check({ name: { $gte: 'a' } }).n).toBeGreaterThan(0);
    expect(check({ name: { $lt: 5 } }).n).toBeGreaterThan(0);
  });

  it('keeps numbers equal to an exclusive end: a Decimal128 or Int64 beyond a double shares its key', () => {
    for (const filter of [
      { num: { $gt: 10, $lt: 11 } },
      { num: { $gte: 10, $lte: 11 } },
      { num: { $gt: 9007199254740992, $lt: 9007199254740994 } },
      { _id: { $gt: 100, $lt: 200 } },
    ]) {
      const { plan, n } = check(filter);
      expect(plan.index, JSON.stringify(filter)).not.toBeNull();
      const ends = Object.values(filter)[0] as Record<string, number>;
      const lo = ends.$gt ?? ends.$gte!;
      const hi = ends.$lt ?? ends.$lte!;
      // The documents equal to an end are read too (and left out by the filter when it is exclusive).
      const equal = check({ [Object.keys(filter)[0]!]: { $in: [lo, hi] } }).n;
      expect(plan.documentsExamined, JSON.stringify(filter)).toBeGreaterThanOrEqual(n);
      expect(plan.documentsExamined, JSON.stringify(filter)).toBeLessThanOrEqual(n + equal);
    }
    // The Decimal128 just above 10 and just below 11 match `$gt: 10, $lt: 11`, as in mongod.
    const r = find(db, 't.c', { filter: { num: { $gt: 10, $lt: 11 } }, skip: 0, limit: N, canonical: false });
    expect(r.documents.map((d) => (JSON.parse(d) as { _id: number })._id).sort((x, y) => x - y)).toEqual([
      5, 6,
    ]);
  });

  it('uses one end on a multikey field: an array matches both ends through different elements', () => {
    for (const filter of [
      { tags: { $gt: 5, $lt: 8 } },
      { tags: { $gte: 3, $lte: 3 } },
      { tags: { $gt: 12, $lt: 3 } },
      // ['b', k % 7] matches: "b" >= "a" and k % 7 < 5, through different elements.
      { tags: { $gte: 'a', $lt: 5 } },
      { $and: [{ tags: { $gt: 5 } }, { tags: { $lt: 2 } }] },
    ]) {
      const { plan, n } = check(filter);
      expect(plan.index, JSON.stringify(filter)).toBe('tags_1');
      expect(n, JSON.stringify(filter)).toBeGreaterThan(0);
    }
    // Documents whose array matches `$gt: 5` and `$lt: 8` only through different elements.
    const through = Array.from({ length: N }, (_, k) => docOf(k)).filter((d) => {
      const t = d.tags as unknown;
      if (!Array.isArray(t) || !t.every((x) => typeof x === 'number')) return false;
      const ns = t as number[];
      return !ns.some((x) => x > 5 && x < 8) && ns.some((x) => x > 5) && ns.some((x) => x < 8);
    });
    expect(through.length).toBeGreaterThan(0);
    const r = find(db, 't.c', { filter: { tags: { $gt: 5, $lt: 8 } }, skip: 0, limit: N, canonical: false });
    const ids = new Set(r.documents.map((d) => (JSON.parse(d) as { _id: number })._id));
    for (const d of through) expect(ids.has(d._id as number), String(d._id)).toBe(true);
  });

  it('looks up null on a dotted path: an element without the field has the null key, as in mongod', () => {
    for (const [filter, index] of [
      [{ 'a.b': { $gte: null, $lt: 5 } }, 'a.b_1'],
      [{ 'a.b': { $lte: null, $gt: 2 } }, 'a.b_1'],
      [{ 'a.b': null }, 'a.b_1'],
      [{ 'a.b': { $in: [null, 1] } }, 'a.b_1'],
      [{ name: { $gte: null, $lte: null } }, 'name_1'],
      [{ name: null }, 'name_1'],
    ] as const) {
      const { plan, n } = check(filter as Document);
      expect(plan.index, JSON.stringify(filter)).toBe(index);
      expect(n, JSON.stringify(filter)).toBeGreaterThan(0);
    }
  });

  it('bounds a walk in key order by both ends when sorting on the range field', () => {
    for (const sort of [{ name: 1 }, { name: -1 }]) {
      const filter = { name: { $gte: 'n2', $lt: 'n3' } };
      const { plan, n } = check(filter, sort);
      expect(plan.index).toBe('name_1');
      expect(plan.documentsExamined).toBe(n);
      const r = find(db, 't.c', { filter, sort, skip: 0, limit: N, canonical: false });
      const names = r.documents.map((d) => (JSON.parse(d) as { name: string }).name);
      const sorted = [...names].sort();
      expect(names).toEqual(sort.name === 1 ? sorted : sorted.reverse());
    }
  });
});

describe('$or of points', () => {
  it('is a union of lookups on one field', () => {
    for (const [filter, index] of [
      [{ $or: [{ _id: 3 }, { _id: 7 }, { _id: { $in: [9, 3] } }] }, '_id_'],
      [{ $or: [{ name: 'n5' }, { name: { $eq: 'n6' } }, { name: 'none' }] }, 'name_1'],
      [{ $and: [{ $or: [{ _id: 3 }, { _id: 4, name: 'x' }] }] }, '_id_'],
      [{ $or: [{ tags: 3 }, { tags: 'b' }] }, 'tags_1'],
    ] as const) {
      const { plan, n } = check(filter as Document);
      expect(plan.index, JSON.stringify(filter)).toBe(index);
      expect(n, JSON.stringify(filter)).toBeGreaterThan(0);
      if (index !== 'tags_1' && !JSON.stringify(filter).includes('"x"'))
        expect(plan.documentsExamined, JSON.stringify(filter)).toBe(n);
    }
  });

  it('is a scan when the branches look up different fields, or one is not a lookup of points', () => {
    for (const filter of [
      { $or: [{ _id: 3 }, { name: 'n6' }] },
      { $or: [{ _id: 3 }, { score: 1 }] },
      { $or: [{ _id: 3 }, { _id: { $gt: 500 } }] },
    ]) {
      const { plan } = check(filter);
      expect(plan.index, JSON.stringify(filter)).toBeNull();
    }
    // Another condition ANDed beside the $or still serves.
    expect(check({ $or: [{ _id: 3 }, { name: 'n6' }], name: { $gte: 'n', $lt: 'o' } }).plan.index).toBe(
      'name_1',
    );
  });
});

describe('planLookup', () => {
  const key = (l: ReturnType<typeof planLookup>) =>
    l && {
      ...l,
      ...(l.kind === 'range'
        ? { lo: l.lo.toString('hex'), hi: l.hi.toString('hex') }
        : { keys: l.keys.map((k) => k.toString('hex')) }),
    };
  it('asks whether the field is multikey only for a range with two ends, and never for _id', () => {
    const asked: string[] = [];
    const multikey = (f: string) => (asked.push(f), false);
    planLookup({ name: { $gte: 'a' } }, ['_id', 'name'], multikey);
    planLookup({ _id: { $gte: 1, $lt: 5 } }, ['_id', 'name'], multikey);
    planLookup({ name: 'x', when: { $gt: 1, $lt: 2 } }, ['_id', 'name', 'when'], multikey);
    expect(asked).toEqual([]);
    planLookup({ name: { $gte: 'a', $lt: 'b' } }, ['_id', 'name'], multikey);
    expect(asked).toEqual(['name']);
    // Without the question, one end (the lower) as before.
    const one = key(planLookup({ name: { $gte: 'a', $lt: 'b' } }, ['_id', 'name']));
    expect(one).toMatchObject({ kind: 'range', loInclusive: true, hiInclusive: false, hi: '10' });
  });
});
