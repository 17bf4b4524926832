/**
 * Sorts on dotted paths and arrays, with the orders mongod's own test asserts
 * (jstests/core/sort_dotted_paths.js): an empty array at the end of a path
 * sorts as undefined, a path that stops short (a missing field, in one
 * document of an array too, an empty array or a non-document on the way) as
 * null, arrays on the way are entered at every level, and the paths of a
 * compound sort through one array take their values from the same element.
 * Each sort is run with no index and with one on its first field (a multikey
 * field is sorted in memory either way). The same sorts on strings in a
 * collection with a case-insensitive default collation, and the sorts mongod
 * refuses on parallel arrays (jstests/core/sort_dotted_paths_collation.js).
 */
import { EJSON, serialize, type Document } from 'bson';
import { describe, expect, it } from 'vitest';
import { find } from '../../engine/views/query.js';
import { useViewFile } from '../support/view-file.js';

const file = useViewFile('mbm-sort-dotted-');

/** A document whose `a: null` is stored as BSON undefined (type 6), which serialize does not write. */
function withUndefinedA(d: Document): Uint8Array {
  const b = Buffer.from(serialize(d));
  for (let i = 4; i < b.length - 2; i++)
    if (b[i] === 0x0a && b[i + 1] === 0x61 && b[i + 2] === 0) b[i] = 0x06;
  return b;
}

