/**
 * The aggregation stages a view runs itself instead of mingo (which holds
 * their input in memory): `$bucket`, `$bucketAuto`, `$facet`,
 * `$setWindowFields`, `$graphLookup`, `$unionWith`, `$lookup` without an
 * index or with a pipeline, and the `$group` accumulators beyond the basic
 * ones. Each expected answer comes from MongoDB's documentation examples or
 * mongod's source (cited beside it), compared as BSON bytes (types and field
 * order); bad specifications get typed errors.
 */
import { Decimal128, EJSON, Long, serialize, type Document } from 'bson';
import { describe, expect, it } from 'vitest';
import type { ViewDb } from '../../engine/catalog/view-store.js';
import { aggregate } from '../../engine/views/query.js';
import { parsePipeline } from '../../engine/views/query-input.js';
import { useViewFile } from '../support/view-file.js';

const file = useViewFile('mbm-stages-');
let db: ViewDb | null = null;

/** A view file with these collections of database `t` (and indexes on the fields named). */
function build(colls: Record<string, Document[]>, indexed: Record<string, string[]> = {}): void {
  db = file.build(
    Object.fromEntries(
      Object.entries(colls).map(([name, docs]) => [`t.${name}`, { docs, indexed: indexed[name] }]),
    ),
  );
}

const bytes = (d: Document) => Buffer.from(serialize(d));
const text = (b: Buffer[]) =>
  b.map((x) => EJSON.stringify(EJSON.deserialize(x as never), { relaxed: false }));

/** The aggregation's answers as bytes, against the expected documents' bytes. */
function expectAgg(coll: string, pipeline: Document[], want: Document[]): void {
  parsePipeline(EJSON.stringify(pipeline, { relaxed: false })); // the same pipeline is accepted as input
  const got = aggregate(db!, `t.${coll}`, pipeline, 1000, true).documents.map((t) =>
    bytes(EJSON.parse(t, { relaxed: false }) as Document),
  );
  const exp = want.map(bytes);
  expect(text(got)).toEqual(text(exp.map((b) => Buffer.from(b))));
  expect(got).toEqual(exp);
}

function refused(pipeline: Document[]): { code: string; message: string; details?: unknown } {
  try {
    parsePipeline(EJSON.stringify(pipeline, { relaxed: false }));
  } catch (err) {
    return err as { code: string; message: string };
  }
  throw new Error(`accepted ${JSON.stringify(pipeline)}`);
}

// docs: reference/operator/aggregation/bucket, "Bucket by Year and Filter by Bucket Results" (artists).
const ARTISTS = [
  { _id: 1, last_name: 'Bernard', first_name: 'Emil', year_born: 1868, nationality: 'France' },
  { _id: 2, last_name: 'Rippl-Ronai', first_name: 'Joszef', year_born: 1861, nationality: 'Hungary' },
  { _id: 3, last_name: 'Ostroumova', first_name: 'Anna', year_born: 1871, nationality: 'Russia' },
  { _id: 4, last_name: 'Van Gogh', first_name: 'Vincent', year_born: 1853, nationality: 'Holland' },
  { _id: 5, last_name: 'Maurer', first_name: 'Alfred', year_born: 1868, nationality: 'USA' },
  { _id: 6, last_name: 'Munch', first_name: 'Edvard', year_born: 1863, nationality: 'Norway' },
  { _id: 7, last_name: 'Redon', first_name: 'Odilon', year_born: 1840, nationality: 'France' },
  { _id: 8, last_name: 'Diriks', first_name: 'Edvard', year_born: 1855, nationality: 'Norway' },
];

