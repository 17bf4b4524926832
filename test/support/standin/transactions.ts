/**
 * Multi-document transactions as mongod logs them:
 *  - at commit, the operations as one `applyOps` entry in admin.$cmd with
 *    lsid, txnNumber and prevOpTime; above `txnSplitBytes` (16 MB on mongod,
 *    small in tests) split into a chain: `partialTxn: true` entries linked by
 *    prevOpTime, the last one carrying `count` (a Long, the number of operations);
 *  - `prepareTransaction` writes the same chain ending with `prepare: true`
 *    at prepare time; commitTransaction (which then needs `commitTimestamp`)
 *    or abortTransaction writes its own entry pointing at it;
 *  - config.transactions holds one record per session (state, lastWriteOpTime,
 *    and startOpTime while a prepared transaction is open), written without an
 *    oplog entry, as mongod maintains it.
 */
import { Long, Timestamp, type Document } from 'bson';
import { oplogLsid, sessionKey, type ServerState, type Txn } from './context.js';
import { E, MongoError } from './errors.js';
import { TERM, type OplogEntry } from './oplog.js';
import { serializeWithRaw } from './raw-value.js';

const NULL_OPTIME = { ts: new Timestamp({ t: 0, i: 0 }), t: Long.fromNumber(-1) };
const opTimeOf = (e: OplogEntry) => ({ ts: new Timestamp({ t: e.t, i: e.i }), t: Long.fromNumber(TERM) });

/** Splits the operations into applyOps chunks of at most `limit` bytes (at least one operation each). */
function chunks(ops: Document[], limit: number): Document[][] {
  const out: Document[][] = [];
  let cur: Document[] = [];
  let size = 0;
  for (const op of ops) {
    const n = serializeWithRaw({ op }).byteLength;
    if (cur.length && size + n > limit) {
      out.push(cur);
      cur = [];
      size = 0;
    }
    cur.push(op);
    size += n;
  }
  if (cur.length || out.length === 0) out.push(cur);
  return out;
}

/** Writes the transaction's applyOps chain; returns its first and last entries. */
function logChain(s: ServerState, t: Txn, prepare: boolean): { first: OplogEntry; last: OplogEntry } {
  const parts = chunks(t.ops, s.txnSplitBytes);
  let first: OplogEntry | null = null;
  let prev: OplogEntry | null = null;
  parts.forEach((applyOps, k) => {
    const lastOne = k === parts.length - 1;
    const o: Document = { applyOps };
    if (!lastOne) o.partialTxn = true;
    else if (prepare) o.prepare = true;
    if (lastOne && k > 0) o.count = Long.fromNumber(t.ops.length);
    const e = s.oplog.append(
      {
        lsid: oplogLsid(t.lsid),
        txnNumber: Long.fromString(t.txnNumber),
        op: 'c',
        ns: 'admin.$cmd',
        o,
      },
      { prevOpTime: prev ? opTimeOf(prev) : NULL_OPTIME },
    );
    first ??= e;
    prev = e;
  });
  return { first: first!, last: prev! };
}

/** The session's record in config.transactions, as mongod keeps it (not replicated through the oplog). */
function recordState(
  s: ServerState,
  t: Txn,
  state: 'prepared' | 'committed' | 'aborted',
  lastWrite: OplogEntry,
  start?: OplogEntry,
): void {
  const { coll } = s.store.ensure('config', 'transactions');
  const doc: Document = {
    _id: oplogLsid(t.lsid),
    txnNum: Long.fromString(t.txnNumber),
    lastWriteOpTime: opTimeOf(lastWrite),
    lastWriteDate: new Date(),
    state,
  };
  if (start) doc.startOpTime = opTimeOf(start);
  coll.put(doc);
}

/** Makes the transaction's writes visible: only the documents it wrote, so concurrent writes survive. */
function publish(s: ServerState, t: Txn): void {
  for (const [ns, copy] of t.colls) {
    const dot = ns.indexOf('.');
    const live = s.store.ensure(ns.slice(0, dot), ns.slice(dot + 1)).coll;
    for (const k of copy.dirty ?? []) {
      const d = copy.docs.get(k);
      if (d) live.docs.set(k, d);
      else live.docs.delete(k);
    }
    if (copy.indexes.length !== live.indexes.length) live.indexes = copy.indexes;
  }
}

export function prepareTransaction(s: ServerState, t: Txn): Timestamp {
  if (t.prepared)
    throw new MongoError(267, 'PreparedTransactionInProgress', 'Transaction is already prepared');
  const { first, last } = logChain(s, t, true);
  t.prepared = { first, last };
  recordState(s, t, 'prepared', last, first);
  return new Timestamp({ t: last.t, i: last.i });
}

export function commitTransaction(s: ServerState, t: Txn, commitTimestamp: unknown): void {
  if (t.prepared) {
    if (!(commitTimestamp instanceof Timestamp))
      throw E.invalidOptions("'commitTimestamp' is required to commit a prepared transaction");
    publish(s, t);
    const e = s.oplog.append(
      {
        lsid: oplogLsid(t.lsid),
        txnNumber: Long.fromString(t.txnNumber),
        op: 'c',
        ns: 'admin.$cmd',
        o: { commitTransaction: 1, commitTimestamp },
      },
      { prevOpTime: opTimeOf(t.prepared.last) },
    );
    recordState(s, t, 'committed', e);
  } else {
    publish(s, t);
    if (t.ops.length) recordState(s, t, 'committed', logChain(s, t, false).last);
  }
  s.txns.delete(sessionKey(t.lsid));
}

export function abortTransaction(s: ServerState, t: Txn): void {
  if (t.prepared) {
    const e = s.oplog.append(
      {
        lsid: oplogLsid(t.lsid),
        txnNumber: Long.fromString(t.txnNumber),
        op: 'c',
        ns: 'admin.$cmd',
        o: { abortTransaction: 1 },
      },
      { prevOpTime: opTimeOf(t.prepared.last) },
    );
    recordState(s, t, 'aborted', e);
  }
  s.txns.delete(sessionKey(t.lsid));
}
