/**
 * Edge cases of pipelines over typed values, each against mongod's docs, source or jstests
 * (cited above each test): bookkeeping fields never leak from $setWindowFields, Decimal128 sums
 * mixed with other numbers as mongod's accumulator_sum.cpp makes them, typed operands of
 * $filter's limit, $maxN, $bitNot and $densify, and $elemMatch projections of scalar elements.
 */
import { Decimal128, Double, EJSON, Long, deserialize, serialize, type Document } from 'bson';
import { describe, expect, it } from 'vitest';
import { aggregate, find } from '../../engine/views/query.js';
import { useViewFile } from '../support/view-file.js';

const canon = (d: Document) =>
  EJSON.stringify(deserialize(serialize(d), { promoteValues: false }), { relaxed: false });
const norm = (t: string) => canon(EJSON.parse(t, { relaxed: false }) as Document);
const want = (docs: Document[]) => docs.map(canon);

describe('$setWindowFields bookkeeping', () => {
  const file = useViewFile('mbm-pipeline-edges-1-');
  const agg = (docs: Document[], p: Document[]) =>
    aggregate(file.build({ 't.c': { docs } }), 't.c', p, 100, true).documents.map(norm);

  // mongod adds only the output fields (docs: setWindowFields); $$ROOT is the input document.
  // A documents window gets places (PLACE), a range window plain sortBy values (SEQ).
  it.each([
    ['documents', { documents: ['unbounded', 'unbounded'] }],
    ['range', { range: ['unbounded', 'unbounded'] }],
  ])("$$ROOT in an output over a %s window carries none of the engine's fields", (_, window) => {
    const docs = [
      { _id: 1, v: 2 },
      { _id: 2, v: 1 },
    ];
    const all = [
      { _id: 2, v: 1 },
      { _id: 1, v: 2 },
    ];
    expect(
      agg(docs, [{ $setWindowFields: { sortBy: { v: 1 }, output: { all: { $push: '$$ROOT', window } } } }]),
    ).toEqual(
      want([
        { _id: 2, v: 1, all },
        { _id: 1, v: 2, all },
      ]),
    );
  });
});

// Windows that read sortBy values (docs: setWindowFields, range windows): mongod sorts by one field and
// refuses a document whose sortBy value is not a number (window/partition_iterator.cpp, 5429414;
// jstests/aggregation/sources/setWindowFields/range.js inserts {}, {x: null}, {x: ''}).
describe('$setWindowFields range windows', () => {
  const file = useViewFile('mbm-pipeline-edges-range-');
  const agg = (docs: Document[], p: Document[]) =>
    aggregate(file.build({ 't.c': { docs } }), 't.c', p, 100, true).documents.map(norm);
  const sum = (sortBy: Document, field = '$x') => [
    { $setWindowFields: { sortBy, output: { s: { $sum: field, window: { range: [-1, 0] } } } } },
  ];

  it('over a dotted sortBy path', () => {
    const docs = [
      { _id: 1, a: { t: 2 }, x: 1 },
      { _id: 2, a: { t: 1 }, x: 2 },
    ];
    expect(agg(docs, sum({ 'a.t': 1 }))).toEqual(
      want([
        { _id: 2, a: { t: 1 }, x: 2, s: 2 },
        { _id: 1, a: { t: 2 }, x: 1, s: 3 },
      ]),
    );
  });

  it('an output that overwrites the sortBy field keeps its computed value and type', () => {
    const docs = [
      { _id: 1, v: new Double(10) },
      { _id: 2, v: new Double(1) },
    ];
    const p = [
      {
        $setWindowFields: {
          sortBy: { v: 1 },
          output: { v: { $sum: '$v', window: { range: ['unbounded', 'current'] } } },
        },
      },
    ];
    expect(agg(docs, p)).toEqual(
      want([
        { _id: 2, v: new Double(1) },
        { _id: 1, v: new Double(11) },
      ]),
    );
  });

  it.each([
    ['missing', { _id: 2, v: 2 }],
    ['null', { _id: 2, t: null, v: 2 }],
    ['a string', { _id: 2, t: '', v: 2 }],
  ])('refuses a sortBy value that is %s', (_, doc) => {
    expect(() => agg([{ _id: 1, t: 1, v: 1 }, doc], sum({ t: 1 }, '$v'))).toThrow(/to be a number or a date/);
  });

  it('refuses a compound sortBy', () => {
    expect(() => agg([{ _id: 1, t: 1, u: 1, x: 1 }], sum({ t: 1, u: 1 }))).toThrow(/exactly one field/);
  });
});

