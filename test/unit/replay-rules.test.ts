/**
 * The replay core's rules beyond the real fixtures: DDL (create with
 * options, rename across databases with dropTarget as a UUID), namespace
 * skipping (users and roles only when asked), transaction order and the
 * refusals that keep a replay from silently losing data.
 */
import { Binary, Long, Timestamp, UUID, serialize, type Document } from 'bson';
import { describe, expect, it } from 'vitest';
import type { EffectiveOp } from '../../engine/restore/effective-op.js';
import { OfflineState } from '../../engine/restore/offline-state.js';
import { OplogReplay } from '../../engine/restore/replay.js';
import { decodeExact, docsHex, hex, indexNames, replayEntries } from '../support/replay-helpers.js';

let clock = 0;
const ts = () => new Timestamp({ t: 1_700_000_000, i: ++clock });
const entry = (e: Document) =>
  Buffer.from(serialize({ ts: ts(), t: Long.fromNumber(1), v: Long.fromNumber(2), ...e }));
const insert = (ns: string, o: Document) => entry({ op: 'i', ns, o });
const cmd = (db: string, o: Document) => entry({ op: 'c', ns: `${db}.$cmd`, o });
const lsid = { id: new UUID('0123456789abcdef0123456789abcdef'), uid: new Binary(Buffer.alloc(32, 1), 0) };
const bytes = (d: Document) => hex(serialize(d));

describe('replay: DDL', () => {
  it('create keeps its options (minus idIndex and recordIdsReplicated) and its idIndex', () => {
    const state = replayEntries([
      cmd('db', {
        create: 'c',
        capped: true,
        size: Long.fromNumber(4096),
        recordIdsReplicated: true,
        idIndex: { v: 2, key: { _id: 1 }, name: '_id_' },
      }),
    ]);
    expect(hex(state.get('db.c')!.options)).toBe(bytes({ capped: true, size: Long.fromNumber(4096) }));
    expect(indexNames(state, 'db.c')).toEqual(['_id_']);
  });

  it('renames across databases, dropping the target (dropTarget as a UUID)', () => {
    const state = replayEntries([
      insert('a.src', { _id: 1, x: 1 }),
      insert('b.dst', { _id: 2, old: true }),
      cmd('a', { renameCollection: 'a.src', to: 'b.dst', dropTarget: new UUID(), stayTemp: false }),
    ]);
    expect([...state.keys()]).toEqual(['b.dst']);
    expect(docsHex(state, 'b.dst')).toEqual([bytes({ _id: 1, x: 1 })]);
  });

  it('a rename whose source is already gone leaves the target as it is (the state already shows it)', () => {
    const state = new OfflineState();
    replayEntries([insert('a.dst', { _id: 1 })], {}, state);
    replayEntries([cmd('a', { renameCollection: 'a.src', to: 'a.dst', dropTarget: true })], {}, state);
    expect(docsHex(state, 'a.dst')).toEqual([bytes({ _id: 1 })]);
  });

  it('drop, dropDatabase, emptycapped, dropIndexes "*" and collMod options', () => {
    const state = replayEntries([
      insert('d.a', { _id: 1 }),
      insert('d.b', { _id: 1 }),
      insert('e.c', { _id: 1 }),
      cmd('e', { createIndexes: 'c', v: 2, key: { k: 1 }, name: 'k_1' }),
      cmd('e', { collMod: 'c', validationLevel: 'moderate', noPadding: true }),
      cmd('d', { drop: 'a' }),
      cmd('e', { dropIndexes: 'c', index: '*' }),
      cmd('d', { dropDatabase: 1 }),
      insert('f.cap', { _id: 1 }),
      cmd('f', { emptycapped: 'cap' }),
    ]);
    expect([...state.keys()].sort()).toEqual(['e.c', 'f.cap']);
    expect(indexNames(state, 'e.c')).toEqual(['_id_']);
    expect(decodeExact(state.get('e.c')!.options)).toEqual({ validationLevel: 'moderate' });
    expect(state.get('f.cap')!.docs.size).toBe(0);
  });

  it('refuses a command it does not know, as mongorestore does', () => {
    expect(() => replayEntries([cmd('db', { reshardCollection: 'db.c' })])).toThrow(
      /unknown oplog command "reshardCollection"/,
    );
  });
});

