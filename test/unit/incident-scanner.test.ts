/**
 * The finder for destructive operations on oplog entries shaped as mongod
 * writes them (op_observer_impl.cpp, drop_database.cpp) and on the real
 * entries in ../shared/fixtures: what it finds, where each finding starts
 * and the restore point before it (the previous entry's ts, never ts - 1),
 * and that a scan stopped and resumed anywhere finds what one pass finds.
 */
import { readFileSync } from 'node:fs';
import { Binary, Long, Timestamp, UUID, deserialize, serialize, type Document } from 'bson';
import { describe, expect, it } from 'vitest';
import {
  IncidentScanner,
  emptyScanState,
  type Finding,
  type ScanState,
  type Thresholds,
} from '../../engine/incidents/incident-scanner.js';
import { findingRow } from '../../engine/incidents/incident-finder.js';
import { incidentSummary } from '../../engine/incidents/summary.js';
import { splitBsonDocuments } from '../../engine/repo/bson-entries.js';
import { EntrySummary, summarizeEntry } from '../../engine/oplog/entry-summary.js';
import { HAVE_FIXTURES, SKIP_FIXTURES_MESSAGE, fixture } from '../support/fixtures.js';
import { ejsonToBson } from '../support/replay-helpers.js';

const LIMITS: Thresholds = { documents: 1000, seconds: 10 };

/** Builds entries in ts order, several per second, with the fields mongod writes. */
class Log {
  t = 1_700_000_000;
  i = 0;
  readonly entries: Uint8Array[] = [];
  readonly ts: { t: number; i: number }[] = [];
  private readonly ui = new UUID();

  at(t: number): this {
    this.t = t;
    this.i = 0;
    return this;
  }
  add(fields: Document): { t: number; i: number } {
    const ts = { t: this.t, i: ++this.i };
    this.entries.push(
      serialize({
        ...fields,
        ts: new Timestamp(ts),
        t: Long.fromNumber(1),
        v: Long.fromNumber(2),
        wall: new Date(ts.t * 1000 + (ts.i % 1000)),
      }),
    );
    this.ts.push(ts);
    return ts;
  }
  insert(ns: string, id: number) {
    return this.add({ op: 'i', ns, ui: this.ui, o: { _id: id } });
  }
  del(ns: string, id: number) {
    return this.add({ op: 'd', ns, ui: this.ui, o: { _id: id } });
  }
  upd(ns: string, id: number) {
    return this.add({ op: 'u', ns, ui: this.ui, o: { $v: 2, diff: { u: { a: 1 } } }, o2: { _id: id } });
  }
  cmd(db: string, o: Document, extra: Document = {}) {
    return this.add({ op: 'c', ns: `${db}.$cmd`, ...extra, o });
  }
}

function scan(entries: readonly Uint8Array[], limits = LIMITS): Finding[] {
  const s = new IncidentScanner(emptyScanState(), limits);
  for (const e of entries) s.push(e);
  return [...s.changes.upserts.values()];
}

/** Scans with a stop after every entry in `cuts`: state saved as JSON and read back, as across segments and restarts. */
function scanInPieces(entries: readonly Uint8Array[], cuts: number[], limits = LIMITS): Finding[] {
  const found = new Map<string, Finding>();
  let state: ScanState = emptyScanState();
  let from = 0;
  for (const cut of [...cuts, entries.length]) {
    const s = new IncidentScanner(JSON.parse(JSON.stringify(state)) as ScanState, limits);
    for (const e of entries.slice(from, cut)) s.push(e);
    s.compact();
    for (const k of s.changes.removed) found.delete(k);
    for (const [k, f] of s.changes.upserts) found.set(k, JSON.parse(JSON.stringify(f)) as Finding);
    state = s.state;
    from = cut;
  }
  return [...found.values()];
}

const norm = (fs: Finding[]) => JSON.parse(JSON.stringify(fs.sort((a, b) => (a.key < b.key ? -1 : 1))));

