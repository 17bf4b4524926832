/** Shared state of a stand-in server and the per-command context handed to command handlers. */
import { Binary, Long, type ObjectId, Timestamp, serialize, type Document } from 'bson';
import { createHash } from 'node:crypto';
import { E, MongoError } from './errors.js';
import type { Oplog, OplogEntry } from './oplog.js';
import { type Collection, type Store } from './store.js';

export interface Txn {
  txnNumber: string;
  colls: Map<string, Collection>;
  ops: Document[];
  lsid: Document;
  /** Set by prepareTransaction: the chain's first and last (prepare) entries. */
  prepared?: { first: OplogEntry; last: OplogEntry };
}

export interface ServerState {
  store: Store;
  oplog: Oplog;
  replSetName: string;
  host: string;
  version: string;
  processId: ObjectId;
  startedAt: number;
  txns: Map<string, Txn>;
  /** Transactions above this many bytes of operations are logged as partialTxn chains (mongod: 16 MB). */
  txnSplitBytes: number;
  /** Time-series buckets written compressed (control.version 2/3), as mongod 8.0 does. */
  compressedBuckets: boolean;
  auth: { username: string; password: string; roles: { role: string; db: string }[] } | null;
  topology: 'replicaSet' | 'standalone' | 'sharded';
  /** Secondary members' host:port; they serve the same data (no replication lag). */
  secondaryHosts: string[];
  /** Commands received, by member host and command name (lower case). */
  commandsByMember: Map<string, Map<string, number>>;
}

export interface ConnState {
  id: number;
  authenticated: boolean;
  /** The member (host:port) this connection reached. */
  member: string;
}

export class Ctx {
  constructor(
    readonly server: ServerState,
    readonly conn: ConnState,
    readonly cmd: Document,
    readonly db: string,
    /** Raw bytes of `documents` (insert) as received. */
    readonly rawDocuments?: Uint8Array[],
    /** Raw bytes of each applyOps operation's `o`. */
    readonly rawApplyOpsO?: (Uint8Array | undefined)[],
    /** Raw bytes of each update statement's `u`. */
    readonly rawUpdates?: (Uint8Array | undefined)[],
    /** Raw bytes of findAndModify's `update`. */
    readonly rawFamUpdate?: Uint8Array,
  ) {}

  /** Fields every reply carries ($clusterTime, operationTime). */
  extra(): Document {
    return clusterTimeFields(this.server);
  }

  /** The transaction this command runs in, if any (writes are visible only at commit). */
  get txn(): Txn | null {
    if (this.resolvedTxn === undefined) this.resolvedTxn = this.resolveTxn();
    return this.resolvedTxn;
  }

  private resolvedTxn: Txn | null | undefined;

  private resolveTxn(): Txn | null {
    const { lsid, txnNumber, autocommit } = this.cmd;
    if (!lsid || txnNumber === undefined || autocommit !== false) return null;
    const key = sessionKey(lsid as Document);
    const n = String(txnNumber);
    let t = this.server.txns.get(key);
    if (this.cmd.startTransaction === true) {
      t = { txnNumber: n, colls: new Map(), ops: [], lsid: lsid as Document };
      this.server.txns.set(key, t);
    }
    if (!t || t.txnNumber !== n)
      throw E.noSuchTransaction(`Transaction with { txnNumber: ${n} } has been aborted or never started.`);
    const name = Object.keys(this.cmd)[0]!.toLowerCase();
    if (t.prepared && name !== 'committransaction' && name !== 'aborttransaction')
      throw new MongoError(
        267,
        'PreparedTransactionInProgress',
        'Cannot call any operation other than abort, prepare or commit on a prepared transaction',
      );
    return t;
  }

  /** The collection as this command sees it (a transaction's private copy inside a transaction). */
  coll(name: string, db = this.db): Collection | undefined {
    const t = this.txn;
    const ns = `${db}.${name}`;
    if (t?.colls.has(ns)) return t.colls.get(ns);
    const live = this.server.store.collection(db, name);
    if (t && live) {
      const copy = live.clone();
      t.colls.set(ns, copy);
      return copy;
    }
    return live;
  }

  /** Like coll(), creating the collection (and logging its creation) when absent. */
  ensureColl(name: string, db = this.db): Collection {
    const existing = this.coll(name, db);
    if (existing) return existing;
    const { coll, created } = this.server.store.ensure(db, name);
    if (created)
      this.server.oplog.append({
        op: 'c',
        ns: `${db}.$cmd`,
        ui: coll.uuid,
        o: { create: name, idIndex: { v: 2, key: { _id: 1 }, name: '_id_' } },
      });
    return this.coll(name, db)!;
  }

  /** Records a CRUD oplog operation: straight into the oplog, or into the transaction's applyOps. */
  log(op: Document & { op: string; ns: string }): void {
    const t = this.txn;
    if (t) t.ops.push(op);
    else this.server.oplog.append(op as Parameters<Oplog['append']>[0]);
  }
}

export function sessionKey(lsid: Document): string {
  return Buffer.from(serialize({ id: lsid.id })).toString('hex');
}

/** The lsid as MongoDB writes it into the oplog: id plus uid (SHA-256 of the user name, empty without auth). */
export function oplogLsid(lsid: Document, user = ''): Document {
  return { id: lsid.id, uid: new Binary(createHash('sha256').update(user).digest(), 0) };
}

export function clusterTimeFields(s: ServerState): Document {
  const last = s.oplog.last();
  const ts = new Timestamp({ t: last?.t ?? Math.floor(s.startedAt / 1000), i: last?.i ?? 1 });
  return {
    $clusterTime: {
      clusterTime: ts,
      signature: { hash: new Binary(Buffer.alloc(20), 0), keyId: Long.fromNumber(0) },
    },
    operationTime: ts,
  };
}
