/**
 * Number types through aggregation pipelines, compared as BSON bytes. mongod
 * keeps the type of every value a stage does not compute on (an `$unwind`
 * or `$addFields` leaves a Double 2.0 a Double and an Int64 an Int64), and
 * gives a computed number the type its rules give:
 * - arithmetic: the widest type of its operands, an Int32 that overflows an
 *   Int64 (mongod's ExpressionAdd / ExpressionMultiply, "WidestNumeric"),
 *   `$divide` a Double, a Date minus a Date an Int64 of milliseconds
 *   (docs: reference/operator/aggregation/subtract);
 * - `$sum`: Int32 while the sum fits, else Int64, else Double; a Double
 *   operand makes it a Double (docs: reference/operator/aggregation/sum,
 *   "Result Data Type"); `$avg` a Double (docs: .../avg);
 * - truthiness: null, missing and zero of any number type are false (docs:
 *   reference/operator/aggregation/cond, "Boolean Expressions" in
 *   aggregation-pipeline operators).
 * A computing stage used to decode every number as a JavaScript number and
 * give back an Int32 for each integral one.
 */
import { Double, EJSON, Int32, Long, deserialize, serialize, type Document } from 'bson';
import { describe, expect, it } from 'vitest';
import type { ViewDb } from '../../engine/catalog/view-store.js';
import { aggregate, find } from '../../engine/views/query.js';
import { useViewFile } from '../support/view-file.js';

const file = useViewFile('mbm-pipeline-types-');
const INT32_MAX = 2 ** 31 - 1;

const DOC = {
  _id: 1,
  d: new Double(2),
  l: Long.fromNumber(5),
  i: new Int32(3),
  f: new Double(2.5),
  zero: new Double(0),
  lzero: Long.fromNumber(0),
  arr: [new Double(1), Long.fromNumber(2), new Int32(3)],
  sub: { x: new Double(7), y: Long.fromNumber(8) },
  t0: new Date(1_000),
  t1: new Date(4_000),
  one: new Double(1),
};

function build(
  docs: Document[] = [DOC],
  extra: Record<string, Parameters<typeof file.build>[0][string]> = {},
): ViewDb {
  return file.build({ 't.c': { docs }, ...extra });
}

const bytes = (d: Document) => Buffer.from(serialize(d));
const text = (b: Buffer) => EJSON.stringify(deserialize(b, { promoteValues: false }), { relaxed: false });

/** The pipeline's answers, as bytes, equal to the expected documents' bytes. */
function expectAgg(db: ViewDb, pipeline: Document[], want: Document[]): void {
  const got = aggregate(db, 't.c', pipeline, 100, true).documents.map((t) =>
    bytes(EJSON.parse(t, { relaxed: false }) as Document),
  );
  expect(got.map(text)).toEqual(want.map(bytes).map(text));
  expect(got).toEqual(want.map(bytes));
}

describe('values a stage does not compute on keep their type', () => {
  it('through $unwind: every other field, and each element of the unwound array', () => {
    const db = build();
    // Spread then set: 'arr' keeps its place among the fields, as $unwind keeps it.
    expectAgg(
      db,
      [{ $unwind: '$arr' }],
      DOC.arr.map((a) => ({ ...DOC, arr: a })),
    );
  });

  it('through $addFields, $set of a copy, $project and $replaceWith', () => {
    const db = build();
    expectAgg(
      db,
      [{ $addFields: { n: 1, copy: '$d', deep: '$sub.y' } }],
      [{ ...DOC, n: 1, copy: new Double(2), deep: Long.fromNumber(8) }],
    );
    expectAgg(db, [{ $project: { d: 1, l: 1, sub: 1 } }], [{ _id: 1, d: DOC.d, l: DOC.l, sub: DOC.sub }]);
    expectAgg(db, [{ $replaceWith: '$sub' }], [DOC.sub]);
  });

  it('through a sort after a computing stage, $facet, $group keys, $push, $first, $min and $max', () => {
    const db = build([DOC, { ...DOC, _id: 2, d: new Double(4), l: Long.fromNumber(9) }]);
    expectAgg(
      db,
      [{ $addFields: { k: 1 } }, { $sort: { d: -1 } }, { $project: { d: 1, l: 1 } }],
      [
        { _id: 2, d: new Double(4), l: Long.fromNumber(9) },
        { _id: 1, d: new Double(2), l: Long.fromNumber(5) },
      ],
    );
    expectAgg(
      db,
      [{ $facet: { a: [{ $addFields: { k: 1 } }, { $project: { l: 1 } }] } }],
      [
        {
          a: [
            { _id: 1, l: Long.fromNumber(5) },
            { _id: 2, l: Long.fromNumber(9) },
          ],
        },
      ],
    );
    expectAgg(
      db,
      [
        {
          $group: {
            _id: '$sub.x',
            p: { $push: '$l' },
            first: { $first: '$d' },
            min: { $min: '$l' },
            max: { $max: '$d' },
          },
        },
      ],
      [
        {
          _id: new Double(7),
          p: [Long.fromNumber(5), Long.fromNumber(9)],
          first: new Double(2),
          min: Long.fromNumber(5),
          max: new Double(4),
        },
      ],
    );
  });

  it('read through a MongoDB view whose pipeline computes', () => {
    const db = build([DOC], {
      't.v': { view: { viewOn: 'c', pipeline: [{ $unwind: '$arr' }, { $project: { d: 1, l: 1, arr: 1 } }] } },
    });
    const got = find(db, 't.v', { filter: {}, skip: 0, limit: 10, canonical: true }).documents.map((t) =>
      bytes(EJSON.parse(t, { relaxed: false }) as Document),
    );
    expect(got).toEqual(DOC.arr.map((a) => bytes({ _id: 1, d: DOC.d, l: DOC.l, arr: a })));
  });
});