describe('incident scanner: mass deletes and updates', () => {
  it('finds more than N deletes of one namespace within M seconds, from the first one, restoring to the entry before it', () => {
    const log = new Log();
    log.insert('shop.orders', 1);
    log.upd('shop.other', 1);
    const before = log.upd('shop.orders', 2); // the entry just before the mass delete
    log.at(log.t + 1);
    const first = log.del('shop.orders', 0);
    for (let k = 1; k < 1500; k++) log.del('shop.orders', k);
    const last = log.ts[log.ts.length - 1]!;
    log.at(log.t + 30);
    log.insert('shop.orders', 9);
    const [f, ...rest] = scan(log.entries);
    expect(rest).toEqual([]);
    expect(f).toMatchObject({
      kind: 'massDelete',
      ns: 'shop.orders',
      firstTs: first,
      lastTs: last,
      restoreBefore: before,
      size: 1500,
      lsid: null,
      txnNumber: null,
      wall: new Date(first.t * 1000 + 1).toISOString(),
    });
  });

  it('stays quiet at exactly N, for deletes spread over namespaces, and for a slow trickle', () => {
    const log = new Log();
    for (let k = 0; k < 1000; k++) log.del('shop.a', k);
    for (let k = 0; k < 900; k++) log.del('shop.b', k);
    for (let s = 0; s < 200; s++) {
      log.at(log.t + 1);
      for (let k = 0; k < 90; k++) log.del('shop.c', s * 100 + k); // 900 per 10 s window
    }
    expect(scan(log.entries)).toEqual([]);
  });

  it('counts a delete burst spread over seconds and ends it when the rate drops; a later burst is a new finding', () => {
    const log = new Log();
    const first = log.at(1_700_000_100).del('app.events', 0);
    for (let s = 0; s < 20; s++) {
      log.at(1_700_000_100 + s);
      for (let k = 0; k < 200; k++) log.del('app.events', s * 1000 + k + 1);
    }
    const lastOfFirst = log.ts[log.ts.length - 1]!;
    log.at(1_700_000_200);
    const beforeSecond = log.insert('app.events', 1);
    const second = log.del('app.events', 99);
    for (let k = 0; k < 1200; k++) log.del('app.events', 100_000 + k);
    const found = scan(log.entries);
    expect(found.map((f) => [f.kind, f.firstTs, f.size])).toEqual([
      ['massDelete', first, 1 + 20 * 200],
      ['massDelete', second, 1201],
    ]);
    expect(found[0]!.lastTs).toEqual(lastOfFirst);
    expect(found[1]!.restoreBefore).toEqual(beforeSecond);
  });

  it('finds mass updates the same way, counts plain applyOps operation by operation (batched deletes), ignores config.*, local.* and migrations', () => {
    const log = new Log();
    for (let k = 0; k < 1001; k++) log.upd('shop.orders', k);
    log.at(log.t + 60);
    const batched = log.cmd('admin', {
      applyOps: Array.from({ length: 1001 }, (_, k) => ({ op: 'd', ns: 'shop.carts', o: { _id: k } })),
    });
    log.at(log.t + 60);
    for (let k = 0; k < 2000; k++) log.del('config.system.sessions', k);
    for (let k = 0; k < 2000; k++) log.del('local.replset.minvalid', k);
    for (let k = 0; k < 2000; k++) log.add({ op: 'd', ns: 'shop.orders', o: { _id: k }, fromMigrate: true });
    log.at(log.t + 60);
    // fromMigrate false (or 0) is an ordinary delete, fromMigrate 1 a migration's.
    for (let k = 0; k < 1001; k++)
      log.add({ op: 'd', ns: 'shop.users', o: { _id: k }, fromMigrate: k % 2 ? false : 0 });
    log.at(log.t + 60);
    for (let k = 0; k < 2000; k++) log.add({ op: 'd', ns: 'shop.items', o: { _id: k }, fromMigrate: 1 });
    const found = scan(log.entries);
    expect(found.map((f) => [f.kind, f.ns, f.size])).toEqual([
      ['massUpdate', 'shop.orders', 1001],
      ['massDelete', 'shop.carts', 1001],
      ['massDelete', 'shop.users', 1001],
    ]);
    expect(found[1]!.firstTs).toEqual(batched);
    expect(found[1]!.lastTs).toEqual(batched);
  });
});

