/**
 * Aggregation expressions and stages that compare values, under a collation,
 * as mongod answers them; each block cites its source (mongod's jstests or
 * source). Strings compare by the pipeline's collation there, as in filters
 * and sorts (view-collation.test.ts).
 */
import { EJSON, type Document } from 'bson';
import { describe, expect, it } from 'vitest';
import { aggregate, find } from '../../engine/views/query.js';
import { parseCollation } from '../../engine/views/query-input.js';
import { useViewFile } from '../support/view-file.js';

// jstests/aggregation/expressions/collation_expressions.js (testExpressionWithCollation with
// {locale: "en_US", strength: 2}); for $sortArray, jstests/core/query/project/project_with_collation.js.
describe('engine/views/set-expressions.ts: $in, $indexOfArray, the set expressions and $sortArray', () => {
  const file = useViewFile('mbm-coll-expr-1-');
  const CI = parseCollation('{"locale": "en_US", "strength": 2}');

  function expr(e: unknown): unknown {
    const db = file.build({ 't.c': { docs: [{ _id: 1 }] } });
    const out = aggregate(db, 't.c', [{ $project: { _id: 0, out: e } }], 10, false, CI).documents;
    return (EJSON.parse(out[0]!) as Document).out;
  }

  it('$in respects the collation', () => {
    expect(expr({ $in: ['A', [1, 2, 'a', 3, 4]] })).toBe(true);
  });

  it('$indexOfArray respects the collation', () => {
    expect(expr({ $indexOfArray: [[1, 2, 'a', 'b', 'c', 'B'], 'B'] })).toBe(3);
  });

  it('$setEquals / $setIsSubset / $setDifference respect the collation', () => {
    expect(
      expr({
        $setEquals: [
          ['a', 'B'],
          ['b', 'A'],
        ],
      }),
    ).toBe(true);
    expect(
      expr({
        $setIsSubset: [
          ['a', 'B'],
          ['b', 'A', 'c'],
        ],
      }),
    ).toBe(true);
    expect(
      expr({
        $setDifference: [
          ['a', 'B'],
          ['b', 'A'],
        ],
      }),
    ).toEqual([]);
  });

  it('$setIntersection / $setUnion respect the collation', () => {
    expect(
      (
        expr({
          $setIntersection: [
            ['a', 'B', 'c'],
            ['d', 'b', 'A'],
          ],
        }) as unknown[]
      ).length,
    ).toBe(2);
    expect(
      (
        expr({
          $setUnion: [
            ['a', 'B', 'c'],
            ['d', 'b', 'A'],
          ],
        }) as unknown[]
      ).length,
    ).toBe(4);
  });

  it('$sortArray respects the collation', () => {
    const input = [{ str: 'b' }, { str: 'A' }, { str: 'B' }, { str: 'a' }];
    // project_with_collation.js: [{str: "A"}, {str: "a"}, {str: "b"}, {str: "B"}]
    expect(expr({ $sortArray: { input: { $literal: input }, sortBy: { str: 1 } } })).toEqual([
      { str: 'A' },
      { str: 'a' },
      { str: 'b' },
      { str: 'B' },
    ]);
  });
});

// A find's computed projection compares by the query's collation (the request's, else the
// collection's default): jstests/core/query/project/project_with_collation.js.
describe("a find's computed projection (query.ts computedProjection)", () => {
  const file = useViewFile('mbm-coll-expr-2-');
  const CI = parseCollation('{"locale": "en_US", "strength": 2}');

  it('a computed projection compares by the request collation', () => {
    const db = file.build({ 't.c': { docs: [{ _id: 1, s: 'foo' }] } });
    const r = find(db, 't.c', {
      filter: {},
      projection: { e: { $eq: ['$s', 'FOO'] } },
      skip: 0,
      limit: 10,
      canonical: false,
      collation: CI,
    });
    expect(EJSON.parse(r.documents[0]!)).toEqual({ _id: 1, e: true });
  });

  it("a computed projection compares by the collection's default collation", () => {
    const db = file.build({
      't.c': { docs: [{ _id: 1, s: 'foo' }], options: { collation: { locale: 'en_US', strength: 2 } } },
    });
    const r = find(db, 't.c', {
      filter: {},
      projection: { e: { $eq: ['$s', 'FOO'] } },
      skip: 0,
      limit: 10,
      canonical: false,
    });
    expect((EJSON.parse(r.documents[0]!) as Document).e).toBe(true);
  });
});