describe('replay: namespaces', () => {
  const users = [
    insert('admin.system.users', { _id: 'admin.u', user: 'u', db: 'admin' }),
    insert('admin.system.version', { _id: 'authSchema', currentVersion: 5 }),
    insert('local.startup_log', { _id: 'x' }),
    insert('config.transactions', { _id: 'y' }),
    cmd('config', { create: 'cache.chunks.db.c' }),
    insert('app.c', { _id: 1 }),
  ];
  it('skips local.*, config.* and admin.system.*; users and roles only when asked for', () => {
    expect([...replayEntries(users).keys()]).toEqual(['app.c']);
    expect([...replayEntries(users, { usersAndRoles: true }).keys()].sort()).toEqual([
      'admin.system.users',
      'app.c',
    ]);
  });
});

describe('replay: transactions', () => {
  const empty = { ts: new Timestamp({ t: 0, i: 0 }), t: Long.fromNumber(-1) };
  const txn = (o: Document, prevTs: Timestamp | null, at: Timestamp) =>
    Buffer.from(
      serialize({
        ts: at,
        t: Long.fromNumber(1),
        op: 'c',
        ns: 'admin.$cmd',
        o,
        lsid,
        txnNumber: Long.fromNumber(7),
        prevOpTime: prevTs ? { ts: prevTs, t: Long.fromNumber(1) } : empty,
      }),
    );
  const op = (o: Document, ns = 'app.c') => ({ op: 'i', ns, ui: new UUID(), o });

  it('applies a chain once, at its commit, after the writes logged before the commit', () => {
    const [t1, t2, t3] = [ts(), ts(), ts()];
    const seen: string[] = [];
    const replay = new OplogReplay({ apply: (e: EffectiveOp) => void seen.push(`${e.op}:${e.ts.i}`) });
    replay.push(txn({ applyOps: [op({ _id: 1 })], partialTxn: true }, null, t1));
    replay.push(
      Buffer.from(serialize({ ts: t2, t: Long.fromNumber(1), op: 'i', ns: 'app.c', o: { _id: 2 } })),
    );
    replay.push(txn({ applyOps: [op({ _id: 3 }), op({ _id: 4 }, 'config.transactions')], count: 3 }, t1, t3));
    expect(seen).toEqual([`insert:${t2.low}`, `insert:${t3.low}`, `insert:${t3.low}`]);
    expect(replay.report().transactions.committed).toBe(1);
    expect(replay.report().skipped).toEqual({ 'config.transactions': 1 });
  });

  it('applies commands inside a transaction (a collection created in it)', () => {
    const state = replayEntries([
      txn(
        { applyOps: [{ op: 'c', ns: 'app.$cmd', o: { create: 'n' } }, op({ _id: 1 }, 'app.n')] },
        null,
        ts(),
      ),
    ]);
    expect(docsHex(state, 'app.n')).toEqual([bytes({ _id: 1 })]);
  });

  it('refuses a commit whose chain began before the range, a broken chain and a wrong count', () => {
    const [a, b, c] = [ts(), ts(), ts()];
    expect(() => replayEntries([txn({ applyOps: [op({ _id: 1 })] }, a, b)])).toThrow(
      /began before the replayed range/,
    );
    expect(() =>
      replayEntries([
        txn({ applyOps: [op({ _id: 1 })], partialTxn: true }, null, a),
        txn({ applyOps: [op({ _id: 2 })] }, c, b),
      ]),
    ).toThrow(/names .* as its previous entry/);
    expect(() =>
      replayEntries([
        txn({ applyOps: [op({ _id: 1 })], partialTxn: true }, null, a),
        txn({ applyOps: [op({ _id: 2 })], count: 3 }, a, b),
      ]),
    ).toThrow(/has 2 operations where its last entry .* counts 3/);
  });

  it('reports a chain whose start is before the range and which never commits, without applying it', () => {
    const [a, b] = [ts(), ts()];
    const state = replayEntries([txn({ applyOps: [op({ _id: 1 })], partialTxn: true }, a, b)]);
    expect(state.size).toBe(0);
    expect(state.report!.transactions.incomplete).toMatchObject([
      { session: '0123456789abcdef0123456789abcdef', txnNumber: 7, operations: 1, prepared: false },
    ]);
  });
});