describe('incident scanner: DDL', () => {
  it('finds a drop with its numRecords, and a dropDatabase from the first of its collection drops', () => {
    const log = new Log();
    const beforeDrop = log.insert('shop.tmp', 1);
    const drop = log.cmd(
      'shop',
      { drop: 'tmp' },
      { ui: new UUID(), o2: { numRecords: Long.fromNumber(12) } },
    );
    log.at(log.t + 100);
    log.insert('crm.people', 1);
    const beforeDb = log.insert('other.x', 1);
    const d1 = log.cmd('crm', { drop: 'people' }, { ui: new UUID(), o2: { numRecords: Long.fromNumber(3) } });
    log.insert('other.x', 2); // another database's write between: still one dropDatabase
    log.cmd('crm', { drop: 'system.views' }, { ui: new UUID(), o2: { numRecords: Long.fromNumber(1) } });
    const dropDb = log.cmd('crm', { dropDatabase: 1 });
    const found = scan(log.entries);
    expect(found.map((f) => f.kind)).toEqual(['drop', 'dropDatabase']);
    expect(found[0]).toMatchObject({ ns: 'shop.tmp', firstTs: drop, restoreBefore: beforeDrop, size: 12 });
    expect(found[1]).toMatchObject({
      ns: 'crm',
      firstTs: d1,
      lastTs: dropDb,
      restoreBefore: beforeDb,
      size: 4,
      details: { collections: ['people', 'system.views'] },
    });
  });

  it('keeps a drop on its own when the database is written between, and finds an empty dropDatabase', () => {
    const log = new Log();
    log.cmd('crm', { drop: 'people' }, { o2: { numRecords: 3 } });
    log.insert('crm.audit', 1);
    const before = log.insert('crm.audit', 2);
    const dropDb = log.cmd('crm', { dropDatabase: 1 });
    const found = scan(log.entries);
    expect(found.map((f) => [f.kind, f.ns, f.size])).toEqual([
      ['drop', 'crm.people', 3],
      ['dropDatabase', 'crm', 0],
    ]);
    expect(found[1]).toMatchObject({ firstTs: dropDb, restoreBefore: before });
  });

  it('finds a rename over an existing collection (dropTarget UUID or true), not a plain rename', () => {
    const log = new Log();
    log.cmd('shop', { renameCollection: 'shop.a', to: 'shop.b', stayTemp: false });
    log.cmd('shop', { renameCollection: 'shop.c', to: 'shop.d', stayTemp: false, dropTarget: false });
    const before = log.insert('shop.x', 1);
    const over = log.cmd(
      'shop',
      { renameCollection: 'shop.tmp', to: 'shop.orders', stayTemp: false, dropTarget: new UUID() },
      { o2: { numRecords: Long.fromNumber(40) } },
    );
    const old = log.cmd('shop', { renameCollection: 'shop.e', to: 'shop.f', dropTarget: true });
    const found = scan(log.entries);
    expect(found.map((f) => [f.kind, f.ns, f.size, f.details])).toEqual([
      ['renameOverCollection', 'shop.orders', 40, { from: 'shop.tmp', targetExisted: true }],
      ['renameOverCollection', 'shop.f', null, { from: 'shop.e', targetExisted: null }],
    ]);
    expect(found[0]).toMatchObject({ firstTs: over, restoreBefore: before });
    expect(found[1]!.firstTs).toEqual(old);
  });

  it('makes consecutive dropIndexes of one collection one finding', () => {
    const log = new Log();
    const first = log.cmd('shop', { dropIndexes: 'orders', index: 'a_1' }, { o2: { v: 2, key: { a: 1 } } });
    const last = log.cmd('shop', { dropIndexes: 'orders', index: 'b_1' }, { o2: { v: 2, key: { b: 1 } } });
    log.insert('shop.orders', 1);
    log.cmd('shop', { dropIndexes: 'orders', index: 'c_1' });
    const found = scan(log.entries);
    expect(found.map((f) => [f.kind, f.size, f.details])).toEqual([
      ['dropIndexes', 2, { indexes: ['a_1', 'b_1'] }],
      ['dropIndexes', 1, { indexes: ['c_1'] }],
    ]);
    expect(found[0]).toMatchObject({ firstTs: first, lastTs: last, restoreBefore: null });
  });
});

