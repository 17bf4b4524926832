/**
 * Query cursors on a view file built directly (no repository): batches read
 * through a cursor add up to the one-shot answer; a sort on an indexed field
 * is walked from the key table (lazily: the first batch reads about one
 * batch of documents, not the collection) and equals a full sort, for
 * compound sorts, mixed types and Int64 beyond 2^53 too; cursors end
 * typed (unknown, expired, closed, view removed) and are bounded per client.
 */
import { Decimal128, EJSON, Long, ObjectId, type Document } from 'bson';
import { Query } from 'mingo';
import { describe, expect, it } from 'vitest';
import type { ViewDb } from '../../engine/catalog/view-store.js';
import { findCursor, find } from '../../engine/views/query.js';
import { QueryCursors } from '../../engine/views/query-cursors.js';
import { useViewFile } from '../support/view-file.js';

const file = useViewFile('mbm-cursor-unit-');
let db: ViewDb | null = null;

function build(docs: object[], extraIndex = 'grp') {
  db = file.build({ 't.c': { docs: docs as Document[], indexed: [extraIndex] } });
}

const numbered = (n: number) =>
  Array.from({ length: n }, (_, k) => ({ _id: k, grp: k % 13, score: (k * 7919) % 1000, name: `n${k}` }));

/** Every document of a cursor, read batch by batch. */
function drain(cursors: QueryCursors, client: string, docs: Iterator<string>, batch: number): string[] {
  let b = cursors.start(client, 1, 't.c', docs, batch);
  const out = [...b.documents];
  while (b.cursorId) {
    expect(b.documents.length).toBe(batch);
    b = cursors.more(client, b.cursorId, batch);
    out.push(...b.documents);
  }
  expect(b.more).toBe(false);
  return out;
}

const mingoSorted = (docs: object[], sort: Record<string, 1 | -1>, filter = {}) =>
  (new Query(filter).find(docs).sort(sort).all() as object[]).map((d) =>
    EJSON.stringify(d, { relaxed: true }),
  );