/** Each block: the documents inserted, then sorts and the `_id`s in the order mongod returns them. */
const cases: { docs: (Document | Uint8Array)[]; sorts: [Document, number[]][] }[] = [
  {
    docs: [
      { _id: 1, a: 1 },
      withUndefinedA({ _id: 2, a: null }),
      { _id: 3, a: null },
      { _id: 4, a: {} },
      { _id: 5, a: [] },
      { _id: 6, a: [1] },
      { _id: 7, a: [[1]] },
      { _id: 8 },
    ],
    sorts: [
      [{ a: 1, _id: 1 }, [2, 5, 3, 8, 1, 6, 4, 7]],
      [{ a: -1, _id: 1 }, [7, 4, 1, 6, 3, 8, 2, 5]],
    ],
  },
  {
    docs: [
      { _id: 1, a: { b: 2 } },
      { _id: 2, a: { b: [] } },
      { _id: 3, a: { b: [2, 3] } },
      { _id: 4, a: { c: 1 } },
      { _id: 5, a: [] },
      { _id: 6, a: [{ b: [5] }] },
      { _id: 7, a: [{ b: [4, 5] }, { b: 7 }] },
      { _id: 8, a: [{ b: [1, 3] }, { b: [2, 5] }] },
      { _id: 9, a: [{ b: [] }, { b: [1, 3] }] },
    ],
    sorts: [
      [{ 'a.b': 1, _id: 1 }, [2, 9, 4, 5, 8, 1, 3, 7, 6]],
      [{ 'a.b': 1, _id: -1 }, [9, 2, 5, 4, 8, 3, 1, 7, 6]],
      [{ 'a.b': -1, _id: 1 }, [7, 6, 8, 3, 9, 1, 4, 5, 2]],
      [{ 'a.b': -1, _id: -1 }, [7, 8, 6, 9, 3, 1, 5, 4, 2]],
    ],
  },
  {
    docs: [
      { _id: 1, a: { b: { c: 2 } } },
      { _id: 2, a: { b: { c: [] } } },
      { _id: 3, a: [{ b: [] }, { b: { c: [] } }] },
      { _id: 4, a: [{ b: { c: 1 } }] },
      { _id: 5, a: { b: [{ c: 3 }, { d: 1 }] } },
      { _id: 6, a: { b: [{ c: [5] }] } },
      { _id: 7, a: [] },
      { _id: 8, a: { b: [{ c: [1, 3] }, { c: [2, 5] }] } },
      { _id: 9, a: [{ b: [{ c: [] }, { c: [1, 3] }] }] },
    ],
    sorts: [
      [{ 'a.b.c': 1, _id: 1 }, [2, 3, 9, 5, 7, 4, 8, 1, 6]],
      [{ 'a.b.c': 1, _id: -1 }, [9, 3, 2, 7, 5, 8, 4, 1, 6]],
      [{ 'a.b.c': -1, _id: 1 }, [6, 8, 5, 9, 1, 4, 3, 7, 2]],
      [{ 'a.b.c': -1, _id: -1 }, [8, 6, 9, 5, 1, 4, 7, 3, 2]],
    ],
  },
  {
    docs: [
      { _id: 1, a: 1, b: [2] },
      { _id: 2, a: 2, b: [] },
      { _id: 3, a: [], b: 4 },
      { _id: 4, a: [1], b: 4 },
      { _id: 5, a: [2, 3], b: 2 },
      { _id: 6, a: 2, b: [3, 5] },
      { _id: 7, a: 1, b: [1, 3] },
      { _id: 8, a: [1, 2], b: 3 },
      { _id: 9, a: 2, b: 3 },
    ],
    sorts: [
      [{ a: 1, b: 1, _id: 1 }, [3, 7, 1, 8, 4, 2, 5, 6, 9]],
      [{ a: 1, b: -1, _id: 1 }, [3, 4, 7, 8, 1, 6, 9, 5, 2]],
      [{ a: -1, b: 1, _id: 1 }, [5, 2, 6, 8, 9, 7, 1, 4, 3]],
      [{ a: -1, b: -1, _id: 1 }, [5, 6, 8, 9, 2, 4, 7, 1, 3]],
    ],
  },
  {
    docs: [
      {
        _id: 1,
        a: [
          { b: 4, c: 1 },
          { b: 1, c: 2 },
        ],
      },
      {
        _id: 2,
        a: [
          { b: 2, c: 1 },
          { b: 4, c: 2 },
        ],
      },
      {
        _id: 3,
        a: [
          { b: 6, c: 1 },
          { b: 9, c: 2 },
        ],
      },
      {
        _id: 4,
        a: [
          { b: 4, c: 1 },
          { b: 5, c: 3 },
        ],
      },
      {
        _id: 5,
        a: [
          { b: 2, c: 1 },
          { b: 7, c: 3 },
        ],
      },
      {
        _id: 6,
        a: [
          { b: 5, c: 1 },
          { b: 3, c: 3 },
        ],
      },
      {
        _id: 7,
        a: [
          { b: 7, c: 2 },
          { b: 2, c: 3 },
        ],
      },
      {
        _id: 8,
        a: [
          { b: 3, c: 2 },
          { b: 8, c: 3 },
        ],
      },
      {
        _id: 9,
        a: [
          { b: 8, c: 2 },
          { b: 6, c: 3 },
        ],
      },
    ],
    sorts: [
      [{ 'a.c': 1, 'a.b': 1, _id: 1 }, [2, 5, 1, 4, 6, 3, 8, 7, 9]],
      [{ 'a.c': 1, 'a.b': -1, _id: 1 }, [3, 6, 1, 4, 2, 5, 9, 7, 8]],
      [{ 'a.c': -1, 'a.b': 1, _id: 1 }, [7, 6, 4, 9, 5, 8, 1, 2, 3]],
      [{ 'a.c': -1, 'a.b': -1, _id: 1 }, [8, 5, 9, 4, 6, 7, 3, 2, 1]],
      [{ 'a.c': 1, a: 1, _id: 1 }, [2, 5, 1, 4, 6, 3, 8, 7, 9]],
      [{ 'a.c': 1, a: -1, _id: 1 }, [3, 6, 1, 4, 2, 5, 9, 7, 8]],
    ],
  },
  {
    docs: [
      { _id: 1, a: { b: 1 }, c: [{ d: [4, 1] }, { d: [1, 5] }] },
      { _id: 2, a: [{ b: [1, 3] }, { b: [2, 4] }], c: { d: 2 } },
      { _id: 3, a: { b: 1 }, c: [{ d: [6, 4] }, { d: [9, 7] }] },
      { _id: 4, a: [{ b: [2] }, { b: [3, 2] }], c: { d: 4 } },
      { _id: 5, a: { b: 1 }, c: [{ d: [2, 3] }, { d: [7, 6] }] },
      { _id: 6, a: [{ b: [] }, { b: 3 }], c: { d: 4 } },
      { _id: 7, a: { b: 2 }, c: [{ d: [] }, { d: 2 }] },
      { _id: 8, a: [{ b: [2] }, { b: [3] }], c: { d: 3 } },
      { _id: 9, a: { b: 3 }, c: [{ d: [8] }, { d: [6] }] },
    ],
    sorts: [
      [{ 'a.b': 1, 'c.d': 1, _id: 1 }, [6, 1, 2, 5, 3, 7, 8, 4, 9]],
      [{ 'a.b': 1, 'c.d': -1, _id: 1 }, [6, 3, 5, 1, 2, 4, 8, 7, 9]],
      [{ 'a.b': -1, 'c.d': 1, _id: 1 }, [2, 8, 4, 6, 9, 7, 1, 5, 3]],
      [{ 'a.b': -1, 'c.d': -1, _id: 1 }, [2, 9, 4, 6, 8, 7, 3, 5, 1]],
    ],
  },
  {
    docs: [
      {
        _id: 1,
        a: [
          { b: [4, 1], c: 1 },
          { b: [1, 5], c: 2 },
        ],
      },
      {
        _id: 2,
        a: [
          { b: 2, c: [1, 3] },
          { b: 4, c: [2, 4] },
        ],
      },
      {
        _id: 3,
        a: [
          { b: [6, 4], c: 1 },
          { b: [9, 7], c: 2 },
        ],
      },
      {
        _id: 4,
        a: [
          { b: 4, c: [1, 2] },
          { b: 5, c: [3, 2] },
        ],
      },
      {
        _id: 5,
        a: [
          { b: [2, 3], c: 1 },
          { b: [7, 6], c: 3 },
        ],
      },
      {
        _id: 6,
        a: [
          { b: 5, c: [] },
          { b: 3, c: 3 },
        ],
      },
      {
        _id: 7,
        a: [
          { b: [], c: 2 },
          { b: 2, c: 3 },
        ],
      },
      {
        _id: 8,
        a: [
          { b: 3, c: [2] },
          { b: 8, c: [3] },
        ],
      },
      {
        _id: 9,
        a: [
          { b: [8], c: 2 },
          { b: [6], c: 3 },
        ],
      },
    ],
    sorts: [
      [{ 'a.c': 1, 'a.b': 1, _id: 1 }, [6, 1, 2, 5, 3, 4, 7, 8, 9]],
      [{ 'a.c': 1, 'a.b': -1, _id: 1 }, [6, 3, 1, 4, 5, 2, 9, 8, 7]],
      [{ 'a.c': -1, 'a.b': 1, _id: 1 }, [2, 7, 6, 4, 5, 9, 8, 1, 3]],
      [{ 'a.c': -1, 'a.b': -1, _id: 1 }, [2, 8, 5, 9, 4, 6, 7, 3, 1]],
      [{ 'a.b': 1, a: 1, _id: 1 }, [7, 1, 2, 5, 6, 8, 4, 3, 9]],
      [{ 'a.b': 1, a: -1, _id: 1 }, [7, 1, 5, 2, 8, 6, 3, 4, 9]],
      [{ 'a.b': -1, a: 1, _id: 1 }, [3, 8, 9, 5, 6, 4, 1, 2, 7]],
      [{ 'a.b': -1, a: -1, _id: 1 }, [3, 9, 8, 5, 1, 4, 6, 2, 7]],
    ],
  },
];
describe('sorts on dotted paths, as mongod orders them', () => {
  for (const [k, c] of cases.entries())
    for (const [sort, want] of c.sorts)
      for (const indexed of [false, true])
        it(`block ${k + 1}: ${JSON.stringify(sort)}${indexed ? ', first field indexed' : ''}`, () => {
          const first = Object.keys(sort)[0]!;
          const db = file.build({ 't.c': { docs: c.docs, indexed: indexed ? [first] : [] } });
          const r = find(db, 't.c', {
            filter: {},
            sort,
            projection: { _id: 1 },
            skip: 0,
            limit: 100,
            canonical: false,
          });
          expect(r.documents.map((d) => (EJSON.parse(d) as { _id: number })._id)).toEqual(want);
        });
});