describe('incident scanner: transactions', () => {
  const lsid = { id: new UUID('3f0f41c2-7a7b-4c55-9a5e-0b4d7a1f2e3d'), uid: new Binary(Buffer.alloc(32, 7)) };
  const ops = (n: number, op: 'd' | 'u') =>
    Array.from({ length: n }, (_, k) =>
      op === 'd'
        ? { op: 'd', ns: 'bank.accounts', o: { _id: k } }
        : { op: 'u', ns: 'bank.accounts', o: { $v: 2, diff: { u: { x: 1 } } }, o2: { _id: k } },
    );
  const nullOpTime = { ts: new Timestamp({ t: 0, i: 0 }), t: Long.fromNumber(-1) };
  const opTime = (ts: { t: number; i: number }) => ({ ts: new Timestamp(ts), t: Long.fromNumber(1) });

  it('finds a partialTxn chain that mass-deletes, from its first entry, with lsid and txnNumber', () => {
    const log = new Log();
    const before = log.insert('bank.accounts', 1);
    const txn = { lsid, txnNumber: Long.fromNumber(5) };
    const a = log.add({
      op: 'c',
      ns: 'admin.$cmd',
      ...txn,
      o: { applyOps: ops(800, 'd'), partialTxn: true },
      prevOpTime: nullOpTime,
    });
    log.insert('other.x', 1); // other clients write between the chain's entries
    const b = log.add({
      op: 'c',
      ns: 'admin.$cmd',
      ...txn,
      o: { applyOps: ops(700, 'd'), count: Long.fromNumber(1500) },
      prevOpTime: opTime(a),
    });
    const found = scan(log.entries);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({
      kind: 'transaction',
      ns: 'bank.accounts',
      firstTs: a,
      lastTs: b,
      restoreBefore: before,
      size: 1500,
      lsid: { id: '3f0f41c2-7a7b-4c55-9a5e-0b4d7a1f2e3d', uid: '07'.repeat(32) },
      txnNumber: 5,
      details: {
        prepared: false,
        operations: 1500,
        namespaces: [{ ns: 'bank.accounts', deletes: 1500, updates: 0 }],
      },
    });
  });

  it('finds a prepared transaction at its commitTransaction; aborted and small ones are no findings', () => {
    const log = new Log();
    const txn = (n: number) => ({ lsid, txnNumber: Long.fromNumber(n) });
    const p = log.add({
      op: 'c',
      ns: 'admin.$cmd',
      ...txn(1),
      o: { applyOps: ops(1200, 'u'), prepare: true },
      prevOpTime: nullOpTime,
    });
    const c = log.add({
      op: 'c',
      ns: 'admin.$cmd',
      ...txn(1),
      o: { commitTransaction: 1, commitTimestamp: new Timestamp(p) },
      prevOpTime: opTime(p),
    });
    const p2 = log.add({
      op: 'c',
      ns: 'admin.$cmd',
      ...txn(2),
      o: { applyOps: ops(1200, 'd'), prepare: true },
      prevOpTime: nullOpTime,
    });
    log.add({ op: 'c', ns: 'admin.$cmd', ...txn(2), o: { abortTransaction: 1 }, prevOpTime: opTime(p2) });
    log.add({
      op: 'c',
      ns: 'admin.$cmd',
      ...txn(3),
      o: { applyOps: ops(1000, 'd') },
      prevOpTime: nullOpTime,
    });
    const found = scan(log.entries);
    expect(found.map((f) => [f.kind, f.firstTs, f.lastTs, f.size, f.details.prepared])).toEqual([
      ['transaction', p, c, 1200, true],
    ]);
  });
});

