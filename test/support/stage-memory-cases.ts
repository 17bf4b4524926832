/**
 * The pipelines of the stage memory test (shared by the test and its child):
 * each over t.big (BIG_DOCS documents of ~9 KB, ~72 MB: `_id`, `grp` = _id % 400,
 * `v` = a scrambled number, `link` = _id + 1, `pad`) or t.small (SMALL_DOCS),
 * with the documents (or typed error) mongod's rules give.
 */
export const BIG_DOCS = 8000;
export const SMALL_DOCS = 3;
export const GROUPS = 400;
/** The `pad` field of every big document. */
export const PAD = 'x'.repeat(8950);

export interface StageCase {
  name: string;
  coll: 'big' | 'small';
  pipeline: unknown[];
  /** Documents out, or the refusal's reason. */
  expect: { out: number } | { refused: string };
}

export const STAGE_CASES: StageCase[] = [
  {
    name: '$bucket',
    coll: 'big',
    pipeline: [
      { $bucket: { groupBy: '$grp', boundaries: [0, 100, 200, 300, 400], output: { docs: { $sum: 1 } } } },
    ],
    expect: { out: 4 },
  },
  {
    name: '$bucketAuto',
    coll: 'big',
    pipeline: [{ $bucketAuto: { groupBy: '$v', buckets: 7, output: { last: { $last: '$pad' } } } }],
    expect: { out: 7 },
  },
  {
    name: '$group $topN',
    coll: 'big',
    pipeline: [{ $group: { _id: '$grp', best: { $topN: { n: 2, sortBy: { v: -1 }, output: '$_id' } } } }],
    expect: { out: GROUPS },
  },
  {
    name: '$facet',
    coll: 'big',
    pipeline: [
      {
        $facet: {
          n: [{ $count: 'n' }],
          groups: [{ $group: { _id: '$grp' } }, { $count: 'groups' }],
        },
      },
    ],
    expect: { out: 1 },
  },
  {
    name: '$setWindowFields',
    coll: 'big',
    pipeline: [
      {
        $setWindowFields: {
          partitionBy: '$grp',
          sortBy: { v: 1 },
          output: { run: { $sum: '$v', window: { documents: ['unbounded', 'current'] } } },
        },
      },
    ],
    expect: { out: BIG_DOCS },
  },
  {
    name: '$lookup unindexed',
    coll: 'small',
    pipeline: [{ $lookup: { from: 'big', localField: '_id', foreignField: 'link', as: 'prev' } }],
    expect: { out: SMALL_DOCS },
  },
  {
    name: '$lookup pipeline',
    coll: 'small',
    pipeline: [
      { $limit: 2 },
      {
        $lookup: {
          from: 'big',
          let: { id: '$_id' },
          pipeline: [{ $match: { $expr: { $eq: ['$grp', '$$id'] } } }, { $count: 'n' }],
          as: 'n',
        },
      },
    ],
    expect: { out: 2 },
  },
  {
    name: '$unionWith',
    coll: 'small',
    pipeline: [{ $unionWith: 'big' }],
    expect: { out: SMALL_DOCS + BIG_DOCS },
  },
  {
    name: '$graphLookup',
    coll: 'small',
    pipeline: [
      { $limit: 2 },
      {
        $graphLookup: {
          from: 'big',
          startWith: '$_id',
          connectFromField: 'link',
          connectToField: '_id',
          as: 'chain',
          maxDepth: 3,
        },
      },
    ],
    expect: { out: 2 },
  },
  // Past mongod's limits: refused, typed, not run out of memory.
  {
    name: '$setWindowFields one partition',
    coll: 'big',
    pipeline: [{ $setWindowFields: { sortBy: { v: 1 }, output: { r: { $rank: {} } } } }],
    expect: { refused: 'memory-limit' },
  },
  {
    name: '$facet over 16 MB',
    coll: 'big',
    pipeline: [{ $facet: { all: [{ $project: { pad: 1 } }] } }],
    expect: { refused: 'memory-limit' },
  },
  {
    name: '$graphLookup unbounded',
    coll: 'small',
    pipeline: [
      // Every big document is reached in the first round: far past the 2 MiB budget.
      { $limit: 1 },
      {
        $graphLookup: {
          from: 'big',
          startWith: PAD,
          connectFromField: 'pad',
          connectToField: 'pad',
          as: 'pads',
        },
      },
    ],
    expect: { refused: 'memory-limit' },
  },
];
