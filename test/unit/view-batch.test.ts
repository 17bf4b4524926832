/**
 * The view sink's batched document writes (views/doc-batch.ts) against the
 * in-memory offline state (restore/offline-state.ts) and against the same
 * sink written after every operation: documents byte for byte and in row
 * order (what a collection scan shows), collections, and key rows, for
 * operations that hit one `_id` several times in one batch and batches that
 * cross namespace operations.
 */
import { Timestamp, serialize, type Document } from 'bson';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createViewFile,
  indexViewFile,
  iterateDocs,
  keyRows,
  listCollectionRows,
  viewWriter,
  type ViewDb,
} from '../../engine/catalog/view-store.js';
import type { EffectiveOp } from '../../engine/restore/effective-op.js';
import { OfflineState } from '../../engine/restore/offline-state.js';
import { ViewSink, docId } from '../../engine/views/view-sink.js';
import { tempDir } from '../support/temp-dir.js';

const dirs: ReturnType<typeof tempDir>[] = [];
const dbs: ViewDb[] = [];
afterEach(() => {
  for (const db of dbs.splice(0)) db.close();
  for (const d of dirs.splice(0)) d.remove();
});

const b = (d: Document) => Buffer.from(serialize(d));
const ts = { t: 1, i: 1 };
const ins = (ns: string, doc: Document): EffectiveOp => ({ op: 'insert', ns, doc: b(doc), ts });
const upd = (ns: string, _id: unknown, update: Document): EffectiveOp => ({
  op: 'update',
  ns,
  o2: b({ _id }),
  update: b(update),
  ts,
});
const del = (ns: string, _id: unknown): EffectiveOp => ({ op: 'delete', ns, o: b({ _id }), ts });
const diff = (d: Document) => ({ $v: 2, diff: d });
const IDX = [b({ v: 2, key: { _id: 1 }, name: '_id_' }), b({ v: 2, key: { grp: 1 }, name: 'grp_1' })];

/**
 * A view file with `t.c` (indexed on grp) holding `seed`, then `ops` applied; flushed after each op
 * when `eager`; the replay's statements timed into `meter` when one is given.
 */
function viewOf(
  seed: Document[],
  ops: EffectiveOp[],
  eager: boolean,
  meter?: Record<string, number>,
): ViewDb {
  const dir = tempDir('mbm-view-batch-');
  dirs.push(dir);
  const db = createViewFile(join(dir.path, 'v.sqlite'));
  dbs.push(db);
  const sink = new ViewSink(viewWriter(db));
  sink.addCollection('t.c', 'collection', b({}), IDX);
  for (const d of seed) sink.loadDocument('t.c', b(d));
  sink.flush();
  indexViewFile(db);
  const replay = new ViewSink(viewWriter(db, meter));
  for (const op of ops) {
    replay.apply(op);
    if (eager) replay.flush();
  }
  replay.flush();
  return db;
}

function truthOf(seed: Document[], ops: EffectiveOp[]): OfflineState {
  const s = new OfflineState();
  s.set('t.c', { docs: new Map(), options: b({}), indexes: IDX });
  for (const d of seed) s.apply(ins('t.c', d));
  for (const op of ops) s.apply(op);
  return s;
}

/** Every collection's documents in row order, as hex. */
function rows(db: ViewDb): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const r of listCollectionRows(db))
    if (r.kind === 'collection') out[r.ns] = [...iterateDocs(db, r.cid)].map((x) => x.doc.toString('hex'));
  return out;
}

function truthRows(s: OfflineState): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [ns, c] of s) out[ns] = [...c.docs.values()].map((d) => Buffer.from(d).toString('hex'));
  return out;
}

const keysText = (db: ViewDb) =>
  keyRows(db).map((k) => `${k.ns} ${k.field} ${k.key.toString('hex')} ${k.id.toString('hex')}`);

/**
 * Batched, eager (or, for long runs, a view loaded from the outcome: keys from scratch) and the
 * offline state agree; returns the batched view's rows and keys.
 */
function check(seed: Document[], ops: EffectiveOp[], eager = true) {
  const batched = viewOf(seed, ops, false);
  const truth = truthOf(seed, ops);
  expect(rows(batched)).toEqual(truthRows(truth));
  if (eager) {
    const one = viewOf(seed, ops, true);
    expect(rows(one)).toEqual(truthRows(truth));
    expect(keysText(batched)).toEqual(keysText(one));
  } else {
    const docs = [...truth.get('t.c')!.docs.values()];
    const loaded = viewOf([], [], false);
    const sink = new ViewSink(viewWriter(loaded));
    sink.addCollection('t.c', 'collection', b({}), truth.get('t.c')!.indexes);
    for (const d of docs) sink.loadDocument('t.c', d);
    sink.flush();
    expect(keysText(batched)).toEqual(keysText(loaded));
  }
  return { rows: rows(batched), keys: keysText(batched) };
}

