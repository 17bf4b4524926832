/**
 * Projections and computed numbers over typed values: find's `$elemMatch` and positional
 * projections on Doubles, exact Decimal128 and Int64 results, `$bitAnd` over 64 bits,
 * `$unwind`'s index, projection order through arrays and `{_id: 1}`. Each answer is mongod's,
 * its source in the comment above the test.
 */
import { Decimal128, Double, EJSON, Int32, Long, deserialize, serialize, type Document } from 'bson';
import { describe, expect, it } from 'vitest';
import { aggregate, find } from '../../engine/views/query.js';
import { useViewFile } from '../support/view-file.js';

const file = useViewFile('mbm-projection-types-');
const canon = (d: Document) =>
  EJSON.stringify(deserialize(serialize(d), { promoteValues: false }), { relaxed: false });
const norm = (t: string) => canon(EJSON.parse(t, { relaxed: false }) as Document);
const want = (docs: Document[]) => docs.map(canon);
const agg = (db: ReturnType<typeof file.build>, p: Document[]) =>
  aggregate(db, 't.c', p, 100, true).documents.map(norm);
const findIn = (db: ReturnType<typeof file.build>, filter: Document, projection: Document) =>
  find(db, 't.c', { filter, projection, skip: 0, limit: 10, canonical: true }).documents.map(norm);

describe('find projections on Double arrays (mongosh stores [70, 87] as Doubles)', () => {
  // docs reference/operator/projection/elemMatch: the first element matching the condition.
  it('$elemMatch projection', () => {
    const db = file.build({
      't.c': { docs: [{ _id: 1, g: [{ s: new Double(70) }, { s: new Double(87) }] }] },
    });
    expect(findIn(db, {}, { g: { $elemMatch: { s: { $gte: 85 } } } })).toEqual(
      want([{ _id: 1, g: [{ s: new Double(87) }] }]),
    );
  });
  // docs reference/operator/projection/positional: the first element the query's condition matched.
  it('positional projection', () => {
    const db = file.build({
      't.c': { docs: [{ _id: 1, grades: [new Double(70), new Double(87), new Double(90)] }] },
    });
    expect(findIn(db, { grades: { $gte: 85 } }, { 'grades.$': 1 })).toEqual(
      want([{ _id: 1, grades: [new Double(87)] }]),
    );
  });
});

describe('number results', () => {
  // docs aggregation/sum "Result Data Type": Decimal128 if any operand is one; Decimal arithmetic is exact.
  it('$sum / $avg of Decimal128 are exact Decimals', () => {
    const db = file.build({
      't.c': {
        docs: [
          { _id: 1, x: Decimal128.fromString('0.1') },
          { _id: 2, x: Decimal128.fromString('0.2') },
        ],
      },
    });
    expect(agg(db, [{ $group: { _id: null, s: { $sum: '$x' }, a: { $avg: '$x' } } }])).toEqual(
      want([{ _id: null, s: Decimal128.fromString('0.3'), a: Decimal128.fromString('0.15') }]),
    );
  });
  // mongod ExpressionMultiply: int * int overflowing int is computed as an exact long (overflow::mul).
  it('$multiply of two Int32 overflowing past 2^53 is the exact Int64', () => {
    const db = file.build({ 't.c': { docs: [{ _id: 1, i: new Int32(2 ** 31 - 1) }] } });
    expect(agg(db, [{ $project: { x: { $multiply: ['$i', '$i'] } } }])).toEqual(
      want([{ _id: 1, x: Long.fromString('4611686014132420609') }]),
    );
  });
  // docs aggregation/bitAnd "Behavior": ints and longs -> a long (sign-extended); longs -> a long, all 64 bits.
  it('$bitAnd of Int64s is an Int64 over 64 bits', () => {
    const db = file.build({
      't.c': { docs: [{ _id: 1, a: new Int32(3), m: Long.fromNumber(63), big: Long.fromNumber(2 ** 40) }] },
    });
    expect(
      agg(db, [{ $project: { x: { $bitAnd: ['$a', '$m'] }, y: { $bitAnd: ['$big', '$big'] } } }]),
    ).toEqual(want([{ _id: 1, x: Long.fromNumber(3), y: Long.fromNumber(2 ** 40) }]));
  });
  // docs aggregation/unwind "Include Array Index": "arrayIndex" : NumberLong(0).
  it('$unwind includeArrayIndex is an Int64', () => {
    const db = file.build({ 't.c': { docs: [{ _id: 1, a: ['x'] }] } });
    expect(agg(db, [{ $unwind: { path: '$a', includeArrayIndex: 'k' } }])).toEqual(
      want([{ _id: 1, a: 'x', k: Long.fromNumber(0) }]),
    );
  });
});

describe('projection order (projection_node.cpp applyProjections walks each array element)', () => {
  // {'a.b': 1, 'a.c': 1} on a: [5, {c, b}]: the scalar goes (InclusionNode transformSkippedValueForOutput),
  // the document keeps its own order c, b.
  it('an array whose scalar elements are dropped', () => {
    const db = file.build({ 't.c': { docs: [{ _id: 1, a: [5, { c: 1, b: 2 }] }] } });
    expect(agg(db, [{ $project: { 'a.b': 1, 'a.c': 1 } }])).toEqual(want([{ _id: 1, a: [{ c: 1, b: 2 }] }]));
  });
});

// {_id: 1} is an inclusion projection of _id alone
// (docs tutorial/project-fields-from-query-results "Return the Specified Fields and the _id Field Only").
it('$project {_id: 1} keeps only _id', () => {
  const db = file.build({ 't.c': { docs: [{ _id: 1, a: 2 }] } });
  expect(agg(db, [{ $project: { _id: 1 } }])).toEqual(want([{ _id: 1 }]));
});