describe('Decimal128 $sum with other numbers (jstests/noPassthrough/sum_accumulator_bug_fix.js)', () => {
  const file = useViewFile('mbm-pipeline-edges-3-');
  const sumOf = (ns: unknown[]) =>
    aggregate(
      file.build({ 't.c': { docs: ns.map((n, i) => ({ _id: i, n })) } }),
      't.c',
      [{ $group: { _id: null, o: { $sum: '$n' } } }],
      100,
      true,
    ).documents.map(norm);
  const D = (s: string) => Decimal128.fromString(s);

  // jstests/noPassthrough/sum_accumulator_bug_fix.js (mongodb/mongo), testShardedSumOnBothEngines:
  // accumulator_sum.cpp sums non-decimals as a double-double and adds its getDecimal()
  // (Decimal128(double, kRoundTo34Digits): the double's exact value, not 15 digits).
  describe('$sum of Decimal128 with Doubles, as mongod', () => {
    it('"A double and a decimal": 2.5 + 2.5 is 5.0', () => {
      expect(sumOf([new Double(2.5), D('2.5')])).toEqual(want([{ _id: null, o: D('5.0') }]));
    });
    it('"An int, long, double and decimal": 40.1', () => {
      expect(sumOf([10, Long.fromNumber(10), new Double(10.5), D('9.6')])).toEqual(
        want([{ _id: null, o: D('40.1') }]),
      );
    });
    it('"The double closest to the long max and a very small decimal"', () => {
      expect(sumOf([new Double(9223372036854775808), D('1e-15')])).toEqual(
        want([{ _id: null, o: D('9223372036854775808.000000000000001') }]),
      );
    });
  });
});

describe('typed operands of $filter, $maxN, $bitNot and $densify', () => {
  const file = useViewFile('mbm-pipeline-edges-4-');
  const agg = (docs: Document[], p: Document[]) =>
    aggregate(file.build({ 't.c': { docs } }), 't.c', p, 100, true).documents.map(norm);

  describe('typed operands', () => {
    // mongod $filter (expression evaluation): limit must be integral (Value::integral: a Double 2.0 is),
    // "$filter: limit must be represented as a 32-bit integral value" only otherwise (327391).
    it('$filter limit read from a Double field (mongosh stores 2 as a Double)', () => {
      expect(
        agg(
          [{ _id: 1, a: [1, 2, 3], n: new Double(2) }],
          [{ $project: { f: { $filter: { input: '$a', cond: true, limit: '$n' } } } }],
        ),
      ).toEqual(want([{ _id: 1, f: [1, 2] }]));
    });
    // docs $maxN (array operator): returns the n largest values of the array, as they are.
    it('$maxN of documents gives them back with their Doubles', () => {
      expect(
        agg(
          [{ _id: 1, a: [{ x: new Double(1) }, { x: new Double(2) }] }],
          [{ $project: { m: { $maxN: { input: '$a', n: 1 } } } }],
        ),
      ).toEqual(want([{ _id: 1, m: [{ x: new Double(2) }] }]));
    });
    // src/mongo/db/pipeline/expression.h: class ExpressionBitNot : ExpressionFixedArity<ExpressionBitNot, 1>
    // ("Expression $bitNot takes exactly 1 arguments. 2 were passed in.").
    it('$bitNot with two operands is refused', () => {
      expect(() => agg([{ _id: 1, i: 5 }], [{ $project: { c: { $bitNot: ['$i', '$i'] } } }])).toThrow(
        /exactly 1 argument/,
      );
    });
    // docs $densify: it adds documents; the existing ones pass through unchanged.
    it("$densify keeps the other documents' Int64 and Double fields", () => {
      expect(
        agg(
          [
            { _id: 1, x: 1, o: Long.fromNumber(5), d: new Double(2) },
            { _id: 2, x: 3 },
          ],
          [{ $densify: { field: 'x', range: { step: 1, bounds: 'full' } } }],
        ),
      ).toEqual(
        want([{ _id: 1, x: 1, o: Long.fromNumber(5), d: new Double(2) }, { x: 2 }, { _id: 2, x: 3 }]),
      );
    });
  });
});

