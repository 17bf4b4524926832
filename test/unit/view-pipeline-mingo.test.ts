/**
 * mingo's operators and stages over typed pipeline values (typed-values.ts: integral Doubles
 * and Int64s as bson objects): each answer is mongod's, its source in the comment above the
 * test, compared as canonical Extended JSON of the bytes (number types included).
 */
import { Double, EJSON, Int32, Long, deserialize, serialize, type Document } from 'bson';
import { describe, expect, it } from 'vitest';
import { aggregate } from '../../engine/views/query.js';
import { useViewFile } from '../support/view-file.js';

const file = useViewFile('mbm-pipeline-mingo-');
const canon = (d: Document) =>
  EJSON.stringify(deserialize(serialize(d), { promoteValues: false }), { relaxed: false });
function agg(docs: Document[], pipeline: Document[]): string[] {
  const db = file.build({ 't.c': { docs } });
  return aggregate(db, 't.c', pipeline, 100, true).documents.map((t) =>
    canon(EJSON.parse(t, { relaxed: false }) as Document),
  );
}
const want = (docs: Document[]) => docs.map(canon);

describe('typed values through mingo', () => {
  // docs aggregation/filter: "cond ... resolves to a boolean"; zero of any number type is false
  // (aggregation "Expression Operators" boolean semantics; the commit's own isTrue).
  it('$filter cond: a Double 0.0 or Int64 0 is false', () => {
    const arr = [new Double(0), new Double(1), Long.fromNumber(0), Long.fromNumber(3)];
    expect(
      agg([{ _id: 1, arr }], [{ $project: { x: { $filter: { input: '$arr', cond: '$$this' } } } }]),
    ).toEqual(want([{ _id: 1, x: [new Double(1), Long.fromNumber(3)] }]));
  });

  // $setWindowFields sorts by sortBy in BSON order (numbers by value): docs setWindowFields /
  // documentNumber. mingo re-sorts Double/Long objects by their toString ("10" < "9").
  it('$setWindowFields sortBy a Double or Int64 field: numeric order', () => {
    const docs = [
      { _id: 1, d: new Double(9), l: Long.fromNumber(9) },
      { _id: 2, d: new Double(10), l: Long.fromNumber(10) },
    ];
    for (const f of ['d', 'l'])
      expect(
        agg(docs, [
          { $setWindowFields: { sortBy: { [f]: 1 }, output: { n: { $documentNumber: {} } } } },
          { $project: { n: 1 } },
        ]),
      ).toEqual(
        want([
          { _id: 1, n: 1 },
          { _id: 2, n: 2 },
        ]),
      );
  });

  // range window on an Int64 sortBy: [-1, 0] around 10 holds 9 and 10 (docs setWindowFields "range").
  it('$setWindowFields range window on an Int64 sortBy', () => {
    const docs = [
      { _id: 1, l: Long.fromNumber(9) },
      { _id: 2, l: Long.fromNumber(10) },
    ];
    expect(
      agg(docs, [
        { $setWindowFields: { sortBy: { l: 1 }, output: { n: { $sum: 1, window: { range: [-1, 0] } } } } },
        { $sort: { _id: 1 } },
        { $project: { n: 1 } },
      ]),
    ).toEqual(
      want([
        { _id: 1, n: 1 },
        { _id: 2, n: 2 },
      ]),
    );
  });

  // $fill locf follows sortBy (docs aggregation/fill): sorted d desc = 11 (no q), 9 (q) -> 11 stays null.
  it('$fill sortBy a Double field', () => {
    const docs = [
      { _id: 1, d: new Double(9), q: new Double(1) },
      { _id: 2, d: new Double(11) },
    ];
    expect(
      agg(docs, [{ $fill: { sortBy: { d: -1 }, output: { q: { method: 'locf' } } } }, { $sort: { _id: 1 } }]),
    ).toEqual(
      want([
        { _id: 1, d: new Double(9), q: new Double(1) },
        { _id: 2, d: new Double(11), q: null },
      ]),
    );
  });

  // mongod window_function_exec_linear_fill.cpp getNext: a non-null value is returned as is (`return fillFieldValue`).
  it('$linearFill keeps a present Int32 an Int32', () => {
    expect(
      agg(
        [{ _id: 1, i: new Int32(9) }],
        [
          { $setWindowFields: { sortBy: { _id: 1 }, output: { n: { $linearFill: '$i' } } } },
          { $project: { n: 1 } },
        ],
      ),
    ).toEqual(want([{ _id: 1, n: new Int32(9) }]));
  });

  // $densify on a numeric field (docs aggregation/densify): 9.0, 11.0 step 1 -> 9, 10, 11.
  it('$densify on a Double field', () => {
    const docs = [
      { _id: 1, d: new Double(9) },
      { _id: 2, d: new Double(11) },
    ];
    expect(
      agg(docs, [
        { $densify: { field: 'd', range: { step: 1, bounds: 'full' } } },
        { $project: { _id: 0, d: 1 } },
      ]).length,
    ).toBe(3);
  });

  // docs aggregation/maxN-array-element: the n largest values; n 2.0 is integral (accumulator_multi.cpp accepts it).
  it('$maxN over Doubles and Int64s', () => {
    const arr = [new Double(0), new Double(1), Long.fromNumber(0), Long.fromNumber(3)];
    expect(agg([{ _id: 1, arr }], [{ $project: { x: { $maxN: { input: '$arr', n: 2 } } } }])).toEqual(
      want([{ _id: 1, x: [Long.fromNumber(3), new Double(1)] }]),
    );
  });
  it('$maxN with n a Double 2.0 from the document', () => {
    expect(
      agg(
        [{ _id: 1, arr: [1, 2, 3], n: new Double(2) }],
        [{ $project: { x: { $maxN: { input: '$arr', n: '$n' } } } }],
      ),
    ).toEqual(want([{ _id: 1, x: [3, 2] }]));
  });

  // docs aggregation/median: numeric input gives a number (a Double), never null.
  it('$median / $percentile over Doubles are numbers', () => {
    const vals = [new Double(9), new Double(10), new Double(2)];
    const [out] = agg(
      [{ _id: 1, vals }],
      [
        {
          $project: {
            m: { $median: { input: '$vals', method: 'approximate' } },
            p: { $percentile: { input: '$vals', p: [0.5], method: 'approximate' } },
          },
        },
      ],
    );
    expect(out).not.toContain('"m":null');
    expect(out).not.toContain('"p":[null]');
  });

  // docs aggregation/dateFromParts: year "can be any expression that evaluates to a number".
  it('$dateFromParts with an Int64 year', () => {
    expect(
      agg(
        [{ _id: 1, y: Long.fromNumber(2020) }],
        [{ $project: { x: { $dateFromParts: { year: '$y', month: 1, day: 1 } } } }],
      ),
    ).toEqual(want([{ _id: 1, x: new Date(Date.UTC(2020, 0, 1)) }]));
  });

  // docs aggregation/convert: an Int64 to string is its digits.
  it('$convert of an Int64', () => {
    expect(
      agg(
        [{ _id: 1, l: Long.fromNumber(9) }],
        [{ $project: { s: { $convert: { input: '$l', to: 'string' } } } }],
      ),
    ).toEqual(want([{ _id: 1, s: '9' }]));
  });

  // docs aggregation/mergeObjects: "$mergeObjects ignores null operands"; non-documents are an error (40400), never merged as {value}.
  it('$group $mergeObjects of a Double does not invent a "value" field', () => {
    const out = (() => {
      try {
        return agg([{ _id: 1, d: new Double(11) }], [{ $group: { _id: null, m: { $mergeObjects: '$d' } } }]);
      } catch {
        return 'refused';
      }
    })();
    expect(out).not.toEqual(want([{ _id: null, m: { value: 11 } }]));
  });
});