describe('incident scanner: mass deletes and updates done as many small transactions', () => {
  // As mongod logs a committed transaction (op_observer_impl.cpp, oplog_entry.idl): one
  // `applyOps` on admin.$cmd with the session's lsid (id, and uid the SHA-256 of the user) and
  // txnNumber, prevOpTime null for a chain's first entry; a large one as `partialTxn` entries
  // linked by prevOpTime ending with one that has `count`; a prepared one as `prepare: true`
  // and a later `commitTransaction` (or `abortTransaction`) of the same session and txnNumber.
  const ui = new UUID();
  const sessions = Array.from({ length: 4 }, (_, k) => ({
    id: new UUID(`5e55a0${k}0-0000-4000-8000-00000000000${k}`),
    uid: new Binary(Buffer.alloc(32, 0xa0 + k)),
  }));
  const del = (ns: string, id: number) => ({ op: 'd', ns, ui, o: { _id: id } });
  const upd = (ns: string, id: number) => ({
    op: 'u',
    ns,
    ui,
    o: { $v: 2, diff: { u: { n: id } } },
    o2: { _id: id },
  });
  const nullOpTime = { ts: new Timestamp({ t: 0, i: 0 }), t: Long.fromNumber(-1) };
  const opTime = (ts: { t: number; i: number }) => ({ ts: new Timestamp(ts), t: Long.fromNumber(1) });
  let txnNumber = 0;
  /** One small transaction, committed in one entry; the session the test's k-th one uses. */
  const commit = (log: Log, k: number, applyOps: Document[]) =>
    log.add({
      lsid: sessions[k % sessions.length],
      txnNumber: Long.fromNumber(++txnNumber),
      op: 'c',
      ns: 'admin.$cmd',
      o: { applyOps },
      prevOpTime: nullOpTime,
    });

  it('finds 300 transactions of 10 deletes each on a.b in 3 s as one mass delete from the first commit, restoring to the entry before it', () => {
    const log = new Log();
    const T = 1_700_010_000;
    log.at(T);
    log.insert('a.b', -1);
    const before = log.upd('a.b', -1);
    const firstTxnNumber = txnNumber + 1;
    const commits: { t: number; i: number }[] = [];
    let id = 0;
    for (let s = 0; s < 3; s++) {
      if (s) log.at(T + s);
      for (let k = 0; k < 100; k++) {
        commits.push(
          commit(
            log,
            commits.length,
            Array.from({ length: 10 }, () => del('a.b', id++)),
          ),
        );
        if (k === 50) {
          // Other clients between; a prepared transaction of 900 deletes that is aborted, and one
          // of 900 that never commits: neither counts.
          log.insert('a.c', id);
          const aborted = { lsid: sessions[0], txnNumber: Long.fromNumber(++txnNumber) };
          const p = log.add({
            ...aborted,
            op: 'c',
            ns: 'admin.$cmd',
            o: {
              applyOps: Array.from({ length: 900 }, (_, j) => del('a.b', 1e6 + s * 1000 + j)),
              prepare: true,
            },
            prevOpTime: nullOpTime,
          });
          log.add({
            ...aborted,
            op: 'c',
            ns: 'admin.$cmd',
            o: { abortTransaction: 1 },
            prevOpTime: opTime(p),
          });
        }
      }
    }
    log.add({
      lsid: sessions[1],
      txnNumber: Long.fromNumber(++txnNumber),
      op: 'c',
      ns: 'admin.$cmd',
      o: { applyOps: Array.from({ length: 900 }, (_, j) => del('a.b', 2e6 + j)), prepare: true },
      prevOpTime: nullOpTime,
    });
    log.at(T + 30);
    log.insert('a.b', 1);
    const found = scan(log.entries);
    expect(found).toHaveLength(1);
    expect(found[0]).toEqual({
      key: `massDelete@${commits[0]!.t}:${commits[0]!.i}@a.b`,
      kind: 'massDelete',
      ns: 'a.b',
      firstTs: commits[0],
      lastTs: commits[299],
      restoreBefore: before,
      wall: new Date(commits[0]!.t * 1000 + commits[0]!.i).toISOString(),
      size: 3000,
      lsid: { id: sessions[0]!.id.toHexString(), uid: 'a0'.repeat(32) },
      txnNumber: firstTxnNumber,
      details: {},
    });
    // The same when the scan stops after any entry (state saved as JSON, as across segments).
    const cuts = log.entries.map((_, k) => k).filter((k) => k % 7 === 3);
    expect(norm(scanInPieces(log.entries, cuts))).toEqual(norm(found));
  });

  it('finds a mass update done as small, chained and prepared transactions, once: a transaction over N on its own stays its own finding', () => {
    const log = new Log();
    const T = 1_700_020_000;
    log.at(T);
    log.insert('a.b', 0);
    // A prepared transaction: its updates count at its commitTransaction, which the finding starts at.
    const prepared = { lsid: sessions[2], txnNumber: Long.fromNumber(++txnNumber) };
    const p = log.add({
      ...prepared,
      op: 'c',
      ns: 'admin.$cmd',
      o: { applyOps: Array.from({ length: 50 }, (_, j) => upd('a.b', j)), prepare: true },
      prevOpTime: nullOpTime,
    });
    const beforeCommit = log.insert('a.c', 1);
    const c = log.add({
      ...prepared,
      op: 'c',
      ns: 'admin.$cmd',
      o: { commitTransaction: 1, commitTimestamp: new Timestamp(p) },
      prevOpTime: opTime(p),
    });
    let id = 100;
    for (let k = 0; k < 60; k++)
      commit(
        log,
        k,
        Array.from({ length: 10 }, () => upd('a.b', id++)),
      );
    log.at(T + 1);
    // A chain of 300 + 200 updates, counted at its last entry; plain updates too.
    const chain = { lsid: sessions[3], txnNumber: Long.fromNumber(++txnNumber) };
    const a = log.add({
      ...chain,
      op: 'c',
      ns: 'admin.$cmd',
      o: { applyOps: Array.from({ length: 300 }, () => upd('a.b', id++)), partialTxn: true },
      prevOpTime: nullOpTime,
    });
    log.add({
      ...chain,
      op: 'c',
      ns: 'admin.$cmd',
      o: { applyOps: Array.from({ length: 200 }, () => upd('a.b', id++)), count: Long.fromNumber(500) },
      prevOpTime: opTime(a),
    });
    for (let k = 0; k < 10; k++) log.upd('a.b', id++);
    // One transaction of 1,200 updates of a.b (and 5 of a.c): its own finding, not counted again.
    const bigTxnNumber = ++txnNumber;
    const big = log.add({
      lsid: sessions[0],
      txnNumber: Long.fromNumber(bigTxnNumber),
      op: 'c',
      ns: 'admin.$cmd',
      o: {
        applyOps: [
          ...Array.from({ length: 1200 }, () => upd('a.b', id++)),
          ...Array.from({ length: 5 }, (_, j) => upd('a.c', j)),
        ],
      },
      prevOpTime: nullOpTime,
    });
    log.at(T + 2);
    for (let k = 0; k < 40; k++)
      commit(
        log,
        k,
        Array.from({ length: 10 }, () => upd('a.b', id++)),
      );
    const last = log.ts[log.ts.length - 1]!;
    log.at(T + 40);
    log.upd('a.b', 1);
    const found = scan(log.entries);
    expect(found.map((f) => [f.kind, f.ns, f.firstTs, f.lastTs, f.size])).toEqual([
      ['massUpdate', 'a.b', c, last, 50 + 600 + 500 + 10 + 400],
      ['transaction', 'a.b', big, big, 1200],
    ]);
    expect(found[0]).toMatchObject({
      restoreBefore: beforeCommit,
      lsid: { id: sessions[2]!.id.toHexString(), uid: 'a2'.repeat(32) },
      txnNumber: Number(prepared.txnNumber),
    });
    expect(found[1]!.txnNumber).toBe(bigTxnNumber);
    // A stop between the prepare and its commit, inside the chain, and anywhere else.
    expect(
      norm(
        scanInPieces(
          log.entries,
          log.entries.map((_, k) => k),
        ),
      ),
    ).toEqual(norm(found));
  });
});