describe('computed numbers get the type mongod gives them', () => {
  it('arithmetic: the widest operand type, Int32 overflow to Int64, $divide a Double, Date - Date an Int64', () => {
    const db = build();
    expectAgg(
      db,
      [
        {
          $project: {
            _id: 0,
            addDouble: { $add: ['$d', 1] },
            addInt: { $add: ['$i', 1] },
            addLong: { $add: ['$l', 1] },
            overflow: { $add: [INT32_MAX, '$i'] },
            mul: { $multiply: ['$f', 2] },
            div: { $divide: [6, '$i'] },
            mod: { $mod: ['$d', 3] },
            abs: { $abs: '$l' },
            floor: { $floor: '$f' },
            ms: { $subtract: ['$t1', '$t0'] },
            later: { $add: ['$t0', 1] },
          },
        },
      ],
      [
        {
          addDouble: new Double(3),
          addInt: 4,
          addLong: Long.fromNumber(6),
          overflow: Long.fromNumber(INT32_MAX + 3),
          mul: new Double(5),
          div: new Double(2),
          mod: new Double(2),
          abs: Long.fromNumber(5),
          floor: new Double(2),
          ms: Long.fromNumber(3_000),
          later: new Date(1_001),
        },
      ],
    );
  });

  it('$sum, $avg, $stdDevPop as expressions, in $group and in $setWindowFields', () => {
    const db = build([
      { _id: 1, i: new Int32(INT32_MAX), l: Long.fromNumber(1), d: new Double(1.5) },
      { _id: 2, i: new Int32(1), l: Long.fromNumber(2), d: new Double(0.5) },
    ]);
    expectAgg(
      db,
      [
        {
          $group: {
            _id: null,
            ints: { $sum: '$i' },
            longs: { $sum: '$l' },
            doubles: { $sum: '$d' },
            count: { $sum: 1 },
            avg: { $avg: '$l' },
            sd: { $stdDevPop: '$l' },
          },
        },
        { $project: { _id: 0, ints: 1, longs: 1, doubles: 1, count: 1, avg: 1, sd: 1 } },
      ],
      [
        {
          ints: Long.fromNumber(INT32_MAX + 1),
          longs: Long.fromNumber(3),
          doubles: new Double(2),
          count: 2,
          avg: 1.5,
          sd: 0.5,
        },
      ],
    );
    expectAgg(
      db,
      [
        {
          $project: {
            _id: 0,
            s: { $sum: ['$l', '$i'] },
            a: { $avg: ['$l', 3] },
            arr: { $sum: [[1, 2]] },
            list: { $sum: [[1, 2], 3] },
          },
        },
      ],
      [
        // One operand that is an array is traversed; an array among several is not a number (ExpressionFromAccumulator).
        { s: Long.fromNumber(INT32_MAX + 1), a: new Double(2), arr: 3, list: 3 },
        { s: Long.fromNumber(3), a: 2.5, arr: 3, list: 3 },
      ],
    );
    expectAgg(
      db,
      [
        {
          $setWindowFields: {
            sortBy: { _id: 1 },
            output: { run: { $sum: '$l', window: { documents: ['unbounded', 'current'] } } },
          },
        },
        { $project: { run: 1 } },
      ],
      [
        { _id: 1, run: Long.fromNumber(1) },
        { _id: 2, run: Long.fromNumber(3) },
      ],
    );
  });

  it('conversions: $toDouble a Double, $toLong an Int64, $toString and $isNumber of typed values', () => {
    const db = build();
    expectAgg(
      db,
      [
        {
          $project: {
            _id: 0,
            td: { $toDouble: '$i' },
            tl: { $toLong: '$i' },
            ts: { $toString: '$d' },
            tsl: { $toString: '$l' },
            num: { $isNumber: '$d' },
            type: { $type: '$d' },
            typeL: { $type: '$l' },
            elem: { $arrayElemAt: ['$arr', '$one'] },
            inArr: { $in: [2, '$arr'] },
          },
        },
      ],
      [
        {
          td: new Double(3),
          tl: Long.fromNumber(3),
          ts: '2',
          tsl: '5',
          num: true,
          type: 'double',
          typeL: 'long',
          elem: Long.fromNumber(2),
          inArr: true,
        },
      ],
    );
  });
});