describe('$elemMatch projection of scalar elements', () => {
  const file = useViewFile('mbm-pipeline-edges-7-');
  const findIn = (docs: Document[], filter: Document, projection: Document) =>
    find(file.build({ 't.c': { docs } }), 't.c', {
      filter,
      projection,
      skip: 0,
      limit: 10,
      canonical: true,
    }).documents.map(norm);

  // docs projection/elemMatch: the first element matching the condition; mongod parses it as the
  // query {g: {$elemMatch: ...}}, where operators on scalar elements are allowed.
  describe('$elemMatch projections', () => {
    it('over an array of numbers', () => {
      expect(findIn([{ _id: 1, g: [1, 5, 7] }], {}, { g: { $elemMatch: { $gt: 4 } } })).toEqual(
        want([{ _id: 1, g: [5] }]),
      );
    });
  });
});

// docs aggregation/round ("Rounding to Even Values", negative places) and aggregation/trunc;
// mongod's ExpressionRound keeps the operand's type, an Int32 that overflows becoming an Int64.
// docs aggregation/mod: mongod refuses a zero divisor (16610); docs aggregation/toDecimal's table.
describe('$round, $trunc, $mod by zero and $toDecimal', () => {
  const file = useViewFile('mbm-pipeline-edges-round-');
  const one = (p: Document) =>
    aggregate(
      file.build({ 't.c': { docs: [{ _id: 1 }] } }),
      't.c',
      [{ $project: { _id: 0, ...p } }],
      10,
      true,
    ).documents.map(norm);

  it('rounds ties to even at any place, in the operand type', () => {
    expect(
      one({
        a: { $round: [10.5, 0] },
        b: { $round: [11.5, 0] },
        c: { $round: [-10.5, 0] },
        d: { $round: [1234.5678, -2] },
        e: { $round: [{ $literal: 38 }, -1] },
        f: { $round: [35, -1] },
        g: { $round: [2147483647, -1] },
        h: { $round: [1234.5678, 2] },
      }),
    ).toEqual(
      want([
        {
          a: new Double(10),
          b: new Double(12),
          c: new Double(-10),
          d: new Double(1200),
          e: 40,
          f: 40,
          g: Long.fromNumber(2147483650),
          h: 1234.57,
        },
      ]),
    );
  });

  it('truncates toward zero at any place', () => {
    expect(
      one({ a: { $trunc: [38, -1] }, b: { $trunc: [-38.7, 0] }, c: { $trunc: [1234.5678, 2] } }),
    ).toEqual(want([{ a: 30, b: new Double(-38), c: 1234.56 }]));
  });

  it('refuses $mod by zero and converts with $toDecimal as its table says', () => {
    expect(() => one({ m: { $mod: [5, 0] } })).toThrow(/mod by zero/);
    expect(one({ a: { $toDecimal: 2.5 }, b: { $toDecimal: 5 }, c: { $toDecimal: true } })).toEqual(
      want([
        {
          a: Decimal128.fromString('2.50000000000000'),
          b: Decimal128.fromString('5'),
          c: Decimal128.fromString('1'),
        },
      ]),
    );
  });
});