describe('incident summaries', () => {
  it('say what happened in one line, per kind', () => {
    const log = new Log();
    log.cmd('crm', { drop: 'people' }, { o2: { numRecords: Long.fromNumber(1) } });
    log.cmd('crm', { drop: 'orders' }, { o2: { numRecords: Long.fromNumber(1234) } });
    log.cmd('crm', { dropDatabase: 1 });
    log.cmd('shop', { dropIndexes: 'orders', index: 'a_1' });
    log.cmd('shop', { dropIndexes: 'orders', index: 'b_1' });
    log.cmd(
      'shop',
      { renameCollection: 'shop.tmp', to: 'shop.carts', dropTarget: new UUID() },
      { o2: { numRecords: 1 } },
    );
    log.at(log.t + 100);
    for (let k = 0; k < 1001; k++) log.upd('shop.orders', k);
    log.at(log.t + 3);
    log.upd('shop.orders', 1);
    const text = scan(log.entries).map((f) => incidentSummary(findingRow('s', f, 1)));
    expect(text).toEqual([
      'Database crm dropped (2 collections, 1,235 documents)',
      '2 indexes dropped on shop.orders: a_1, b_1',
      'shop.tmp renamed over shop.carts, which was dropped (1 document)',
      '1,002 documents updated in shop.orders in 3 seconds',
    ]);
  });
});

describe('incident scanner: damaged entries', () => {
  it('skips an entry it cannot read and goes on; that entry is still the restore point before the next', () => {
    const log = new Log();
    const bad = log.add({ op: 'c', ns: 'shop.$cmd', o: { applyOps: 'not an array' } });
    log.add({ ns: 'shop.x', o: { _id: 1 } }); // no op at all
    const noOp = log.ts[log.ts.length - 1]!;
    const drop = log.cmd('shop', { drop: 'orders' }, { o2: { numRecords: 2 } });
    const s = new IncidentScanner(emptyScanState(), LIMITS);
    for (const e of log.entries) s.push(e);
    expect(s.unreadable).toBe(1);
    expect([...s.changes.upserts.values()]).toEqual([
      expect.objectContaining({ kind: 'drop', firstTs: drop, restoreBefore: noOp, size: 2 }),
    ]);
    expect(bad).toEqual({ t: log.t, i: 1 });
  });
});