describe('$bucket and $bucketAuto', () => {
  it('$bucket: a $group on a $switch over the boundaries, sorted by bucket', () => {
    build({ artists: [...ARTISTS, { _id: 9, last_name: 'X', first_name: 'Y', year_born: 'unknown' }] });
    const push = {
      $push: { name: { $concat: ['$first_name', ' ', '$last_name'] }, year_born: '$year_born' },
    };
    // Buckets [1840,1850) [1850,1860) [1860,1870) [1870,1880), "Other" for the string (strings sort above
    // numbers: outside every bucket), pushed in input order.
    const name = (a: (typeof ARTISTS)[number]) => ({
      name: `${a.first_name} ${a.last_name}`,
      year_born: a.year_born,
    });
    const by = (...ids: number[]) => ids.map((i) => name(ARTISTS[i - 1]!));
    expectAgg(
      'artists',
      [
        {
          $bucket: {
            groupBy: '$year_born',
            boundaries: [1840, 1850, 1860, 1870, 1880],
            default: 'Other',
            output: { count: { $sum: 1 }, artists: push },
          },
        },
      ],
      [
        { _id: 1840, count: 1, artists: by(7) },
        { _id: 1850, count: 2, artists: by(4, 8) },
        { _id: 1860, count: 4, artists: by(1, 2, 5, 6) },
        { _id: 1870, count: 1, artists: by(3) },
        { _id: 'Other', count: 1, artists: [{ name: 'Y X', year_born: 'unknown' }] },
      ],
    );
    // Without output: {count: {$sum: 1}} (the docs' default).
    expectAgg(
      'artists',
      [
        { $match: { _id: { $lte: 8 } } },
        { $bucket: { groupBy: '$year_born', boundaries: [1800, 1860, 1900] } },
      ],
      [
        { _id: 1800, count: 3 },
        { _id: 1860, count: 5 },
      ],
    );
  });

  it('$bucket refuses malformed boundaries, and a value outside them with no default', () => {
    build({ artists: ARTISTS });
    // document_source_bucket.cpp: 40192 (two boundaries at least), 40193 (one type), 40194 (ascending),
    // 40199 (default outside the range); 40066 at run time.
    for (const [boundaries, why] of [
      [[1840], /at least 2/],
      [[1840, 'x'], /same type/],
      [[1850, 1840], /ascending/],
      [[1840, 1840], /ascending/],
    ] as const)
      expect(refused([{ $bucket: { groupBy: '$year_born', boundaries } }]).message).toMatch(why);
    expect(refused([{ $bucket: { groupBy: '$year_born', boundaries: [1, 5], default: 3 } }]).message).toMatch(
      /default/,
    );
    expect(refused([{ $bucket: { groupBy: 'year_born', boundaries: [1, 5] } }]).message).toMatch(/groupBy/);
    expect(refused([{ $bucket: { groupBy: '$a', boundaries: [1, 5], extra: 1 } }]).message).toMatch(
      /unrecognized/,
    );
    expect(() =>
      aggregate(
        db!,
        't.artists',
        [{ $bucket: { groupBy: '$year_born', boundaries: [1850, 1860] } }],
        10,
        true,
      ),
    ).toThrow(/outside the boundaries/);
  });

  it('$bucketAuto cuts the sorted input into buckets of about count / buckets, never splitting equal values', () => {
    // document_source_bucket_auto.cpp: approxBucketSize = round(n / buckets); a bucket takes that many,
    // then every value equal to its last; its max is the next bucket's min (the last: its own largest);
    // missing groups as null.
    build({
      art: [
        { _id: 1, price: Decimal128.fromString('199.99') },
        { _id: 2, price: Decimal128.fromString('280.00') },
        { _id: 3, price: Decimal128.fromString('76.04') },
        { _id: 4, price: Decimal128.fromString('167.30') },
        { _id: 5, price: Decimal128.fromString('483.00') },
        { _id: 6, price: Decimal128.fromString('385.00') },
        { _id: 7 },
        { _id: 8, price: Decimal128.fromString('118.42') },
      ],
      ties: [1, 1, 1, 1, 2, 3].map((v, k) => ({ _id: k, v })),
    });
    const d = (s: string) => Decimal128.fromString(s);
    expectAgg(
      'art',
      [{ $bucketAuto: { groupBy: '$price', buckets: 4 } }],
      [
        { _id: { min: null, max: d('118.42') }, count: 2 },
        { _id: { min: d('118.42'), max: d('199.99') }, count: 2 },
        { _id: { min: d('199.99'), max: d('385.00') }, count: 2 },
        { _id: { min: d('385.00'), max: d('483.00') }, count: 2 },
      ],
    );
    // n = 6, 2 buckets: size 3, and the fourth 1 joins the first bucket.
    expectAgg(
      'ties',
      [{ $bucketAuto: { groupBy: '$v', buckets: 2, output: { n: { $sum: 1 }, ids: { $push: '$_id' } } } }],
      [
        { _id: { min: 1, max: 2 }, n: 4, ids: [0, 1, 2, 3] },
        { _id: { min: 2, max: 3 }, n: 2, ids: [4, 5] },
      ],
    );
    // More buckets than documents: one document each (approxBucketSize 1), fewer buckets than asked.
    expectAgg(
      'ties',
      [{ $match: { _id: { $gte: 3 } } }, { $bucketAuto: { groupBy: '$v', buckets: 10 } }],
      [
        { _id: { min: 1, max: 2 }, count: 1 },
        { _id: { min: 2, max: 3 }, count: 1 },
        { _id: { min: 3, max: 3 }, count: 1 },
      ],
    );
    // document_source_bucket_auto.cpp: $first, $last, $firstN, $lastN are positional there (each
    // document carries its place in the input): input order, not value order, within a bucket.
    expectAgg(
      'ties',
      [
        { $sort: { _id: -1 } },
        {
          $bucketAuto: {
            groupBy: '$v',
            buckets: 1,
            output: {
              first: { $first: '$_id' },
              last: { $last: '$_id' },
              two: { $firstN: { input: '$_id', n: 2 } },
            },
          },
        },
      ],
      [{ _id: { min: 1, max: 3 }, first: 5, last: 0, two: [5, 4] }],
    );
    expect(refused([{ $bucketAuto: { groupBy: '$v', buckets: 0 } }]).message).toMatch(/positive/);
    expect(refused([{ $bucketAuto: { groupBy: '$v', buckets: 2, granularity: 'R5' } }])).toMatchObject({
      code: 'UNSUPPORTED',
    });
  });
});