// jstests/aggregation/sources/setWindowFields/collation.js runs these pipelines with
// {locale: "en_US", numericOrdering: true} (mongod's stored form of the locale, "en_US").
describe('$setWindowFields (facet-window-stages.ts)', () => {
  const file = useViewFile('mbm-coll-expr-3-');
  const NUM_US = parseCollation('{"locale": "en_US", "numericOrdering": true}');
  const NUM_EN = parseCollation('{"locale": "en", "numericOrdering": true}');
  const docs = [
    { _id: 1, key: '02', valStr: '2', valInt: 20 },
    { _id: 2, key: '2', valStr: '10', valInt: 5 },
    { _id: 3, key: '3', valStr: '3', valInt: 12 },
  ];
  const run = (p: Document[], c: typeof NUM_US, d: Document[] = docs) => {
    const db = file.build({ 't.c': { docs: d } });
    return aggregate(db, 't.c', p, 100, false, c).documents.map((x) => EJSON.parse(x) as Document);
  };

  it('sortBy under an en_US collation runs (mongod: arr is ["10", "3", "2"])', () => {
    const p = [
      {
        $setWindowFields: {
          sortBy: { valStr: -1 },
          output: { arr: { $push: '$valStr', window: { documents: ['unbounded', 'unbounded'] } } },
        },
      },
    ];

    expect(run(p, NUM_US)[0]!.arr).toEqual(['10', '3', '2']);
  });

  it('$rank ties values equal by the collation ("02" and "2" both rank 1)', () => {
    const p = [
      { $setWindowFields: { sortBy: { key: 1 }, output: { r: { $rank: {} } } } },
      { $project: { _id: 0, key: 1, r: 1 } },
    ];
    expect(run(p, NUM_US)).toEqual(
      expect.arrayContaining([
        { key: '02', r: 1 },
        { key: '2', r: 1 },
        { key: '3', r: 3 },
      ]),
    );
  });

  it('window $min / $max compare strings by the collation', () => {
    const d = [
      { _id: 1, key: '2', valStr: '2' },
      { _id: 2, key: '2', valStr: '10' },
      { _id: 3, key: '10', valStr: '3' },
    ];
    const w = { documents: ['unbounded', 'unbounded'] };
    const p = [
      {
        $setWindowFields: {
          partitionBy: '$key',
          output: { minVal: { $min: '$valStr', window: w }, maxVal: { $max: '$valStr', window: w } },
        },
      },
      { $project: { _id: 0, key: 1, minVal: 1, maxVal: 1 } },
    ];

    const out = run(p, NUM_EN, d).find((x) => x.key === '2')!;
    expect({ minVal: out.minVal, maxVal: out.maxVal }).toEqual({ minVal: '2', maxVal: '10' });
  });
});

// $bucket checks its boundaries (ascending, no duplicates: 40194) and its default (40199) with the
// pipeline's collation: src/mongo/db/pipeline/document_source_bucket.cpp (the value comparator).
describe("$bucket's boundaries and default (blocking-stages.ts bucketAsGroup)", () => {
  const file = useViewFile('mbm-coll-expr-6-');
  const CI = parseCollation('{"locale": "en_US", "strength": 2}');
  const docs = [
    { _id: 1, s: 'apple' },
    { _id: 2, s: 'Banana' },
    { _id: 3, s: 'cherry' },
  ];

  it('boundaries ascending by the collation are taken', () => {
    const db = file.build({ 't.c': { docs } });
    const p = [{ $bucket: { groupBy: '$s', boundaries: ['a', 'B', 'z'] } }];

    const out = aggregate(db, 't.c', p, 10, false, CI).documents.map((d) => EJSON.parse(d) as Document);
    expect(out).toEqual([
      { _id: 'a', count: 1 },
      { _id: 'B', count: 2 },
    ]);
  });

  it('boundaries equal by the collation are refused (40194)', () => {
    const db = file.build({ 't.c': { docs } });
    const p = [{ $bucket: { groupBy: '$s', boundaries: ['A', 'a', 'z'] } }];
    expect(() => aggregate(db, 't.c', p, 10, false, CI)).toThrow(/sorted/);
  });
});

// A $lookup / $graphLookup into a MongoDB view whose collation is not the pipeline's is refused
// (OptionNotSupportedOnView): jstests/core/views/views_collation.js.
describe('$lookup and $graphLookup into a MongoDB view of another collation (query.ts checkJoined)', () => {
  const file = useViewFile('mbm-coll-expr-4-');
  const CI = parseCollation('{"locale": "en_US", "strength": 2}');

  function build() {
    return file.build({
      't.c': {
        docs: [
          { _id: 1, x: 'a' },
          { _id: 2, x: 'A' },
        ],
      },
      't.simpleView': { view: { viewOn: 'c', pipeline: [] } },
      't.ciView': { view: { viewOn: 'c', pipeline: [], collation: { locale: 'en_US', strength: 2 } } },
    });
  }
  const refused = expect.objectContaining({
    code: 'INVALID_INPUT',
    message: expect.stringMatching(/collation/),
  });

  it('a $lookup into a simple-collation view under a case-insensitive request', () => {
    const db = build();
    const p = [{ $lookup: { from: 'simpleView', localField: 'x', foreignField: 'x', as: 'r' } }];
    expect(() => aggregate(db, 't.c', p, 10, false, CI)).toThrow(refused);
  });

  it('a $lookup into a case-insensitive view from a collection with the simple default', () => {
    const db = build();
    const p = [{ $lookup: { from: 'ciView', localField: 'x', foreignField: 'x', as: 'r' } }];
    expect(() => aggregate(db, 't.c', p, 10, false)).toThrow(refused);
  });

  it('a $graphLookup into a case-insensitive view from a collection with the simple default', () => {
    const db = build();
    const p = [
      {
        $graphLookup: {
          from: 'ciView',
          startWith: '$x',
          connectFromField: 'x',
          connectToField: 'x',
          as: 'r',
        },
      },
    ];
    expect(() => aggregate(db, 't.c', p, 10, false)).toThrow(refused);
  });
});

// $graphLookup keeps the documents it visited by _id compared with the pipeline's collation:
// src/mongo/db/pipeline/document_source_graph_lookup.cpp (_visited from the value comparator).
describe("$graphLookup's visited documents (join-stages.ts)", () => {
  const file = useViewFile('mbm-coll-expr-5-');
  const CI = parseCollation('{"locale": "en_US", "strength": 2}');

  it('documents whose _ids are equal by the collation are visited once', () => {
    const db = file.build({
      't.c': { docs: [{ _id: 1 }] },
      't.g': {
        docs: [
          { _id: 'a', to: 'k' },
          { _id: 'A', to: 'k' },
        ],
      },
    });
    const p = [
      { $graphLookup: { from: 'g', startWith: 'k', connectFromField: 'to', connectToField: 'to', as: 'r' } },
    ];
    const out = EJSON.parse(aggregate(db, 't.c', p, 10, false, CI).documents[0]!) as { r: Document[] };
    expect(out.r).toHaveLength(1);
  });
});