describe('incident scanner: passing entries on capture’s summary', () => {
  it('pass() leaves state, findings and restore points as push() does, entry by entry, and refuses what it cannot judge', () => {
    const log = new Log();
    const ui = new UUID();
    for (let s = 0; s < 12; s++) {
      log.at(1_700_002_000 + s);
      for (let k = 0; k < 40; k++) log.insert('shop.orders', s * 100 + k);
      log.add({ op: 'n', ns: '', o: { msg: 'periodic noop' } });
      for (let k = 0; k < 30; k++) log.del('shop.orders', s * 100 + k);
      log.add({ op: 'i', ns: 'shop.orders', ui, o: { _id: -s }, fromMigrate: true });
      log.add({ op: 'd', ns: 'shop.orders', ui, o: { _id: -s }, fromMigrate: true });
      if (s % 3 === 0) {
        // dropIndexes ended by an insert; drops followed by an insert of another database or of theirs.
        log.cmd('shop', { dropIndexes: 'orders', index: `i${s}` });
        log.insert('shop.orders', 9000 + s);
        log.cmd('shop', { dropIndexes: 'orders', index: `j${s}` });
        log.cmd('crm', { drop: 'a' }, { o2: { numRecords: 1 } });
        log.insert('shop.orders', 9100 + s); // another database: the crm drops stay pending
        log.cmd('crm', { drop: 'b' }, { o2: { numRecords: 2 } });
        if (s === 6) log.insert('crm.c', 1); // their database: the drops before it are forgotten
        log.cmd('crm', { dropDatabase: 1 });
      }
      log.add({
        op: 'c',
        ns: 'admin.$cmd',
        lsid: { id: new UUID(), uid: new Binary(Buffer.alloc(32, 1)) },
        txnNumber: Long.fromNumber(s),
        o: { applyOps: Array.from({ length: 3 }, (_, k) => ({ op: 'd', ns: 'shop.carts', o: { _id: k } })) },
      });
      log.add({ ns: 'shop.x', o: { _id: 1 } }); // no op: unreadable for push, no summary claim
    }
    const limits = { documents: 20, seconds: 10 };
    const pushed = new IncidentScanner(emptyScanState(), limits);
    const passed = new IncidentScanner(emptyScanState(), limits);
    const summary = new EntrySummary();
    let passes = 0;
    let refusals = 0;
    for (const e of log.entries) {
      pushed.push(e);
      summarizeEntry(e, summary);
      if (passed.pass(summary.summary, summary.t, summary.i)) passes++;
      else {
        refusals++;
        passed.push(e);
      }
      expect(JSON.stringify(passed.state)).toBe(JSON.stringify(pushed.state)); // the stored text too
      expect(passed.unreadable).toBe(pushed.unreadable);
      expect([...passed.changes.upserts]).toEqual([...pushed.changes.upserts]);
      expect([...passed.changes.removed]).toEqual([...pushed.changes.removed]);
    }
    expect(passes).toBeGreaterThan(400);
    expect(refusals).toBeGreaterThan(400);
    expect(pushed.unreadable).toBe(12);
    expect(new Set([...pushed.changes.upserts.values()].map((f) => f.kind))).toEqual(
      new Set(['massDelete', 'dropIndexes', 'drop', 'dropDatabase']),
    );
    // An insert while drops are pending is refused (forgetting them needs its namespace).
    const s = new IncidentScanner(emptyScanState(), limits);
    const l2 = new Log();
    l2.cmd('crm', { drop: 'a' });
    l2.insert('shop.orders', 1);
    s.push(l2.entries[0]!);
    summarizeEntry(l2.entries[1]!, summary);
    expect(s.pass(summary.summary, summary.t, summary.i)).toBe(false);
    expect(s.pass(0, summary.t, summary.i)).toBe(false); // no claim: never passed
  });
});

describe('incident scanner: resuming', () => {
  it('finds the same when stopped and resumed anywhere (state saved as JSON in between)', () => {
    const log = new Log();
    for (let s = 0; s < 30; s++) {
      log.at(1_700_001_000 + s);
      for (let k = 0; k < 150; k++) log.del('shop.orders', s * 1000 + k);
      if (s % 7 === 0) log.cmd('shop', { dropIndexes: 'orders', index: `i${s}` });
      if (s % 7 === 0) log.cmd('shop', { dropIndexes: 'orders', index: `j${s}` });
      if (s === 12) log.cmd('crm', { drop: 'a' }, { o2: { numRecords: 1 } });
      if (s === 13) log.cmd('crm', { drop: 'b' }, { o2: { numRecords: 2 } });
      if (s === 14) log.cmd('crm', { dropDatabase: 1 });
      for (let k = 0; k < 120; k++) log.upd('shop.carts', k);
    }
    const whole = norm(scan(log.entries));
    expect(whole.map((f: Finding) => f.kind).sort()).toEqual([
      'dropDatabase',
      'dropIndexes',
      'dropIndexes',
      'dropIndexes',
      'dropIndexes',
      'dropIndexes',
      'massDelete',
      'massUpdate',
    ]);
    let seed = 7;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let run = 0; run < 20; run++) {
      const cuts = [
        ...new Set(
          Array.from({ length: 1 + Math.floor(rand() * 40) }, () => Math.floor(rand() * log.entries.length)),
        ),
      ].sort((a, b) => a - b);
      expect(norm(scanInPieces(log.entries, cuts)), `cuts ${cuts.join(',')}`).toEqual(whole);
    }
    // A stop between each entry and the next.
    expect(
      norm(
        scanInPieces(
          log.entries,
          log.entries.map((_, k) => k),
        ),
      ),
    ).toEqual(whole);
  });
});