// docs: reference/operator/aggregation/topN (and bottomN, firstN, lastN, maxN, minN): the gamescores data.
const GAMES = [
  { _id: 1, playerId: 'PlayerA', gameId: 'G1', score: 31 },
  { _id: 2, playerId: 'PlayerB', gameId: 'G1', score: 33 },
  { _id: 3, playerId: 'PlayerC', gameId: 'G1', score: 99 },
  { _id: 4, playerId: 'PlayerD', gameId: 'G1', score: 1 },
  { _id: 5, playerId: 'PlayerA', gameId: 'G2', score: 10 },
  { _id: 6, playerId: 'PlayerB', gameId: 'G2', score: 14 },
  { _id: 7, playerId: 'PlayerC', gameId: 'G2', score: 66 },
  { _id: 8, playerId: 'PlayerD', gameId: 'G2', score: 80 },
];

describe('$group accumulators', () => {
  it('$top, $bottom, $topN, $bottomN, $firstN, $lastN, $maxN, $minN as mongod documents them', () => {
    build({ games: [...GAMES, { _id: 9, gameId: 'G2' }] });
    const out = ['$playerId', '$score'];
    expectAgg(
      'games',
      [
        {
          $group: {
            _id: '$gameId',
            top: { $top: { output: out, sortBy: { score: -1 } } },
            bottom: { $bottom: { output: out, sortBy: { score: -1 } } },
            top3: { $topN: { output: out, sortBy: { score: -1 }, n: 3 } },
            bottom3: { $bottomN: { output: out, sortBy: { score: -1 }, n: 3 } },
            first2: { $firstN: { input: '$playerId', n: 2 } },
            last2: { $lastN: { input: '$playerId', n: 2 } },
            max3: { $maxN: { input: '$score', n: 3 } },
            min3: { $minN: { input: '$score', n: 3 } },
          },
        },
      ],
      [
        {
          _id: 'G1',
          top: ['PlayerC', 99],
          bottom: ['PlayerD', 1],
          top3: [
            ['PlayerC', 99],
            ['PlayerB', 33],
            ['PlayerA', 31],
          ],
          bottom3: [
            ['PlayerB', 33],
            ['PlayerA', 31],
            ['PlayerD', 1],
          ],
          first2: ['PlayerA', 'PlayerB'],
          last2: ['PlayerC', 'PlayerD'],
          max3: [99, 33, 31],
          min3: [1, 31, 33],
        },
        {
          // _id 9 has no score: sorted below every number (missing as null) by $top/$bottom; not counted by
          // $maxN/$minN; kept as null by $firstN/$lastN ("does not filter out null values").
          _id: 'G2',
          top: ['PlayerD', 80],
          bottom: [null, null],
          top3: [
            ['PlayerD', 80],
            ['PlayerC', 66],
            ['PlayerB', 14],
          ],
          bottom3: [
            ['PlayerB', 14],
            ['PlayerA', 10],
            [null, null],
          ],
          first2: ['PlayerA', 'PlayerB'],
          last2: ['PlayerD', null],
          max3: [80, 66, 14],
          min3: [10, 14, 66],
        },
      ],
    );
  });

  it('refuses unknown accumulators and those not computed here', () => {
    build({ games: GAMES });
    expect(refused([{ $group: { _id: null, x: { $foo: 1 } } }]).message).toMatch(/unknown group operator/);
    expect(refused([{ $group: { x: { $sum: 1 } } }]).message).toMatch(/_id/);
    expect(refused([{ $group: { _id: null, x: { $firstN: { input: '$a', n: 0 } } } }]).message).toMatch(
      /positive/,
    );
    for (const op of ['$median', '$percentile', '$accumulator'])
      expect(refused([{ $group: { _id: null, x: { [op]: {} } } }])).toMatchObject({
        code: 'UNSUPPORTED',
        details: { reason: 'unsupported-operator', operator: op },
      });
    expect(refused([{ $nope: {} }]).code).toBe('INVALID_INPUT');
    // A view is read-only.
    expect(refused([{ $out: 'copy' }])).toMatchObject({ code: 'UNSUPPORTED', details: { operator: '$out' } });
  });
});