describe('batched view writes', () => {
  const seed = [
    { _id: 1, grp: 'a', n: 1 },
    { _id: 2, grp: 'b', n: 2 },
    { _id: 3, grp: 'c', n: 3 },
  ];

  it('an insert, updates and a delete of one _id in one batch leave nothing, keys included', () => {
    const r = check(seed, [
      ins('t.c', { _id: 9, grp: 'x', n: 0 }),
      upd('t.c', 9, diff({ u: { grp: 'y' } })),
      upd('t.c', 9, diff({ i: { extra: true } })),
      del('t.c', 9),
    ]);
    expect(r.rows['t.c']).toHaveLength(3);
    expect(r.keys.some((k) => k.includes(Buffer.from('x').toString('hex')))).toBe(false);
  });

  it('an update whose $v:2 diff depends on the previous write of the batch applies to that write', () => {
    const r = check(seed, [
      upd('t.c', 2, diff({ i: { arr: [1, 2] } })),
      // Replaces the array's second element: only right if the first update is seen.
      upd('t.c', 2, diff({ sarr: { a: true, u1: 20 } })),
      upd('t.c', 2, diff({ u: { grp: 'z' } })),
    ]);
    expect(r.rows['t.c']![1]).toBe(b({ _id: 2, grp: 'z', n: 2, arr: [1, 20] }).toString('hex'));
    expect(r.keys.filter((k) => k.startsWith('t.c grp'))).toHaveLength(3);
  });

  it('a document deleted and inserted again in one batch comes after the others, as a collection scan shows', () => {
    const r = check(seed, [
      del('t.c', 1),
      ins('t.c', { _id: 4, grp: 'd' }),
      ins('t.c', { _id: 1, grp: 'a2' }),
      upd('t.c', 3, diff({ u: { n: 30 } })),
      // An insert of an existing _id replaces it in place; an update of a missing one upserts.
      ins('t.c', { _id: 2, grp: 'b2' }),
      upd('t.c', 7, diff({ i: { grp: 'new' } })),
    ]);
    expect(r.rows['t.c']!.map((h) => Buffer.from(h, 'hex').readInt32LE(9))).toEqual([2, 3, 4, 1, 7]);
  });

  it('a batch crossing a rename, a drop and a dropDatabase sees each as the writes before it left the file', () => {
    check(seed, [
      ins('t.c', { _id: 5, grp: 'e' }),
      upd('t.c', 5, diff({ u: { grp: 'f' } })),
      { op: 'renameCollection', from: 't.c', to: 't.d', dropTarget: false, ts },
      upd('t.d', 5, diff({ i: { moved: true } })),
      ins('t.c', { _id: 5, grp: 'again' }),
      del('t.d', 1),
      { op: 'dropCollection', ns: 't.c', ts },
      ins('t.c', { _id: 6, grp: 'g' }),
      ins('u.x', { _id: 1 }),
      upd('u.x', 1, diff({ i: { k: 1 } })),
      { op: 'dropDatabase', db: 'u', ts },
      ins('u.x', { _id: 2 }),
      { op: 'createIndexes', ns: 't.d', indexes: [b({ v: 2, key: { moved: 1 }, name: 'moved_1' })], ts },
      upd('t.d', 5, diff({ u: { moved: false } })),
    ]);
  });

  it('updates that leave an indexed field alone keep its keys; $set, $unset and sub-diffs of it change them', () => {
    const ops: EffectiveOp[] = [
      { op: 'createIndexes', ns: 't.c', indexes: [b({ v: 2, key: { 'o.x': 1 }, name: 'o.x_1' })], ts },
      upd('t.c', 1, { $set: { 'o.x': 5 } }),
      upd('t.c', 2, { $v: 1, $set: { o: { x: 7 } } }),
      upd('t.c', 2, diff({ so: { u: { x: 8 } } })),
      upd('t.c', 2, diff({ u: { n: 20 } })),
      upd('t.c', 3, { $set: { 'o.x': 9 } }),
      upd('t.c', 3, { $unset: { o: '' } }),
      upd('t.c', 1, diff({ i: { other: 1 }, u: { grp: 'a1' } })),
    ];
    // Keys compared with those of a view loaded from the outcome (every key computed afresh).
    const r = check(seed, ops, false);
    expect(check(seed, ops).keys).toEqual(r.keys);
    const ox = r.keys.filter((k) => k.startsWith('t.c o.x'));
    expect(ox).toHaveLength(3);
    expect(
      r.keys
        .filter((k) => k.startsWith('t.c grp'))
        .some((k) => k.includes(Buffer.from('a1').toString('hex'))),
    ).toBe(true);
  });

  it('a batch whose documents hold more index keys than it holds at once writes them all', () => {
    // 40 documents with 3,000-element arrays on grp: 120,000 key rows inserted, then half replaced.
    const arr = (k: number, n: number) => Array.from({ length: 3000 }, (_, j) => `${n}-${k}-${j}`);
    const ops: EffectiveOp[] = [];
    for (let k = 0; k < 40; k++) ops.push(ins('t.c', { _id: 100 + k, grp: arr(k, 0) }));
    for (let k = 0; k < 40; k += 2) ops.push(upd('t.c', 100 + k, diff({ u: { grp: arr(k, 1) } })));
    const r = check(seed, ops, false);
    expect(r.keys.filter((k) => k.startsWith('t.c grp'))).toHaveLength(3 + 40 * 3000);
  });

  it('inserts of new _ids written on arrival: later writes of the batch to them, and their key rows, as one by one', () => {
    const r = check(seed, [
      ins('t.c', { _id: 10, grp: 'k' }),
      ins('t.c', { _id: 11, grp: 'l' }),
      upd('t.c', 10, diff({ u: { grp: 'k2' } })), // the key row written on arrival goes
      del('t.c', 11),
      ins('t.c', { _id: 11, grp: 'l2' }), // deleted in the batch: joins its operations, a new row
      ins('t.c', { _id: 2, grp: 'b2' }), // the file has it: replaced in place
      ins('t.c', { _id: 12, grp: ['m', 'n', 'm'] }),
      upd('t.c', 12, diff({ i: { extra: 1 } })),
    ]);
    expect(r.rows['t.c']!.map((h) => Buffer.from(h, 'hex').readInt32LE(9))).toEqual([1, 2, 3, 10, 11, 12]);
    const grp = r.keys.filter((k) => k.startsWith('t.c grp'));
    const has = (v: string) => grp.some((k) => k.includes(Buffer.from(v).toString('hex')));
    expect(['k2', 'l2', 'b2', 'm', 'n'].every(has)).toBe(true);
    expect(
      ['k', 'l', 'b'].some((v) => grp.some((k) => k.split(' ')[2] === `0f${Buffer.from(v).toString('hex')}`)),
    ).toBe(false);
    expect(grp).toHaveLength(7); // a, b2, c, k2, m, n, l2
  });

  it('updates whose indexed arrays keep some keys and drop others keep exactly the keys of the outcome', () => {
    // Staged key rows are written inserts first, then deletes: a key both dropped and added again
    // between two writes would be lost. Each fold writes only the difference, so none is.
    const r = check(
      [{ _id: 1, grp: ['a', 'b'] }, ...seed.slice(1)],
      [
        upd('t.c', 1, diff({ u: { grp: ['b', 'c'] } })),
        ins('t.c', { _id: 20, grp: ['p', 'q'] }),
        upd('t.c', 20, diff({ u: { grp: ['q', 'r', 'p'] } })),
        upd('t.c', 20, diff({ u: { grp: ['q'] } })),
        ins('t.c', { _id: 21, grp: 's' }),
        upd('t.c', 21, diff({ u: { grp: ['s', 't'] } })),
        del('t.c', 2),
        ins('t.c', { _id: 2, grp: 'b' }),
      ],
    );
    const grp = r.keys.filter((k) => k.startsWith('t.c grp')).map((k) => k.split(' ').slice(2).join(' '));
    const int32 = (n: number) => {
      const x = Buffer.alloc(4);
      x.writeInt32LE(n);
      return x.toString('hex');
    };
    // The key (string class 0f + bytes) and the _id (int32: type 10 + value).
    const key = (v: string, id: number) => `0f${Buffer.from(v).toString('hex')} 10${int32(id)}`;
    expect(grp.sort()).toEqual(
      [key('b', 1), key('c', 1), key('q', 20), key('s', 21), key('t', 21), key('b', 2), key('c', 3)].sort(),
    );
  });

  it('lone deletes (one statement each) remove the row and its key rows; of a missing _id, nothing', () => {
    const r = check(seed, [del('t.c', 2), del('t.c', 42), ins('t.c', { _id: 5, grp: 'e' }), del('t.c', 5)]);
    expect(r.rows['t.c']).toEqual([b(seed[0]!).toString('hex'), b(seed[2]!).toString('hex')]);
    expect(r.keys.filter((k) => k.startsWith('t.c grp'))).toHaveLength(2);
    const db = viewOf(seed, [], false);
    expect(() => new ViewSink(viewWriter(db)).apply({ op: 'delete', ns: 't.c', o: b({ x: 1 }), ts })).toThrow(
      expect.objectContaining({ code: 'INVALID_BSON' }),
    );
  });

  it('an insert without _id, or whose bytes are damaged before it, is refused typed and writes nothing', () => {
    const db = viewOf(seed, [], false);
    const sink = new ViewSink(viewWriter(db));
    expect(() => sink.apply(ins('t.c', { grp: 'x' }))).toThrow(
      expect.objectContaining({ code: 'INVALID_BSON' }),
    );
    // The first element, before _id, made a string whose length runs past the document.
    const bad = b({ n: 1, _id: 99, grp: 'y' });
    bad[4] = 0x02;
    bad.writeInt32LE(1000, 7);
    expect(() => sink.apply({ op: 'insert', ns: 't.c', doc: bad, ts })).toThrow(
      expect.objectContaining({ code: 'INVALID_BSON' }),
    );
    sink.flush();
    expect(rows(db)['t.c']).toHaveLength(3);
  });

  it('many writes to a few _ids across several batches equal applying them one by one', () => {
    let r = 7;
    const rand = (n: number) => (r = (r * 1103515245 + 12345) & 0x7fffffff) % n;
    const ops: EffectiveOp[] = [];
    for (let k = 0; k < 25_000; k++) {
      const id = rand(40);
      const x = rand(10);
      if (x < 3) ops.push(ins('t.c', { _id: id, grp: `g${rand(5)}`, n: k }));
      else if (x < 8)
        ops.push(upd('t.c', id, diff({ u: { grp: `g${rand(5)}` }, i: { [`f${rand(3)}`]: k } })));
      else ops.push(del('t.c', id));
    }
    ops.push({ op: 'createIndexes', ns: 't.c', indexes: [b({ v: 2, key: { n: 1 }, name: 'n_1' })], ts });
    ops.push(upd('t.c', 0, diff({ u: { n: new Timestamp({ t: 1, i: 2 }) } })));
    check(seed, ops, false);
  });

  it('streams the stage back in (collection, _id) order, then arrival, and empties it however far it was read', () => {
    const db = viewOf(seed, [], false);
    const w = viewWriter(db);
    const big = (n: number) => b({ _id: n, pad: 'x'.repeat(1 << 20) }); // ~1 MiB each
    // Staged out of order: collections 2 and 1, _ids descending, _id 5 twice.
    for (const [cid, n, rid] of [
      [2, 1, 10],
      [1, 7, 11],
      [1, 5, 12],
      [1, 5, 13],
      [1, 2, 14],
    ] as const)
      w.stageDoc(cid, docId(big(n)), 1, rid, big(n), null);
    const read = [...w.sortedDocs()];
    expect(read.map((r) => [r[0], r[4]])).toEqual([
      [1, 14],
      [1, 12],
      [1, 13],
      [1, 11],
      [2, 10],
    ]);
    expect(read[0]![5]!.equals(big(2))).toBe(true);
    expect([...w.sortedDocs()]).toEqual([]); // read to the end: empty
    w.stageDoc(1, docId(b({ _id: 1 })), 3, 0, null, null);
    w.stageDoc(1, docId(b({ _id: 2 })), 3, 0, null, null);
    for (const r of w.sortedDocs()) {
      expect(r[3]).toBe(3);
      break; // a write stopped part way (a cancel, a damaged update)
    }
    expect([...w.sortedDocs()]).toEqual([]);
    w.closeStage();
    expect([...w.sortedDocs()]).toEqual([]);
  });

  it('a write that fails leaves the batch refusing further writes (its build deletes the file)', () => {
    const db = viewOf(seed, [], false);
    const sink = new ViewSink(viewWriter(db));
    // A $v:2 diff whose `u` is not a document: refused when the staged update is folded.
    sink.apply(upd('t.c', 1, { $v: 2, diff: { u: 5 } }));
    expect(() => sink.flush()).toThrow();
    expect(() => sink.flush()).toThrow(expect.objectContaining({ code: 'INTERNAL' }));
  });

  it('a metered writer (the view bench) writes the same file and times each statement kind it ran', () => {
    const ops = [ins('t.c', { _id: 9, grp: 'x' }), upd('t.c', 2, diff({ u: { grp: 'y' } })), del('t.c', 3)];
    const plain = viewOf(seed, ops, false);
    const meter: Record<string, number> = {};
    const db = viewOf(seed, ops, false, meter);
    expect(rows(db)).toEqual(rows(plain));
    expect(keysText(db)).toEqual(keysText(plain));
    // The insert of a new _id, the staged update and delete, their sort, the update's read and
    // write, the delete, the staged key rows and their writing, the commit.
    for (const kind of [
      'insertNewDoc',
      'stageDoc',
      'sortedDocs',
      'getDoc',
      'updateDoc',
      'deleteDocById',
      'stageKey',
      'applyStagedKeys',
      'commit',
    ])
      expect(meter[kind], kind).toBeGreaterThan(0);
  });
});