const CI = { collation: { locale: 'en_US', strength: 2 } };

/** sort_dotted_paths_collation.js: its blocks of strings, sorted under the collection's collation. */
const collated: { docs: Document[]; sorts: [Document, number[]][] }[] = [
  {
    docs: [
      { _id: 1, a: 'a', b: ['b'] },
      { _id: 2, a: 'b', b: [] },
      { _id: 3, a: [], b: 'd' },
      { _id: 4, a: ['a'], b: 'd' },
      { _id: 5, a: ['b', 'C'], b: 'b' },
      { _id: 6, a: 'b', b: ['C', 'e'] },
      { _id: 7, a: 'a', b: ['a', 'C'] },
      { _id: 8, a: ['a', 'b'], b: 'C' },
      { _id: 9, a: 'b', b: 'C' },
    ],
    sorts: [
      [{ a: 1, b: 1, _id: 1 }, [3, 7, 1, 8, 4, 2, 5, 6, 9]],
      [{ a: 1, b: -1, _id: 1 }, [3, 4, 7, 8, 1, 6, 9, 5, 2]],
      [{ a: -1, b: 1, _id: 1 }, [5, 2, 6, 8, 9, 7, 1, 4, 3]],
      [{ a: -1, b: -1, _id: 1 }, [5, 6, 8, 9, 2, 4, 7, 1, 3]],
    ],
  },
  {
    docs: [
      { _id: 1, a: { b: 'b' } },
      { _id: 2, a: { b: [] } },
      { _id: 3, a: { b: ['b', 'C'] } },
      { _id: 4, a: { c: 'a' } },
      { _id: 5, a: [] },
      { _id: 6, a: [{ b: ['e'] }] },
      { _id: 7, a: [{ b: ['d', 'e'] }, { b: 'G' }] },
      { _id: 8, a: [{ b: ['a', 'C'] }, { b: ['b', 'e'] }] },
      { _id: 9, a: [{ b: [] }, { b: ['a', 'C'] }] },
    ],
    sorts: [
      [{ 'a.b': 1, _id: 1 }, [2, 9, 4, 5, 8, 1, 3, 7, 6]],
      [{ 'a.b': 1, _id: -1 }, [9, 2, 5, 4, 8, 3, 1, 7, 6]],
      [{ 'a.b': -1, _id: 1 }, [7, 6, 8, 3, 9, 1, 4, 5, 2]],
      [{ 'a.b': -1, _id: -1 }, [7, 8, 6, 9, 3, 1, 5, 4, 2]],
    ],
  },
  {
    docs: [
      {
        _id: 1,
        a: [
          { b: 'd', c: 'a' },
          { b: 'a', c: 'b' },
        ],
      },
      {
        _id: 2,
        a: [
          { b: 'b', c: 'a' },
          { b: 'd', c: 'b' },
        ],
      },
      {
        _id: 3,
        a: [
          { b: 'F', c: 'a' },
          { b: 'I', c: 'b' },
        ],
      },
      {
        _id: 4,
        a: [
          { b: 'd', c: 'a' },
          { b: 'e', c: 'C' },
        ],
      },
      {
        _id: 5,
        a: [
          { b: 'b', c: 'a' },
          { b: 'G', c: 'C' },
        ],
      },
      {
        _id: 6,
        a: [
          { b: 'e', c: 'a' },
          { b: 'C', c: 'C' },
        ],
      },
      {
        _id: 7,
        a: [
          { b: 'G', c: 'b' },
          { b: 'b', c: 'C' },
        ],
      },
      {
        _id: 8,
        a: [
          { b: 'C', c: 'b' },
          { b: 'h', c: 'C' },
        ],
      },
      {
        _id: 9,
        a: [
          { b: 'h', c: 'b' },
          { b: 'F', c: 'C' },
        ],
      },
    ],
    sorts: [
      [{ 'a.c': 1, 'a.b': 1, _id: 1 }, [2, 5, 1, 4, 6, 3, 8, 7, 9]],
      [{ 'a.c': 1, 'a.b': -1, _id: 1 }, [3, 6, 1, 4, 2, 5, 9, 7, 8]],
      [{ 'a.c': -1, 'a.b': 1, _id: 1 }, [7, 6, 4, 9, 5, 8, 1, 2, 3]],
      [{ 'a.c': -1, 'a.b': -1, _id: 1 }, [8, 5, 9, 4, 6, 7, 3, 2, 1]],
      [{ 'a.c': 1, a: 1, _id: 1 }, [2, 5, 1, 4, 6, 3, 8, 7, 9]],
      [{ 'a.c': -1, a: -1, _id: 1 }, [8, 5, 9, 4, 6, 7, 3, 2, 1]],
    ],
  },
  {
    docs: [
      { _id: 1, a: { b: { c: 'b' } } },
      { _id: 2, a: { b: { c: [] } } },
      { _id: 3, a: [{ b: [] }, { b: { c: [] } }] },
      { _id: 4, a: [{ b: { c: 'a' } }] },
      { _id: 5, a: { b: [{ c: 'C' }, { d: 'a' }] } },
      { _id: 6, a: { b: [{ c: ['e'] }] } },
      { _id: 7, a: [] },
      { _id: 8, a: { b: [{ c: ['a', 'C'] }, { c: ['b', 'e'] }] } },
      { _id: 9, a: [{ b: [{ c: [] }, { c: ['a', 'C'] }] }] },
    ],
    sorts: [
      [{ 'a.b.c': 1, _id: 1 }, [2, 3, 9, 5, 7, 4, 8, 1, 6]],
      [{ 'a.b.c': -1, _id: 1 }, [6, 8, 5, 9, 1, 4, 3, 7, 2]],
    ],
  },
  {
    docs: [
      { _id: 1, a: 'a', b: 'X' },
      { _id: 2, a: 'a', b: 'y' },
      { _id: 3, a: 'a', b: 'Z' },
      { _id: 4, a: 'b', b: 'x' },
      { _id: 5, a: 'B', b: 'Y' },
      { _id: 6, a: 'B', b: 'Z' },
    ],
    sorts: [
      [{ a: 1, b: 1 }, [1, 2, 3, 4, 5, 6]],
      [{ a: 1, b: -1 }, [3, 2, 1, 6, 5, 4]],
      [{ a: -1, b: 1 }, [4, 5, 6, 1, 2, 3]],
      [{ a: -1, b: -1 }, [6, 5, 4, 3, 2, 1]],
    ],
  },
];

