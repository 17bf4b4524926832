/**
 * Filters matched on raw BSON with mongod's rules (bson-match.ts). Each
 * expected answer is taken from MongoDB's documentation or mongod's source,
 * cited beside it, never from this engine or mingo; documents are built with
 * explicit BSON types (Int32, Int64, Double, Decimal128) and matched as bytes.
 */
import {
  BSONRegExp,
  BSONSymbol,
  Decimal128,
  Double,
  EJSON,
  Int32,
  Long,
  MaxKey,
  MinKey,
  serialize,
  type Document,
} from 'bson';
import { describe, expect, it } from 'vitest';
import type { ViewDb } from '../../engine/catalog/view-store.js';
import { compileFilter } from '../../engine/views/bson-match.js';
import { aggregate, count, find, matchingRaw } from '../../engine/views/query.js';
import { parseFilter } from '../../engine/views/query-input.js';
import { useViewFile } from '../support/view-file.js';

/** The `_id`s of the documents the filter matches. */
function hits(filter: Document, docs: Document[]): unknown[] {
  const m = compileFilter(filter);
  return docs.filter((d) => m(Buffer.from(serialize(d)))).map((d) => d._id);
}

const TWO53 = 2 ** 53;

describe('filters with MongoDB semantics on raw BSON', () => {
  it('brackets comparisons by type', () => {
    // docs: reference/bson-type-comparison-order "Comparison/Sort Order": "For most data types, comparison
    // operators only perform comparisons on fields where the BSON type matches the query value's type"
    // (type bracketing); and query "Query an Array": {dim_cm: {$gt: 25}} matches when any element is > 25.
    const docs = [
      { _id: 1, a: new Int32(6) },
      { _id: 2, a: 'x' },
      { _id: 3, a: null },
      { _id: 4, a: [new Int32(4), new Int32(7)] },
      { _id: 5, a: [new Int32(4)] },
      { _id: 6 },
      { _id: 7, a: 'y' },
      { _id: 8, a: new Date(0) },
      { _id: 9, a: { b: 1 } },
    ];
    expect(hits({ a: { $gt: 5 } }, docs)).toEqual([1, 4]);
    expect(hits({ a: { $gt: 'x' } }, docs)).toEqual([7]);
    expect(hits({ a: { $gte: 'x' } }, docs)).toEqual([2, 7]);
    expect(hits({ a: { $lt: new Date(1) } }, docs)).toEqual([8]);
    // expression_leaf.cpp: a MinKey / MaxKey operand bounds every type (missing included, as EOO).
    expect(hits({ a: { $gt: new MinKey() } }, docs)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(hits({ a: { $lt: new MaxKey() } }, docs)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('compares numbers by exact value across Int32, Int64, Double and Decimal128', () => {
    // docs: "Comparison/Sort Order": "MongoDB treats some types as equivalent for comparison purposes. For
    // instance, numeric types undergo conversion before comparison"; expression_leaf.cpp compares with
    // BSONElement::compareElements, exact across types (an Int64 2^53+1 is above the Double 2^53).
    const docs = [
      { _id: 1, n: new Double(TWO53) },
      { _id: 2, n: Long.fromString('9007199254740993') },
      { _id: 3, n: Long.fromString('9007199254740992') },
      { _id: 4, n: Decimal128.fromString('9007199254740993') },
      { _id: 5, n: new Int32(1) },
      { _id: 6, n: new Double(1) },
      { _id: 7, n: Decimal128.fromString('1.0') },
      { _id: 8, n: Long.fromNumber(1) },
      { _id: 9, n: new Double(NaN) },
    ];
    expect(hits({ n: { $gt: new Double(TWO53) } }, docs)).toEqual([2, 4]);
    expect(hits({ n: Long.fromString('9007199254740993') }, docs)).toEqual([2, 4]);
    expect(hits({ n: TWO53 }, docs)).toEqual([1, 3]);
    expect(hits({ n: 1 }, docs)).toEqual([5, 6, 7, 8]);
    // expression_leaf.cpp: NaN equals NaN, and is neither below nor above any number.
    expect(hits({ n: NaN }, docs)).toEqual([9]);
    expect(hits({ n: { $lt: 0 } }, docs)).toEqual([]);
    expect(hits({ n: { $gte: NaN } }, docs)).toEqual([9]);
  });

  it('matches arrays by any element and by the whole array', () => {
    // docs: tutorial/query-arrays ("Query an Array"), the inventory collection.
    const inventory = [
      { _id: 1, item: 'journal', tags: ['blank', 'red'], dim_cm: [new Int32(14), new Int32(21)] },
      { _id: 2, item: 'notebook', tags: ['red', 'blank'], dim_cm: [new Int32(14), new Int32(21)] },
      { _id: 3, item: 'paper', tags: ['red', 'blank', 'plain'], dim_cm: [new Int32(14), new Int32(21)] },
      { _id: 4, item: 'planner', tags: ['blank', 'red'], dim_cm: [new Double(22.85), new Int32(30)] },
      { _id: 5, item: 'postcard', tags: ['blue'], dim_cm: [new Int32(10), new Double(15.25)] },
    ];
    // "Match an Array": the exact array, order included.
    expect(hits({ tags: ['red', 'blank'] }, inventory)).toEqual([2]);
    expect(hits({ tags: { $all: ['red', 'blank'] } }, inventory)).toEqual([1, 2, 3, 4]);
    // "Query an Array for an Element".
    expect(hits({ tags: 'red' }, inventory)).toEqual([1, 2, 3, 4]);
    expect(hits({ dim_cm: { $gt: 25 } }, inventory)).toEqual([4]);
    // "Specify Multiple Conditions for Array Elements": one element may satisfy $gt, another $lt.
    expect(hits({ dim_cm: { $gt: 15, $lt: 20 } }, inventory)).toEqual([1, 2, 3, 5]);
    expect(hits({ dim_cm: { $elemMatch: { $gt: 22, $lt: 30 } } }, inventory)).toEqual([4]);
    expect(hits({ 'dim_cm.1': { $gt: 25 } }, inventory)).toEqual([4]);
    // expression_array.cpp ElemMatchValueMatchExpression: each element as it is (a nested array is not
    // opened), so [[1, 2]] has no element above 1 while [0, 5] has.
    expect(
      hits({ a: { $elemMatch: { $gt: 1 } } }, [
        { _id: 1, a: [[1, 2]] },
        { _id: 2, a: [0, 5] },
      ]),
    ).toEqual([2]);
    expect(hits({ tags: { $size: 3 } }, inventory)).toEqual([3]);
    // tutorial/query-array-of-documents: a field of the documents in an array, and $elemMatch on them.
    const stock = [
      {
        _id: 1,
        instock: [
          { warehouse: 'A', qty: new Int32(5) },
          { warehouse: 'C', qty: new Int32(15) },
        ],
      },
      { _id: 2, instock: [{ warehouse: 'C', qty: new Int32(5) }] },
      { _id: 3, instock: [{ warehouse: 'A', qty: new Int32(60) }] },
      {
        _id: 4,
        instock: [
          { warehouse: 'A', qty: new Int32(40) },
          { warehouse: 'B', qty: new Int32(5) },
        ],
      },
      {
        _id: 5,
        instock: [
          { warehouse: 'B', qty: new Int32(15) },
          { warehouse: 'C', qty: new Int32(35) },
        ],
      },
    ];
    expect(hits({ instock: { warehouse: 'A', qty: 5 } }, stock)).toEqual([1]);
    expect(hits({ instock: { qty: 5, warehouse: 'A' } }, stock)).toEqual([]);
    expect(hits({ 'instock.qty': { $lte: 20 } }, stock)).toEqual([1, 2, 4, 5]);
    expect(hits({ 'instock.0.qty': { $lte: 20 } }, stock)).toEqual([1, 2, 5]);
    expect(hits({ instock: { $elemMatch: { qty: 5, warehouse: 'A' } } }, stock)).toEqual([1]);
    expect(hits({ instock: { $elemMatch: { qty: { $gt: 10, $lte: 20 } } } }, stock)).toEqual([1, 5]);
    // "…at least one embedded document … greater than 10 and at least one (not necessarily the same) …
    // less than or equal to 20": _id 2 (only 5) has none above 10.
    expect(hits({ 'instock.qty': { $gt: 10, $lte: 20 } }, stock)).toEqual([1, 4, 5]);
    expect(hits({ 'instock.qty': 5, 'instock.warehouse': 'A' }, stock)).toEqual([1, 4]);
  });

  it('matches null to null and to a missing field', () => {
    // docs: tutorial/query-for-null-fields ("Query for Null or Missing Fields").
    const docs = [{ _id: 1, item: null }, { _id: 2 }];
    expect(hits({ item: null }, docs)).toEqual([1, 2]);
    expect(hits({ item: { $eq: null } }, docs)).toEqual([1, 2]);
    expect(hits({ item: { $ne: null } }, docs)).toEqual([]);
    expect(hits({ item: { $type: 10 } }, docs)).toEqual([1]);
    expect(hits({ item: { $exists: false } }, docs)).toEqual([2]);
    // An array holding null has an element equal to null; an empty one has none.
    expect(
      hits({ a: null }, [
        { _id: 3, a: [1, null] },
        { _id: 4, a: [] },
        { _id: 5, a: [1] },
      ]),
    ).toEqual([3]);
  });

  it('$in and $nin with values of mixed types and regexes', () => {
    // docs: reference/operator/query/in: "$in selects the documents where the value of a field equals any
    // value in the specified array", regexes allowed; the same type bracketing as $eq.
    const docs = [
      { _id: 1, v: new Int32(5) },
      { _id: 2, v: '5' },
      { _id: 3, v: 'abc' },
      { _id: 4, v: null },
      { _id: 5 },
      { _id: 6, v: [new Double(5), 'z'] },
      { _id: 7, v: true },
    ];
    const filter = { v: { $in: [5, null, /^ab/] } };
    expect(hits(filter, docs)).toEqual([1, 3, 4, 5, 6]);
    // reference/operator/query/nin: also the documents without the field... unless null is listed.
    expect(hits({ v: { $nin: [5, /^ab/] } }, docs)).toEqual([2, 4, 5, 7]);
    expect(hits({ v: { $nin: [5, null, /^ab/] } }, docs)).toEqual([2, 7]);
  });

  it('compares embedded documents field by field, in order', () => {
    // docs: tutorial/query-embedded-documents: "Equality matches on the whole embedded document require an
    // exact match of the specified <value> document, including the field order."
    const docs = [{ _id: 1, size: { h: new Int32(14), w: new Int32(21), uom: 'cm' } }];
    expect(hits({ size: { h: 14, w: 21, uom: 'cm' } }, docs)).toEqual([1]);
    expect(hits({ size: { w: 21, h: 14, uom: 'cm' } }, docs)).toEqual([]);
    expect(hits({ 'size.uom': 'cm' }, docs)).toEqual([1]);
    // Comparison/Sort Order: documents compare field by field: {h: 14, …} < {h: 15}.
    expect(hits({ size: { $lt: { h: 15 } } }, docs)).toEqual([1]);
  });

  it('$type reads the stored BSON type', () => {
    // docs: reference/operator/query/type: aliases "int", "long", "double", "decimal", and "number" for all
    // four; "array" matches an array field itself (since 3.6).
    const docs = [
      { _id: 1, v: new Int32(5) },
      { _id: 2, v: new Double(5) },
      { _id: 3, v: Long.fromNumber(5) },
      { _id: 4, v: Decimal128.fromString('5') },
      { _id: 5, v: '5' },
      { _id: 6, v: [new Int32(1)] },
      { _id: 7, v: [] },
    ];
    expect(hits({ v: { $type: 'int' } }, docs)).toEqual([1, 6]);
    expect(hits({ v: { $type: 'double' } }, docs)).toEqual([2]);
    expect(hits({ v: { $type: 18 } }, docs)).toEqual([3]);
    expect(hits({ v: { $type: 'decimal' } }, docs)).toEqual([4]);
    expect(hits({ v: { $type: 'number' } }, docs)).toEqual([1, 2, 3, 4, 6]);
    expect(hits({ v: { $type: ['string', 'array'] } }, docs)).toEqual([5, 6, 7]);
  });

  it('a regex matches strings and symbols only (and an equal regex)', () => {
    // expression_leaf.cpp RegexMatchExpression::matchesSingleElement: String and Symbol by the pattern, RegEx
    // by equal pattern and flags, any other type never.
    const docs = [
      { _id: 1, v: new Int32(5) },
      { _id: 2, v: '5' },
      { _id: 3, v: new BSONSymbol('a5') },
      { _id: 4, v: new BSONRegExp('5', '') },
      { _id: 5, v: ['x', '55'] },
      { _id: 6, v: 'ABC' },
    ];
    expect(hits({ v: /5/ }, docs)).toEqual([2, 3, 4, 5]);
    expect(hits({ v: { $regex: '5' } }, docs)).toEqual([2, 3, 4, 5]);
    expect(hits({ v: { $regex: '5', $options: 'i' } }, docs)).toEqual([2, 3, 5]); // flags differ from 4's
    expect(hits({ v: { $eq: new BSONRegExp('5', '') } }, docs)).toEqual([4]);
    expect(hits({ v: { $regex: '^abc', $options: 'i' } }, docs)).toEqual([6]);
    expect(hits({ v: { $not: /5/ } }, docs)).toEqual([1, 6]);
  });

  it('logical operators, $mod and $exists through arrays', () => {
    // docs: reference/operator/query/mod: "[divisor, remainder]"; query/and, or, nor; query/exists.
    const docs = [
      { _id: 1, qty: new Int32(0), item: { a: 1 } },
      { _id: 2, qty: new Int32(5), item: [{ a: 1 }, { b: 2 }] },
      { _id: 3, qty: new Double(12.5) },
      { _id: 4, qty: Long.fromNumber(-8) },
    ];
    // expression_leaf.cpp ModMatchExpression: a double is truncated to an integer first (12.5 -> 12).
    expect(hits({ qty: { $mod: [4, 0] } }, docs)).toEqual([1, 3, 4]);
    expect(hits({ qty: { $mod: [4, 1] } }, docs)).toEqual([2]);
    expect(hits({ qty: { $mod: [12, 0] } }, docs)).toEqual([1, 3]); // 12.5 truncated to 12
    expect(hits({ 'item.b': { $exists: true } }, docs)).toEqual([2]);
    expect(hits({ $or: [{ qty: { $lt: 1 } }, { 'item.a': 1 }] }, docs)).toEqual([1, 2, 4]);
    expect(hits({ $nor: [{ qty: { $lt: 1 } }, { 'item.a': 1 }] }, docs)).toEqual([3]);
    expect(hits({ $and: [{ qty: { $gt: 0 } }, { qty: { $lt: 10 } }] }, docs)).toEqual([2]);
    // $expr is evaluated by mingo on the decoded document.
    expect(hits({ $expr: { $gt: ['$qty', 4] } }, docs)).toEqual([2, 3]);
  });

  it('refuses unknown operators and malformed operands with typed errors', () => {
    const fails = (text: string) => {
      try {
        parseFilter(text);
      } catch (err) {
        return err as { code: string; message: string; details?: Record<string, unknown> };
      }
      throw new Error(`accepted ${text}`);
    };
    expect(fails('{"a": {"$foo": 1}}')).toMatchObject({
      code: 'INVALID_INPUT',
      details: { field: 'filter' },
    });
    expect(fails('{"$bar": []}')).toMatchObject({ code: 'INVALID_INPUT' });
    expect(fails('{"$or": []}').message).toMatch(/nonempty array/);
    expect(fails('{"a": {"$in": 5}}').message).toMatch(/needs an array/);
    expect(fails('{"a": {"$mod": [0, 1]}}').message).toMatch(/divisor cannot be 0/);
    expect(fails('{"a": {"$type": "nope"}}').message).toMatch(/Unknown type name alias/);
    expect(fails('{"a": {"$regex": "("}}').message).toMatch(/Regular expression is invalid/);
    expect(fails('{"$where": "this.a > 1"}')).toMatchObject({
      code: 'UNSUPPORTED',
      details: { reason: 'unsupported-operator' },
    });
    expect(parseFilter('{"a": {"$gt": 1}, "$comment": "x"}')).toEqual({ a: { $gt: 1 }, $comment: 'x' });
  });
});

describe('queries on a view file use these rules', () => {
  const file = useViewFile('mbm-match-');
  let db: ViewDb | null = null;

  const stored = [
    { _id: new Int32(1), n: Long.fromString('9007199254740993'), t: 'a' },
    { _id: new Int32(2), n: new Double(TWO53), t: new Int32(3) },
    { _id: new Int32(3), n: new Int32(7), t: [new Int32(1), 'b'] },
    { _id: new Int32(4), t: null },
  ];

  function build(): Buffer[] {
    const raws = stored.map((d) => Buffer.from(serialize(d)));
    db = file.build({ 't.c': { docs: raws, indexed: ['t'] } });
    return raws;
  }

  /** Each answer as bytes: the canonical Extended JSON parsed back and encoded. */
  const bytes = (texts: string[]) =>
    texts.map((t) => Buffer.from(serialize(EJSON.parse(t, { relaxed: false }) as Document)));

  it('find, count, matchingRaw and $match return the stored bytes of what mongod would match', () => {
    const raws = build();
    const f = (filter: Document) =>
      bytes(find(db!, 't.c', { filter, skip: 0, limit: 100, canonical: true }).documents);
    // Int64 2^53+1 above Double 2^53 (a double-based compare thinks them equal).
    expect(f({ n: { $gt: TWO53 } })).toEqual([raws[0]]);
    // An indexed field: the key table narrows, the rules decide ($gt: "" is strings only, arrays by element).
    expect(f({ t: { $gte: '' } })).toEqual([raws[0], raws[2]]);
    expect(f({ t: { $type: 'int' } })).toEqual([raws[1], raws[2]]);
    expect(f({ n: null })).toEqual([raws[3]]);
    expect(count(db!, 't.c', { t: { $gt: 0 } })).toBe(2);
    expect(
      [...matchingRaw(db!, 't.c', { filter: { n: { $type: 'long' } }, skip: 0 })].map((r) => r.raw),
    ).toEqual([raws[0]]);
    // Sorted by an indexed field through the key table, still matched by these rules.
    expect(f({ _id: { $gte: 2 }, t: { $lt: 5 } })).toEqual([raws[1], raws[2]]);
    const agg = aggregate(db!, 't.c', [{ $project: { n: 1 } }, { $match: { n: { $gt: TWO53 } } }], 10, true);
    expect(bytes(agg.documents)).toEqual([Buffer.from(serialize({ _id: new Int32(1), n: stored[0]!.n }))]);
  });
});

describe('aggregation expressions compare in MongoDB order', () => {
  it('$gt, $lt, $eq, $cmp across types, exact numbers, arrays whole, missing below null', async () => {
    const { Aggregator } = await import('../../engine/views/mingo-context.js');
    // docs: reference/operator/aggregation/gt (and lt, eq, cmp): "compares both value and type, using the
    // specified BSON comparison order for values of different types"; Comparison/Sort Order puts
    // numbers < strings < objects < arrays, and a missing field below null.
    const [r] = new Aggregator([
      {
        $project: {
          _id: 0,
          strAboveNum: { $gt: ['abc', 5] },
          arrAboveNum: { $gt: [[1, 2], 3] },
          arrNotBelow: { $lt: [[1, 2], 3] },
          exact: { $gt: ['$big', '$dbl'] },
          sameValue: { $eq: [1, '$one'] },
          missingIsNotNull: { $eq: ['$nope', null] },
          cmp: { $cmp: ['$big', '$dbl'] },
          docs: { $lt: [{ a: 1 }, { b: 0 }] },
        },
      },
    ]).run([
      { big: Long.fromString('9007199254740993'), dbl: TWO53, one: Decimal128.fromString('1.0') },
    ]) as Document[];
    expect(r).toEqual({
      strAboveNum: true,
      arrAboveNum: true,
      arrNotBelow: false,
      exact: true,
      sameValue: true,
      missingIsNotNull: false,
      cmp: 1,
      docs: true,
    });
  });
});