// docs: reference/operator/aggregation/lookup, "Perform a Single Equality Join with $lookup".
const ORDERS = [
  { _id: 1, item: 'almonds', price: 12, quantity: 2 },
  { _id: 2, item: 'pecans', price: 20, quantity: 1 },
  { _id: 3 },
];
const INVENTORY = [
  { _id: 1, sku: 'almonds', description: 'product 1', instock: 120 },
  { _id: 2, sku: 'bread', description: 'product 2', instock: 80 },
  { _id: 3, sku: 'cashews', description: 'product 3', instock: 60 },
  { _id: 4, sku: 'pecans', description: 'product 4', instock: 70 },
  { _id: 5, sku: null, description: 'Incomplete' },
  { _id: 6 },
];

describe('stages that read another collection, streamed', () => {
  it('$lookup on a field no index serves, and with a pipeline and let', () => {
    build({ orders: ORDERS, inventory: INVENTORY });
    // The docs' answer: order 3 (no item) joins the inventory documents whose sku is null or missing.
    expectAgg(
      'orders',
      [{ $lookup: { from: 'inventory', localField: 'item', foreignField: 'sku', as: 'inventory_docs' } }],
      [
        { ...ORDERS[0], inventory_docs: [INVENTORY[0]] },
        { ...ORDERS[1], inventory_docs: [INVENTORY[3]] },
        { ...ORDERS[2], inventory_docs: [INVENTORY[4], INVENTORY[5]] },
      ],
    );
    // "Join Conditions and Subqueries": let variables used by $expr in the sub-pipeline.
    expectAgg(
      'orders',
      [
        { $match: { item: { $exists: true } } },
        {
          $lookup: {
            from: 'inventory',
            let: { need: '$quantity', sku: '$item' },
            pipeline: [
              {
                $match: {
                  $expr: {
                    $and: [{ $eq: ['$sku', '$$sku'] }, { $gte: ['$instock', { $multiply: ['$$need', 60] }] }],
                  },
                },
              },
              { $project: { _id: 0, instock: 1 } },
            ],
            as: 'stock',
          },
        },
        { $project: { stock: 1 } },
      ],
      [
        { _id: 1, stock: [{ instock: 120 }] },
        { _id: 2, stock: [{ instock: 70 }] },
      ],
    );
    // `as` a dotted path: set inside an embedded document (created when missing).
    expectAgg(
      'orders',
      [
        { $match: { _id: 2 } },
        { $lookup: { from: 'inventory', localField: 'item', foreignField: 'sku', as: 'join.docs' } },
        { $project: { join: 1 } },
      ],
      [{ _id: 2, join: { docs: [INVENTORY[3]] } }],
    );
    // A missing collection joins nothing (mongod: an empty collection).
    expectAgg(
      'orders',
      [{ $match: { _id: 1 } }, { $lookup: { from: 'nope', localField: 'item', foreignField: 'x', as: 'j' } }],
      [{ ...ORDERS[0], j: [] }],
    );
  });

  it('$unionWith: the input, then the other collection through its pipeline', () => {
    build({ orders: ORDERS, inventory: INVENTORY });
    expectAgg(
      'orders',
      [
        { $project: { _id: 1 } },
        {
          $unionWith: {
            coll: 'inventory',
            pipeline: [{ $match: { instock: { $gt: 65 } } }, { $project: { sku: 1 } }],
          },
        },
      ],
      [
        { _id: 1 },
        { _id: 2 },
        { _id: 3 },
        { _id: 1, sku: 'almonds' },
        { _id: 2, sku: 'bread' },
        { _id: 4, sku: 'pecans' },
      ],
    );
  });

  it('$graphLookup: a breadth-first search, with depthField and maxDepth', () => {
    // docs: reference/operator/aggregation/graphLookup, "Within a Single Collection" (employees).
    const employees = [
      { _id: 1, name: 'Dev' },
      { _id: 2, name: 'Eliot', reportsTo: 'Dev' },
      { _id: 3, name: 'Ron', reportsTo: 'Eliot' },
      { _id: 4, name: 'Andrew', reportsTo: 'Eliot' },
      { _id: 5, name: 'Asya', reportsTo: 'Ron' },
      { _id: 6, name: 'Dan', reportsTo: 'Andrew' },
    ];
    build({ employees });
    const spec = {
      from: 'employees',
      startWith: '$reportsTo',
      connectFromField: 'reportsTo',
      connectToField: 'name',
    };
    expectAgg(
      'employees',
      [
        { $match: { _id: { $in: [1, 5] } } },
        { $graphLookup: { ...spec, as: 'reportingHierarchy', depthField: 'depth' } },
      ],
      [
        { _id: 1, name: 'Dev', reportingHierarchy: [] },
        {
          _id: 5,
          name: 'Asya',
          reportsTo: 'Ron',
          reportingHierarchy: [
            { ...employees[2], depth: Long.fromNumber(0) },
            { ...employees[1], depth: Long.fromNumber(1) },
            { ...employees[0], depth: Long.fromNumber(2) },
          ],
        },
      ],
    );
    expectAgg(
      'employees',
      [{ $match: { _id: 5 } }, { $graphLookup: { ...spec, as: 'up', maxDepth: 0 } }, { $project: { up: 1 } }],
      [{ _id: 5, up: [employees[2]] }],
    );
    expect(refused([{ $graphLookup: { ...spec, as: 'x', maxDepth: -1 } }]).message).toMatch(/nonnegative/);
  });
});