describe("sorts on dotted paths under a collection's case-insensitive collation", () => {
  for (const [k, c] of collated.entries())
    for (const [sort, want] of c.sorts)
      it(`block ${k + 1}: ${JSON.stringify(sort)}`, () => {
        const db = file.build({ 't.c': { docs: c.docs, options: CI } });
        const r = find(db, 't.c', {
          filter: {},
          sort,
          projection: { _id: 1 },
          skip: 0,
          limit: 100,
          canonical: false,
        });
        expect(r.documents.map((d) => (EJSON.parse(d) as { _id: number })._id)).toEqual(want);
      });

  it('refuses a sort on parallel arrays, unless the documents holding them are filtered out', () => {
    const refused = expect.objectContaining({
      code: 'INVALID_INPUT',
      message: expect.stringMatching(/parallel arrays/),
    });
    const run = (docs: Document[], sort: Document, filter: Document = {}) =>
      find(file.build({ 't.c': { docs, options: CI } }), 't.c', {
        filter,
        sort,
        skip: 0,
        limit: 100,
        canonical: false,
      });
    const three = [
      { _id: 1, a: [], b: 'a' },
      { _id: 2, a: 'a', b: [] },
      { _id: 3, a: [], b: [] },
    ];
    for (const sort of [
      { a: 1, b: 1 },
      { _id: 1, a: 1, b: 1 },
      { a: 1, _id: 1, b: 1 },
      { a: 1, b: 1, _id: 1 },
    ])
      expect(() => run(three, sort)).toThrow(refused);
    const notBoth = { $or: [{ a: { $not: { $type: 'array' } } }, { b: { $not: { $type: 'array' } } }] };
    for (const sort of [
      { a: 1, b: 1 },
      { _id: 1, a: 1, b: 1 },
      { a: 1, _id: 1, b: 1 },
      { a: 1, b: 1, _id: 1 },
    ])
      expect(run(three, sort, notBoth).documents.map((d) => EJSON.parse(d) as Document)).toEqual([
        { _id: 1, a: [], b: 'a' },
        { _id: 2, a: 'a', b: [] },
      ]);
    expect(() => run([{ _id: 1, a: { b: ['a', 'b'], c: ['C', 'd'] } }], { 'a.b': 1, 'a.c': 1 })).toThrow(
      refused,
    );
    expect(() =>
      run([{ _id: 1, a: { b: ['a', 'b'] }, c: { d: ['C', 'd'] } }], { 'a.b': 1, 'c.d': 1 }),
    ).toThrow(refused);
  });
});
