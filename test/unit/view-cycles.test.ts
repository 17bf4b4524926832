/**
 * A MongoDB view whose pipeline reads itself (a `$lookup`, `$unionWith` or `$graphLookup` of its
 * own name, directly or through another view). mongod refuses such a definition when it is
 * created (GraphContainsCycle), but a crafted dump or a repository written elsewhere can still
 * hold one: querying it must end with a typed error, never recurse until the stack or the memory
 * gives out.
 */
import { type Document } from 'bson';
import { describe, expect, it } from 'vitest';
import type { ViewDb } from '../../engine/catalog/view-store.js';
import { aggregate, find } from '../../engine/views/query.js';
import { useViewFile, type TestCollection } from '../support/view-file.js';

const file = useViewFile('mbm-view-cycles-');
let db: ViewDb | null = null;

/** Database `t`: collection `c` (indexed on `a`), and the views given as name → [viewOn, pipeline]. */
function build(views: Record<string, [string, Document[]]>): void {
  const colls: Record<string, TestCollection> = {
    't.c': { docs: [0, 1, 2].map((k) => ({ _id: k, a: k })), indexed: ['a'] },
  };
  for (const [name, [viewOn, pipeline]] of Object.entries(views))
    colls[`t.${name}`] = { view: { viewOn, pipeline } };
  db = file.build(colls);
}

function refusal(run: () => unknown): { code: string; message: string } {
  try {
    run();
  } catch (err) {
    return err as { code: string; message: string };
  }
  throw new Error('the query was answered');
}

describe('views that read themselves', () => {
  const cases: [string, Record<string, [string, Document[]]>][] = [
    [
      '$lookup on an indexed field',
      { v: ['c', [{ $lookup: { from: 'v', localField: 'a', foreignField: 'a', as: 'x' } }]] },
    ],
    [
      '$lookup on an unindexed field',
      { v: ['c', [{ $lookup: { from: 'v', localField: 'a', foreignField: 'b', as: 'x' } }]] },
    ],
    ['$lookup with a pipeline', { v: ['c', [{ $lookup: { from: 'v', pipeline: [], as: 'x' } }]] }],
    ['$unionWith', { v: ['c', [{ $unionWith: { coll: 'v' } }]] }],
    [
      'a cycle through a second view',
      { v: ['w', []], w: ['c', [{ $lookup: { from: 'v', localField: 'a', foreignField: 'a', as: 'x' } }]] },
    ],
  ];
  for (const [name, views] of cases)
    it(`${name}: find and aggregate refuse with INVALID_INPUT`, () => {
      build(views);
      for (const run of [
        () => find(db!, 't.v', { filter: {}, limit: 10, canonical: false } as never),
        () => aggregate(db!, 't.v', [], 10, false),
      ]) {
        const e = refusal(run);
        expect(e.code, e.message).toBe('INVALID_INPUT');
        expect(e.message).toMatch(/^View cycle detected: t\.v -> .*t\.v\.$/);
      }
    });

  it('a collection joining a view that reads itself refuses too (the cycle is met through the join)', () => {
    build({ v: ['c', [{ $unionWith: { coll: 'v' } }]] });
    const e = refusal(() =>
      aggregate(
        db!,
        't.c',
        [{ $lookup: { from: 'v', localField: 'a', foreignField: 'b', as: 'x' } }],
        10,
        false,
      ),
    );
    expect(e.code, e.message).toBe('INVALID_INPUT');
    expect(e.message).toMatch(/View cycle detected/);
  });

  it('a view joining another view (no cycle) still answers', () => {
    build({
      w: ['c', []],
      v: ['c', [{ $lookup: { from: 'w', localField: 'a', foreignField: 'a', as: 'x' } }]],
    });
    const out = aggregate(db!, 't.v', [], 10, false).documents.map((d) => JSON.parse(d) as Document);
    expect(out.map((d) => [d._id, (d.x as Document[]).map((x) => x._id)])).toEqual([
      [0, [0]],
      [1, [1]],
      [2, [2]],
    ]);
  });
});