describe('$facet and $setWindowFields', () => {
  it('$facet: each pipeline over the same input, one document out', () => {
    build({ artists: ARTISTS });
    expectAgg(
      'artists',
      [
        {
          $facet: {
            byCountry: [{ $sortByCount: '$nationality' }, { $limit: 2 }],
            early: [{ $match: { year_born: { $lt: 1855 } } }, { $project: { _id: 1 } }],
          },
        },
      ],
      [
        {
          // $sortByCount: count descending; France and Norway (2 each), in key order here.
          byCountry: [
            { _id: 'France', count: 2 },
            { _id: 'Norway', count: 2 },
          ],
          early: [{ _id: 4 }, { _id: 7 }],
        },
      ],
    );
    expect(refused([{ $facet: { a: [{ $facet: { b: [{ $limit: 1 }] } }] } }]).message).toMatch(/40600/);
    expect(refused([{ $facet: { a: [] } }]).message).toMatch(/non-empty/);
  });

  it('$setWindowFields: partitions in order, window functions per partition', () => {
    // docs: reference/operator/aggregation/setWindowFields, "Use Documents Window to Obtain Cumulative
    // Quantity for Each State" (cakeSales, partitionBy state, sortBy orderDate, sum from unbounded to current).
    const cakeSales = [
      {
        _id: 0,
        type: 'chocolate',
        orderDate: new Date('2020-05-18T14:10:30Z'),
        state: 'CA',
        price: 13,
        quantity: 120,
      },
      {
        _id: 1,
        type: 'chocolate',
        orderDate: new Date('2021-03-20T11:30:05Z'),
        state: 'WA',
        price: 14,
        quantity: 140,
      },
      {
        _id: 2,
        type: 'vanilla',
        orderDate: new Date('2021-01-11T06:31:15Z'),
        state: 'CA',
        price: 12,
        quantity: 145,
      },
      {
        _id: 3,
        type: 'vanilla',
        orderDate: new Date('2020-02-08T13:13:23Z'),
        state: 'WA',
        price: 13,
        quantity: 104,
      },
      {
        _id: 4,
        type: 'strawberry',
        orderDate: new Date('2019-05-18T16:09:01Z'),
        state: 'CA',
        price: 41,
        quantity: 162,
      },
      {
        _id: 5,
        type: 'strawberry',
        orderDate: new Date('2019-01-08T06:12:03Z'),
        state: 'WA',
        price: 43,
        quantity: 134,
      },
    ];
    build({ cakeSales });
    const c = (i: number, q: number) => ({ ...cakeSales[i], cumulativeQuantityForState: q });
    expectAgg(
      'cakeSales',
      [
        {
          $setWindowFields: {
            partitionBy: '$state',
            sortBy: { orderDate: 1 },
            output: {
              cumulativeQuantityForState: {
                $sum: '$quantity',
                window: { documents: ['unbounded', 'current'] },
              },
            },
          },
        },
      ],
      // The docs' answer: CA 162, 282, 427; WA 134, 238, 378.
      [c(4, 162), c(0, 282), c(2, 427), c(5, 134), c(3, 238), c(1, 378)],
    );
  });
});
