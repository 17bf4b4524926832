/**
 * Transactions in the oplog, with mongorestore's rules (common/txn in
 * mongo-tools) and mongod's chaining:
 *  - an entry is part of a transaction when it is an `op: "c"` with `lsid`
 *    and `txnNumber` whose command is `applyOps`, `commitTransaction` or
 *    `abortTransaction`, and it is not a vectored insert (`multiOpType: 1`,
 *    which a retryable `insertMany` batch carries along with `lsid`);
 *  - a small unprepared transaction is one `applyOps` (no `partialTxn`, no
 *    `prepare`): it commits there;
 *  - a large one is a chain of `applyOps {partialTxn: true}` entries linked
 *    by `prevOpTime`, ending with one without `partialTxn` (it commits,
 *    `count` is the number of operations of the whole chain), or with a
 *    `prepare: true` entry that a later `commitTransaction` commits;
 *  - `abortTransaction` drops what was buffered.
 * Operations are handed back once, at the commit, in order. Chains that do
 * not commit inside the range are dropped (their writes were never visible
 * there) and reported; a commit whose chain began before the range cannot be
 * replayed exactly and is refused.
 */
import { ApiError } from '../errors.js';
import { formatOpTime, type OpTime } from '../repo/optime.js';
import { T, elements, isTruthy, readNumber, subDocument } from './bson-raw.js';
import type { OplogEntry } from './oplog-entry.js';

export interface TransactionMeta {
  id: string;
  /** Carries operations (`applyOps`). */
  data: boolean;
  commit: boolean;
  abort: boolean;
  partial: boolean;
  prepare: boolean;
  /** `count` of the final entry of a chain, when logged. */
  count: number | null;
}

/** Transaction metadata of an entry, or null when it is not part of a transaction. */
export function transactionMeta(e: OplogEntry): TransactionMeta | null {
  if (e.multiOpType === 1) return null;
  if (e.op !== 'c' || !e.lsid || e.txnNumber === null || !e.o) return null;
  const m: TransactionMeta = {
    id: `${e.lsid.toString('hex')}:${e.txnNumber}`,
    data: false,
    commit: false,
    abort: false,
    partial: false,
    prepare: false,
    count: null,
  };
  for (const f of elements(e.o)) {
    if (f.name === 'applyOps') m.data = true;
    else if (f.name === 'commitTransaction') m.commit = true;
    else if (f.name === 'abortTransaction') m.abort = true;
    else if (f.name === 'partialTxn') m.partial = isTruthy(e.o, f);
    else if (f.name === 'prepare') m.prepare = isTruthy(e.o, f);
    else if (f.name === 'count') m.count = readNumber(e.o, f);
  }
  if (!m.data && !m.commit && !m.abort) return null; // some other command with a session
  // An unprepared applyOps without partialTxn is the whole transaction (or the end of its chain).
  if (m.data && !m.partial && !m.prepare && !m.abort) m.commit = true;
  return m;
}

export interface TransactionSummary {
  /** The session id (`lsid.id`, hex) and transaction number. */
  session: string;
  txnNumber: number;
  firstTs: OpTime | null;
  lastTs: OpTime | null;
  operations: number;
  prepared: boolean;
}

interface OpenTransaction extends TransactionSummary {
  ops: Buffer[];
  /** Its first entry was before the range (prevOpTime named an entry we never saw). */
  truncated: boolean;
}

function sessionLabel(e: OplogEntry): string {
  for (const f of elements(e.lsid!)) {
    if (f.name === 'id' && f.type === T.binary) return e.lsid!.toString('hex', f.valueStart + 5, f.end);
  }
  return e.lsid!.toString('hex');
}

const sameTs = (a: OpTime, b: OpTime) => a.t === b.t && a.i === b.i;
const tsText = (ts: OpTime | null) => (ts ? formatOpTime(ts) : '?');

/** The operations of an `applyOps` command, as raw documents. */
export function applyOpsOperations(o: Buffer): Buffer[] {
  const f = elements(o).find((x) => x.name === 'applyOps');
  if (!f || f.type !== T.array) throw new ApiError('CORRUPT', 'applyOps without an array of operations.');
  const arr = subDocument(o, f);
  return elements(arr).map((op) => {
    if (op.type !== T.object) throw new ApiError('CORRUPT', 'applyOps operation is not a document.');
    return subDocument(arr, op);
  });
}

export class TransactionBuffer {
  private readonly open = new Map<string, OpenTransaction>();
  committed = 0;
  readonly aborted: TransactionSummary[] = [];

  /** Buffers a transaction entry; returns the transaction's operations when this entry commits it. */
  add(e: OplogEntry, meta: TransactionMeta): Buffer[] | null {
    let txn = this.open.get(meta.id);
    const label = () => `transaction ${sessionLabel(e)}:${e.txnNumber}`;
    if (meta.abort) {
      this.open.delete(meta.id);
      this.aborted.push(txn ? summary(txn) : { ...blank(e, sessionLabel(e)), lastTs: e.ts });
      return null;
    }
    if (meta.data) {
      if (!txn) {
        txn = { ...blank(e, sessionLabel(e)), ops: [], truncated: e.prevTs !== null };
        this.open.set(meta.id, txn);
      } else if (!e.prevTs || !txn.lastTs || !sameTs(e.prevTs, txn.lastTs)) {
        throw new ApiError(
          'CORRUPT',
          `${label()}: the entry at ${tsText(e.ts)} names ${tsText(e.prevTs)} as its previous entry, not ${tsText(txn.lastTs)}.`,
        );
      }
      const ops = applyOpsOperations(e.o!);
      for (const op of ops) txn.ops.push(op);
      txn.operations = txn.ops.length;
      txn.lastTs = e.ts;
      if (meta.prepare) txn.prepared = true;
      if (meta.count !== null && !txn.truncated && meta.count !== txn.ops.length) {
        throw new ApiError(
          'CORRUPT',
          `${label()}: its chain has ${txn.ops.length} operations where its last entry (${tsText(e.ts)}) counts ${meta.count}.`,
        );
      }
    }
    if (!meta.commit) return null;
    if (!txn || txn.truncated) {
      throw new ApiError(
        'UNSUPPORTED',
        `${label()} commits at ${tsText(e.ts)} but began before the replayed range; its first operations are missing, so the range cannot be replayed exactly.`,
      );
    }
    this.open.delete(meta.id);
    this.committed++;
    return txn.ops;
  }

  /** Transactions still open: never committed inside the range, so dropped. */
  incomplete(): TransactionSummary[] {
    return [...this.open.values()].map(summary);
  }
}

function blank(e: OplogEntry, session: string): TransactionSummary {
  return { session, txnNumber: e.txnNumber!, firstTs: e.ts, lastTs: e.ts, operations: 0, prepared: false };
}

function summary(t: TransactionSummary): TransactionSummary {
  return {
    session: t.session,
    txnNumber: t.txnNumber,
    firstTs: t.firstTs,
    lastTs: t.lastTs,
    operations: t.operations,
    prepared: t.prepared,
  };
}