describe.skipIf(!HAVE_FIXTURES)(
  `incident scanner on real oplogs ${HAVE_FIXTURES ? '' : SKIP_FIXTURES_MESSAGE}`,
  () => {
    const bson = (...p: string[]) => [
      ...splitBsonDocuments(readFileSync(fixture('mongorestore', 'testdata', ...p))),
    ];
    const tsOf = (e: Uint8Array) => {
      const ts = deserialize(e).ts as Timestamp;
      return { t: ts.high, i: ts.low };
    };
    const opOf = (e: Uint8Array) => String(deserialize(e).op);
    const ANY: Thresholds = { documents: 0, seconds: 10 };

    it("mongod's own drop, dropDatabase and dropIndexes entries", () => {
      const drop = bson('oplogs', 'bson', 'drop_collection.bson');
      expect(scan(drop)).toEqual([
        expect.objectContaining({
          kind: 'drop',
          ns: 'test.foo',
          size: 1,
          firstTs: { t: 1616670362, i: 1 },
          restoreBefore: null,
          wall: '2021-03-25T11:06:02.564Z',
        }),
      ]);
      const db = bson('oplogs', 'bson', 'drop_db.bson');
      expect(scan(db)).toEqual([
        expect.objectContaining({
          kind: 'dropDatabase',
          ns: 'test',
          size: 0,
          firstTs: { t: 1616671599, i: 3 },
        }),
      ]);
      const idx = bson('oplogs', 'bson', 'drop_index.bson');
      expect(scan(idx)).toEqual([
        expect.objectContaining({
          kind: 'dropIndexes',
          ns: 'test.foo',
          size: 1,
          details: { indexes: ['f_1'] },
        }),
      ]);
      // The collection drop was 20 minutes before the database's: not part of it.
      expect(scan([...drop, ...db]).map((f) => f.kind)).toEqual(['drop', 'dropDatabase']);
    });

    it('the mongodump --oplog fixtures: the one user delete is found with the entry before it, config.* deletes are not', () => {
      expect(scan(bson('oplog_partial_skips', 'oplog.bson'), ANY)).toEqual([]); // ten deletes, all config.system.sessions
      const dup = bson('duplicate_index_key_with_oplog', 'oplog.bson');
      const k = dup.findIndex((e) => opOf(e) === 'd');
      expect(scan(dup, ANY)).toEqual([
        expect.objectContaining({
          kind: 'massDelete',
          ns: 'test.foo',
          size: 1,
          firstTs: tsOf(dup[k]!),
          restoreBefore: k > 0 ? tsOf(dup[k - 1]!) : null,
        }),
      ]);
      for (const dir of [
        'oplogdump',
        'dump_with_noop_in_oplog',
        'create_indexes',
        'commit_indexes_build',
        'tools-2002',
        'oplog_ignore_index',
        'collMod_ttl_index',
        'dump_oplog_conflict',
      ])
        expect(scan(bson(dir, 'oplog.bson'), ANY), dir).toEqual([]);
    });

    it("mongo-tools' transaction cases: committed ones that delete or update are found from their first entry; aborted, incomplete and insert-only ones are not", () => {
      const cases = JSON.parse(
        readFileSync(fixture('mongorestore', 'testdata', 'transactions.json'), 'utf8'),
      ) as Record<string, { ops: unknown[] }>;
      const found = (name: string) => {
        const entries = cases[name]!.ops.map(ejsonToBson);
        return { entries, found: scan(entries, ANY) };
      };
      for (const [name, prepared] of [
        ['small, unprepared', false],
        ['small, prepared, committed', true],
      ] as const) {
        const { entries, found: f } = found(name);
        expect(f, name).toEqual([
          expect.objectContaining({
            kind: 'transaction',
            firstTs: tsOf(entries[0]!),
            lastTs: tsOf(entries[entries.length - 1]!),
            restoreBefore: null,
            size: 2,
            txnNumber: expect.any(Number),
            lsid: expect.objectContaining({ id: expect.stringMatching(/^[0-9a-f-]{36}$/) }),
          }),
        ]);
        expect(f[0]!.details.prepared).toBe(prepared);
      }
      expect(found('applyops not transaction').found.map((f) => f.kind)).toEqual(['massUpdate']);
      for (const name of [
        'small, prepared, aborted',
        'small, prepared, incomplete',
        'large, unprepared',
        'large, prepared, committed',
        'large, prepared, aborted',
        'large, unprepared, incomplete',
        'not transaction',
      ])
        expect(found(name).found, name).toEqual([]);
    });
  },
);
