/**
 * The replay core: ordered oplog entries (raw BSON) in, effective
 * operations out (effective-op.ts), with mongorestore --oplogReplay's rules.
 * Every consumer (offline state, restore into MongoDB, dump export,
 * point-in-time views) feeds entries here and applies what comes out.
 *
 * - `n` no-ops (and the replicated-record-id bookkeeping ops) are skipped;
 * - namespaces: oplog/namespace-filter.ts (config.*, local.*, admin.system.*),
 *   checked for a transaction's operations too (mongorestore checks only
 *   top-level and nested applyOps entries);
 * - transactions: oplog/transactions.ts, applied once, at their commit, in
 *   order; aborted ones and ones that never commit in the range are dropped
 *   and reported in `report()`;
 * - applyOps that is not a transaction (including vectored inserts,
 *   `multiOpType: 1`) is applied operation by operation, at its ts;
 * - retryable-write fields (`lsid`, `txnNumber`, `stmtId`, `prevOpTime`) on
 *   plain CRUD entries change nothing;
 * - commands: replay-commands.ts.
 */
import { ApiError } from '../errors.js';
import { commandName, parseOplogEntry, type OplogEntry } from '../oplog/oplog-entry.js';
import {
  isReplayedDatabase,
  isReplayedNamespace,
  splitNamespace,
  type NamespaceRules,
} from '../oplog/namespace-filter.js';
import {
  TransactionBuffer,
  applyOpsOperations,
  transactionMeta,
  type TransactionSummary,
} from '../oplog/transactions.js';
import { formatOpTime, type OpTime } from '../repo/optime.js';
import type { EffectiveOp, ReplaySink } from './effective-op.js';
import { IGNORED_COMMANDS, commandOps } from './replay-commands.js';

/** No-ops, and the bookkeeping of replicated record ids (never replicated by a restore). */
const IGNORED_OPS = new Set(['n', 'cd', 'ci', 'cu', 'km']);

export interface ReplayOptions {
  /** Replay admin.system.users and admin.system.roles (when the restore includes users and roles). */
  usersAndRoles?: boolean;
}

export interface ReplayReport {
  entries: number;
  operations: number;
  noops: number;
  /** Entries (or transaction operations) skipped by namespace, per namespace. */
  skipped: Record<string, number>;
  /** Commands that change nothing a restore keeps (startIndexBuild…), per name. */
  ignoredCommands: Record<string, number>;
  transactions: {
    committed: number;
    /** Ended by abortTransaction: never applied. */
    aborted: TransactionSummary[];
    /** Not committed inside the range (incomplete chains, prepared and not yet committed): never applied. */
    incomplete: TransactionSummary[];
  };
}

export class OplogReplay {
  private readonly rules: NamespaceRules;
  private readonly txns = new TransactionBuffer();
  private entries = 0;
  private operations = 0;
  private noops = 0;
  private readonly skipped: Record<string, number> = {};
  private readonly ignoredCommands: Record<string, number> = {};

  constructor(
    private readonly sink: ReplaySink,
    options: ReplayOptions = {},
  ) {
    this.rules = { usersAndRoles: options.usersAndRoles ?? false };
  }

  /** Replays one top-level oplog entry. */
  push(raw: Uint8Array): void {
    const e = parseOplogEntry(raw);
    if (!e.ts) throw new ApiError('CORRUPT', `Oplog entry without ts (op ${e.op}, ns ${e.ns}).`);
    this.entries++;
    this.handle(e, e.ts);
  }

  report(): ReplayReport {
    return {
      entries: this.entries,
      operations: this.operations,
      noops: this.noops,
      skipped: { ...this.skipped },
      ignoredCommands: { ...this.ignoredCommands },
      transactions: {
        committed: this.txns.committed,
        aborted: [...this.txns.aborted],
        incomplete: this.txns.incomplete(),
      },
    };
  }

  private handle(e: OplogEntry, ts: OpTime): void {
    if (IGNORED_OPS.has(e.op)) {
      this.noops++;
      return;
    }
    const meta = transactionMeta(e);
    if (meta) {
      const ops = this.txns.add(e, meta);
      if (ops) for (const op of ops) this.handle(parseOplogEntry(op), ts); // at the commit's ts
      return;
    }
    switch (e.op) {
      case 'i':
        if (!this.replayed(e.ns)) return;
        return this.emit({ op: 'insert', ts, ns: e.ns, doc: this.object(e, ts) });
      case 'u': {
        if (!this.replayed(e.ns)) return;
        if (!e.o2) throw new ApiError('CORRUPT', `Update at ${formatOpTime(ts)} on ${e.ns} without o2.`);
        return this.emit({ op: 'update', ts, ns: e.ns, o2: e.o2, update: this.object(e, ts) });
      }
      case 'd':
        if (!this.replayed(e.ns)) return;
        return this.emit({ op: 'delete', ts, ns: e.ns, o: this.object(e, ts) });
      case 'c':
        return this.command(e, ts);
      default:
        throw new ApiError('CORRUPT', `Oplog entry at ${formatOpTime(ts)} has an unknown op "${e.op}".`);
    }
  }

  private command(e: OplogEntry, ts: OpTime): void {
    const o = this.object(e, ts);
    const name = commandName(o);
    const { db } = splitNamespace(e.ns);
    if (name === 'applyOps') {
      // Not a transaction: each operation on its own, at this entry's ts (mongorestore recurses).
      for (const op of applyOpsOperations(o)) this.handle(parseOplogEntry(op), ts);
      return;
    }
    if (IGNORED_COMMANDS.has(name)) {
      this.ignoredCommands[name] = (this.ignoredCommands[name] ?? 0) + 1;
      return;
    }
    for (const op of commandOps(db, o, ts)) {
      if (op.op === 'renameCollection') {
        const from = this.replayed(op.from);
        const to = this.replayed(op.to);
        if (from && !to)
          this.emit({ op: 'dropCollection', ts, ns: op.from }); // moved out of what we keep
        else if (to) this.emit(op);
      } else if (op.op === 'dropDatabase') {
        if (isReplayedDatabase(op.db)) this.emit(op);
      } else if (this.replayed(op.ns)) this.emit(op);
    }
  }

  private object(e: OplogEntry, ts: OpTime): Buffer {
    if (!e.o) throw new ApiError('CORRUPT', `Oplog entry at ${formatOpTime(ts)} (op ${e.op}) without o.`);
    return e.o;
  }

  private replayed(ns: string): boolean {
    if (isReplayedNamespace(ns, this.rules)) return true;
    this.skipped[ns] = (this.skipped[ns] ?? 0) + 1;
    return false;
  }

  private emit(op: EffectiveOp): void {
    this.operations++;
    this.sink.apply(op);
  }
}