describe('zero of any number type is false', () => {
  it('in $cond, $not, $and, $or, $switch and a $match on $expr', () => {
    const db = build();
    expectAgg(
      db,
      [
        {
          $project: {
            _id: 0,
            cond: { $cond: ['$zero', 'yes', 'no'] },
            condL: { $cond: { if: '$lzero', then: 'yes', else: 'no' } },
            condD: { $cond: ['$d', 'yes', 'no'] },
            not: { $not: ['$lzero'] },
            and: { $and: ['$d', '$zero'] },
            or: { $or: ['$zero', '$lzero'] },
            sw: { $switch: { branches: [{ case: '$zero', then: 'a' }], default: 'b' } },
          },
        },
      ],
      [{ cond: 'no', condL: 'no', condD: 'yes', not: true, and: false, or: false, sw: 'b' }],
    );
    expectAgg(db, [{ $match: { $expr: '$zero' } }], []);
    expectAgg(db, [{ $match: { $expr: '$d' } }, { $project: { d: 1 } }], [{ _id: 1, d: DOC.d }]);
  });
});

// mongod's ProjectionNode::applyToDocument (projection_node.cpp): the fields kept, in the input's
// order (applyProjections), then the computed ones in the projection's order (applyExpressions).
describe('the fields of an inclusion projection come out in mongod order', () => {
  it('kept fields in input order, then computed fields in projection order, in $project and in find', () => {
    const db = build([{ _id: 1, z: new Int32(1), a: new Int32(2), s: { q: 1, p: 2 } }]);
    const spec = { z: { $add: ['$z', 1] }, c: 'x', a: 1, 's.p': 1, 's.r': { $literal: 3 } };
    const want = { _id: 1, a: 2, s: { p: 2, r: 3 }, z: 2, c: 'x' };
    expectAgg(db, [{ $project: spec }], [want]);
    const got = find(db, 't.c', {
      filter: {},
      projection: spec,
      skip: 0,
      limit: 1,
      canonical: true,
    }).documents;
    expect(got.map((t) => bytes(EJSON.parse(t, { relaxed: false }) as Document))).toEqual([bytes(want)]);
  });

  // docs: reference/operator/projection/positional ("Project Array Values"): the first element the
  // query's condition on the array matched.
  it('a positional projection gives the first element the condition matched', () => {
    const db = build([
      { _id: 1, semester: 1, grades: [70, 87, 90] },
      { _id: 2, semester: 1, grades: [90, 88, 92] },
      { _id: 3, semester: 1, grades: [85, 100, 90] },
      { _id: 4, semester: 2, grades: [79, 85, 80] },
    ]);
    const got = find(db, 't.c', {
      filter: { semester: 1, grades: { $gte: 85 } },
      projection: { 'grades.$': 1 },
      skip: 0,
      limit: 10,
      canonical: true,
    }).documents.map((t) => bytes(EJSON.parse(t, { relaxed: false }) as Document));
    expect(got).toEqual(
      [
        { _id: 1, grades: [87] },
        { _id: 2, grades: [90] },
        { _id: 3, grades: [85] },
      ].map(bytes),
    );
  });

  it('an exclusion projection keeps the input order', () => {
    const db = build([{ _id: 1, z: 1, a: 2, m: 3 }]);
    expectAgg(db, [{ $project: { a: 0 } }], [{ _id: 1, z: 1, m: 3 }]);
  });
});