describe('query cursors', () => {
  it('reads a result batch by batch, the batches adding up to the whole answer', () => {
    build(numbered(2_500));
    const cursors = new QueryCursors();
    const whole = find(db!, 't.c', { filter: { grp: { $lt: 5 } }, skip: 7, limit: 5_000, canonical: false });
    const { documents } = findCursor(db!, 't.c', { filter: { grp: { $lt: 5 } }, skip: 7, canonical: false });
    expect(drain(cursors, 'a', documents, 100)).toEqual(whole.documents);
    expect(cursors.count()).toBe(0); // the last batch closed it
  });

  it('holds one batch: the source is read one document ahead of what was sent', () => {
    let pulled = 0;
    function* counted(): Generator<string> {
      for (let k = 0; k < 100_000; k++) {
        pulled++;
        yield `{"_id":${k}}`;
      }
    }
    const cursors = new QueryCursors();
    let b = cursors.start('a', 1, 't.c', counted(), 500);
    let sent = b.documents.length;
    while (b.cursorId) {
      expect(pulled).toBe(sent + 1);
      b = cursors.more('a', b.cursorId, 500);
      sent += b.documents.length;
    }
    expect(sent).toBe(100_000);
  });

  it('walks a sort on an indexed field from the key table, lazily, equal to a full sort', () => {
    const docs = numbered(20_000);
    build(docs);
    const sorts: Record<string, 1 | -1>[] = [{ _id: -1 }, { grp: 1, _id: -1 }, { grp: -1, score: 1, _id: 1 }];
    for (const sort of sorts) {
      const { documents, plan } = findCursor(db!, 't.c', { filter: {}, sort, skip: 0, canonical: false });
      const cursors = new QueryCursors();
      const first = cursors.start('a', 1, 't.c', documents, 100);
      // Only about one batch was read (one run of equal grp keys at most): the sort did not hold the collection.
      expect(plan.documentsExamined, JSON.stringify(sort)).toBeLessThan(
        'grp' in sort ? 20_000 / 13 + 200 : 200,
      );
      expect(plan.index).toBe(Object.keys(sort)[0] === '_id' ? '_id_' : 'grp_1');
      let all = [...first.documents];
      let b = first;
      while (b.cursorId) {
        b = cursors.more('a', b.cursorId, 1000);
        all = all.concat(b.documents);
      }
      expect(all, JSON.stringify(sort)).toEqual(mingoSorted(docs, sort));
    }
    // A range on the sort field bounds the walk: only the range's documents are read.
    const ranged = findCursor(db!, 't.c', {
      filter: { grp: { $gte: 11 } },
      sort: { grp: -1, _id: 1 },
      skip: 0,
      canonical: false,
    });
    expect([...ranged.documents]).toEqual(mingoSorted(docs, { grp: -1, _id: 1 }, { grp: { $gte: 11 } }));
    expect(ranged.plan).toEqual({
      index: 'grp_1',
      documentsExamined: docs.filter((d) => d.grp >= 11).length,
    });
    // With a filter and skip + limit the walk gives what the in-memory sort gives.
    const filtered = findCursor(db!, 't.c', {
      filter: { score: { $gte: 500 } },
      sort: { grp: -1, _id: 1 },
      skip: 30,
      limit: 250,
      canonical: false,
    });
    expect([...filtered.documents]).toEqual(
      mingoSorted(docs, { grp: -1, _id: 1 }, { score: { $gte: 500 } }).slice(30, 280),
    );
  });

  it('sorts values whose keys do not order them exactly (Int64 beyond 2^53, documents, mixed types)', () => {
    const docs = [
      { _id: 1, v: Long.fromString('9007199254740993') },
      { _id: 2, v: Long.fromString('9007199254740992') },
      { _id: 3, v: 9007199254740992 },
      { _id: 4, v: { b: 1 } },
      { _id: 7, v: 'x' },
      { _id: 8, v: null },
      { _id: 9 },
      { _id: 10, v: new ObjectId('000000000000000000000001') },
      { _id: 11, v: Decimal128.fromString('9007199254740994') },
      { _id: 12, v: true },
      { _id: 13, v: -1 },
    ];
    build(docs, 'v');
    for (const dir of [1, -1] as const) {
      const { documents, plan } = findCursor(db!, 't.c', {
        filter: {},
        sort: { v: dir },
        skip: 0,
        canonical: true,
      });
      expect(plan.index).toBe('v_1');
      const ids = [...documents].map((d) => (EJSON.parse(d) as { _id: number })._id);
      // MongoDB order: missing/null, numbers by value, strings, objects, ObjectId, bool.
      if (dir === 1) {
        expect(ids.slice(0, 2).sort()).toEqual([8, 9]);
        expect(ids[2]).toBe(13);
        expect(ids.slice(3, 5).sort()).toEqual([2, 3]); // equal values, either order
        expect(ids.slice(5)).toEqual([1, 11, 7, 4, 10, 12]);
      } else {
        expect(ids.slice(0, 6)).toEqual([12, 10, 4, 7, 11, 1]);
        expect(ids.slice(6, 8).sort()).toEqual([2, 3]);
        expect(ids[8]).toBe(13);
        expect(ids.slice(9).sort()).toEqual([8, 9]);
      }
    }
  });

  it('serves _id lookups, ranges and sorts from the docs table (no _id key rows), mixed types included', () => {
    const docs = [
      { _id: 3, n: 1 },
      { _id: 2.5, n: 2 },
      { _id: Long.fromString('9007199254740993'), n: 3 },
      { _id: Long.fromString('9007199254740992'), n: 4 },
      { _id: 'b', n: 5 },
      { _id: 'a', n: 6 },
      { _id: new ObjectId('000000000000000000000002'), n: 7 },
      { _id: -7, n: 8 },
      { _id: { x: 1 }, n: 9 },
      ...Array.from({ length: 300 }, (_, k) => ({ _id: 100 + k, n: 10 + k })),
    ];
    build(docs);
    expect(db!.prepare(`SELECT count(*) FROM keys WHERE field = '_id'`).pluck().get()).toBe(0);
    // MongoDB's order (mingo puts Int64 after documents): numbers by value, strings, documents, ObjectId.
    const ascending = [8, 2, 1, ...Array.from({ length: 300 }, (_, k) => 10 + k), 4, 3, 6, 5, 9, 7];
    for (const dir of [1, -1] as const) {
      const { documents, plan } = findCursor(db!, 't.c', {
        filter: {},
        sort: { _id: dir },
        skip: 0,
        canonical: true,
      });
      expect(plan.index).toBe('_id_');
      const ns = [...documents].map((d) => (EJSON.parse(d) as { n: number }).n);
      expect(ns).toEqual(dir === 1 ? ascending : [...ascending].reverse());
    }
    // Equality across numeric types (Int32 3 is Double 3.0), a range bounded to numbers, a string.
    const three = find(db!, 't.c', { filter: { _id: 3.0 }, skip: 0, limit: 10, canonical: false });
    expect(three.documents.map((d) => (JSON.parse(d) as { n: number }).n)).toEqual([1]);
    expect(three.plan).toEqual({ index: '_id_', documentsExamined: 1 });
    const range = find(db!, 't.c', {
      filter: { _id: { $gte: 2.5, $lt: 120 } },
      skip: 0,
      limit: 1000,
      canonical: false,
    });
    expect(range.documents.map((d) => (JSON.parse(d) as { n: number }).n).sort((a, b) => a - b)).toEqual([
      1,
      2,
      ...Array.from({ length: 20 }, (_, k) => 10 + k),
    ]);
    expect(range.plan.index).toBe('_id_');
    expect(range.plan.documentsExamined).toBeLessThan(310); // bounded to numbers >= 2.5, not the strings and others
    const a = find(db!, 't.c', {
      filter: { _id: { $in: ['a', 'zz'] } },
      skip: 0,
      limit: 10,
      canonical: false,
    });
    expect(a.documents.map((d) => (JSON.parse(d) as { n: number }).n)).toEqual([6]);
    expect(a.plan).toEqual({ index: '_id_', documentsExamined: 1 });
  });

  it('falls back to the in-memory sort on a field that holds arrays (multikey)', () => {
    const docs = [
      { _id: 1, grp: [5, 1] },
      { _id: 2, grp: 3 },
      { _id: 3, grp: [2, 9] },
    ];
    build(docs);
    const asc = findCursor(db!, 't.c', { filter: {}, sort: { grp: 1 }, skip: 0, canonical: false });
    expect([...asc.documents].map((d) => (JSON.parse(d) as { _id: number })._id)).toEqual([1, 3, 2]);
    expect(asc.plan.index).toBeNull();
  });

  it('ends typed: unknown, expired, closed, view removed; another client cannot read it; bounded per client', () => {
    let now = 1_000_000;
    const cursors = new QueryCursors({ timeoutMs: 60_000, perClient: 2, batchBytes: 1 << 20 }, () => now);
    const many = function* (): Generator<string> {
      for (let k = 0; k < 1000; k++) yield `{"_id":${k}}`;
    };
    const refusal = (f: () => unknown) => {
      try {
        f();
      } catch (err) {
        return { code: (err as { code: string }).code, details: (err as { details: unknown }).details };
      }
      throw new Error('expected a refusal');
    };
    expect(refusal(() => cursors.more('a', 'abcdef0123456789', 10))).toEqual({
      code: 'NOT_FOUND',
      details: { cursorId: 'abcdef0123456789', reason: 'unknown' },
    });
    const one = cursors.start('a', 1, 't.c', many(), 10).cursorId!;
    const two = cursors.start('a', 2, 't.c', many(), 10).cursorId!;
    expect(refusal(() => cursors.start('a', 1, 't.c', many(), 10))).toMatchObject({
      code: 'CONFLICT',
      details: { reason: 'too-many-cursors', limit: 2 },
    });
    // Another client has its own allowance and does not see these cursors.
    expect(cursors.start('b', 1, 't.c', many(), 10).cursorId).not.toBeNull();
    expect(refusal(() => cursors.more('b', one, 10))).toMatchObject({ code: 'NOT_FOUND' });
    expect(cursors.close('b', one)).toBe(false);

    cursors.closeView(2);
    expect(refusal(() => cursors.more('a', two, 10))).toMatchObject({ details: { reason: 'view removed' } });
    now += 30_000;
    expect(cursors.more('a', one, 10).documents).toHaveLength(10); // used: the timeout starts again
    now += 59_000;
    expect(cursors.more('a', one, 10).cursorId).toBe(one);
    now += 61_000;
    expect(refusal(() => cursors.more('a', one, 10))).toMatchObject({ details: { reason: 'expired' } });
    const three = cursors.start('a', 1, 't.c', many(), 10).cursorId!;
    expect(cursors.close('a', three)).toBe(true);
    expect(refusal(() => cursors.more('a', three, 10))).toMatchObject({ details: { reason: 'closed' } });
    cursors.closeAll();
    expect(cursors.count()).toBe(0);
  });

  it('stops a batch at its byte budget (at least one document)', () => {
    const cursors = new QueryCursors({ timeoutMs: 60_000, perClient: 4, batchBytes: 1000 });
    const big = function* (): Generator<string> {
      for (let k = 0; k < 10; k++) yield `{"s":"${'x'.repeat(600)}"}`;
    };
    const b = cursors.start('a', 1, 't.c', big(), 100);
    expect(b.documents).toHaveLength(2);
    cursors.closeAll();
  });
});
