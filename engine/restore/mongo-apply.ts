/**
 * Applies the replay core's effective operations to a live MongoDB target,
 * as mongorestore --oplogReplay does: CRUD as `applyOps` batches (under
 * 16 MB, without UUIDs so the target keeps its own, namespaces already
 * renamed), DDL as the matching commands. A batch that fails is retried one
 * operation at a time, so that a per-document failure (a duplicate key from a
 * unique index, a validator) is counted and reported instead of losing the
 * rest of the batch; strict mode makes the first such failure fatal.
 */
import { MongoServerError, type Db, type Document, type MongoClient } from 'mongodb';
import { ApiError } from '../errors.js';
import { toDriverDocument, withoutNs } from '../mongo/driver-document.js';
import { docOf, elementBytes, field } from '../oplog/bson-raw.js';
import { formatOpTime } from '../repo/optime.js';
import type { EffectiveOp, ReplaySink } from './effective-op.js';

/** applyOps commands stay well under the 16 MB command limit (the documents are re-encoded by the driver). */
const MAX_BATCH_BYTES = 8 * 1024 * 1024;
const MAX_BATCH_OPS = 2_000;
const NAMESPACE_NOT_FOUND = 26;
const INDEX_NOT_FOUND = 27;

export interface ApplyFailure {
  ts: string;
  ns: string;
  op: string;
  code: number | null;
  message: string;
}

export interface ApplyCounters {
  operations: number;
  failures: number;
  /** The first few failures, for the report. */
  examples: ApplyFailure[];
}

/** Where a source namespace goes on the target (null: not restored). */
export type NamespaceMapper = (ns: string) => string | null;
export type DatabaseFilter = (db: string) => boolean;

const split = (ns: string): [string, string] => {
  const dot = ns.indexOf('.');
  return [ns.slice(0, dot), ns.slice(dot + 1)];
};

/** Collects effective operations (the replay core is synchronous) and applies them on flush(). */
export class MongoApplier implements ReplaySink {
  private pending: EffectiveOp[] = [];
  private pendingBytes = 0;
  readonly counters: ApplyCounters = { operations: 0, failures: 0, examples: [] };
  /** Target namespace -> source namespace of what this restore created or filled (for dropDatabase). */
  readonly touched = new Map<string, string>();

  constructor(
    private readonly client: MongoClient,
    private readonly map: NamespaceMapper,
    private readonly keepsDb: DatabaseFilter,
    private readonly opts: { strict: boolean; writeConcern?: Document },
  ) {}

  apply(op: EffectiveOp): void {
    this.pending.push(op);
    this.pendingBytes += sizeOf(op);
  }

  /** Whether enough is buffered that the caller should flush before reading on. */
  get full(): boolean {
    return this.pendingBytes >= MAX_BATCH_BYTES || this.pending.length >= MAX_BATCH_OPS * 4;
  }

  async flush(): Promise<void> {
    const ops = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    let batch: Document[] = [];
    let batchOps: EffectiveOp[] = [];
    let bytes = 0;
    const send = async () => {
      if (batch.length) await this.applyOps(batch, batchOps);
      batch = [];
      batchOps = [];
      bytes = 0;
    };
    for (const op of ops) {
      if (op.op !== 'insert' && op.op !== 'update' && op.op !== 'delete') {
        await send();
        await this.command(op);
        continue;
      }
      const crud = this.crudEntry(op);
      if (crud === null) continue; // not selected
      const size = sizeOf(op);
      if (batch.length && (bytes + size > MAX_BATCH_BYTES || batch.length >= MAX_BATCH_OPS)) await send();
      batch.push(crud);
      batchOps.push(op);
      bytes += size;
    }
    await send();
  }

  /** The applyOps entry of a CRUD op; null when its namespace is not restored. */
  private crudEntry(op: Extract<EffectiveOp, { op: 'insert' | 'update' | 'delete' }>): Document | null {
    const ns = this.map(op.ns);
    if (!ns) return null;
    this.touched.set(ns, op.ns);
    // An insert goes as a replacement upsert by _id: replaying the range (startTs, consistentTs] onto a
    // snapshot meets documents the snapshot already holds, and mongod's applyOps does not promise to turn a
    // duplicate-_id insert into an upsert in every version, while a 'u' replacement upserts (alwaysUpsert).
    if (op.op === 'insert') {
      const id = field(op.doc, '_id');
      if (!id) throw new ApiError('CORRUPT', `Insert into ${op.ns} at ${formatOpTime(op.ts)} without _id.`);
      return {
        op: 'u',
        ns,
        o: toDriverDocument(op.doc),
        o2: toDriverDocument(docOf(elementBytes(op.doc, id))),
      };
    }
    if (op.op === 'update')
      return { op: 'u', ns, o: toDriverDocument(op.update), o2: toDriverDocument(op.o2) };
    return { op: 'd', ns, o: toDriverDocument(op.o) };
  }

  private async applyOps(entries: Document[], ops: EffectiveOp[]): Promise<void> {
    try {
      await this.client.db('admin').command({ applyOps: entries, alwaysUpsert: true, ...this.wc() });
      this.counters.operations += entries.length;
      return;
    } catch (err) {
      if (entries.length === 1) return this.failed(ops[0]!, err);
      if (!(err instanceof MongoServerError)) throw err;
    }
    // One at a time: only the failing operations are counted, the others applied. applyOps stops at its
    // first failure, and what it applied before it is kept, so re-sending an applied op must be harmless:
    // inserts upsert, updates and deletes by _id are idempotent here.
    for (const [k, entry] of entries.entries()) await this.applyOps([entry], [ops[k]!]);
  }

  private failed(op: EffectiveOp, err: unknown): void {
    if (!(err instanceof MongoServerError)) throw err;
    if (this.opts.strict)
      throw new ApiError('CONFLICT', `Strict restore stopped at ${describe(op)}: ${err.message}`, {
        code: err.code ?? null,
      });
    this.counters.failures++;
    if (this.counters.examples.length < 10)
      this.counters.examples.push({
        ts: formatOpTime(op.ts),
        ns: 'ns' in op ? op.ns : op.op === 'dropDatabase' ? op.db : op.from,
        op: op.op,
        code: typeof err.code === 'number' ? err.code : null,
        message: err.message,
      });
  }

  private wc(): Document {
    return this.opts.writeConcern ? { writeConcern: this.opts.writeConcern } : {};
  }

  /** Runs `cmd` on `db`; `ignore` lists codes that mean "already as wanted". */
  private async run(db: Db, cmd: Document, op: EffectiveOp, ignore: number[] = []): Promise<void> {
    try {
      await db.command({ ...cmd, ...this.wc() });
      this.counters.operations++;
    } catch (err) {
      if (err instanceof MongoServerError && typeof err.code === 'number' && ignore.includes(err.code))
        return;
      this.failed(op, err);
    }
  }

  private async command(op: Exclude<EffectiveOp, { op: 'insert' | 'update' | 'delete' }>): Promise<void> {
    switch (op.op) {
      case 'createCollection': {
        const ns = this.map(op.ns);
        if (!ns) return;
        const [db, coll] = split(ns);
        this.touched.set(ns, op.ns);
        // 48: NamespaceExists (the snapshot or an implicit write created it first).
        return this.run(this.client.db(db), { create: coll, ...toDriverDocument(op.options) }, op, [48]);
      }
      case 'dropCollection': {
        const ns = this.map(op.ns);
        if (!ns) return;
        const [db, coll] = split(ns);
        return this.run(this.client.db(db), { drop: coll }, op, [NAMESPACE_NOT_FOUND]);
      }
      case 'dropDatabase': {
        if (!this.keepsDb(op.db)) return;
        // Only what this restore put there: a renamed or filtered database is not the target's whole database.
        for (const [ns, source] of [...this.touched]) {
          if (split(source)[0] !== op.db) continue;
          const [db, coll] = split(ns);
          await this.run(this.client.db(db), { drop: coll }, op, [NAMESPACE_NOT_FOUND]);
          this.touched.delete(ns);
        }
        return;
      }
      case 'renameCollection': {
        const from = this.map(op.from);
        const to = this.map(op.to);
        if (from && to) {
          this.touched.delete(from);
          this.touched.set(to, op.to);
          return this.run(
            this.client.db('admin'),
            { renameCollection: from, to, dropTarget: op.dropTarget },
            op,
            [NAMESPACE_NOT_FOUND],
          );
        }
        // Renamed out of the selection: gone from what is restored.
        if (from) {
          const [db, coll] = split(from);
          return this.run(this.client.db(db), { drop: coll }, op, [NAMESPACE_NOT_FOUND]);
        }
        return;
      }
      case 'createIndexes': {
        const ns = this.map(op.ns);
        if (!ns) return;
        const [db, coll] = split(ns);
        const indexes = op.indexes.map((spec) => withoutNs(toDriverDocument(spec)));
        return this.run(this.client.db(db), { createIndexes: coll, indexes }, op);
      }
      case 'dropIndexes': {
        const ns = this.map(op.ns);
        if (!ns) return;
        const [db, coll] = split(ns);
        const index = typeof op.index === 'string' ? op.index : toDriverDocument(op.index);
        return this.run(this.client.db(db), { dropIndexes: coll, index }, op, [
          NAMESPACE_NOT_FOUND,
          INDEX_NOT_FOUND,
        ]);
      }
      case 'modifyIndex': {
        const ns = this.map(op.ns);
        if (!ns) return;
        const [db, coll] = split(ns);
        return this.run(this.client.db(db), { collMod: coll, index: toDriverDocument(op.index) }, op);
      }
      case 'modifyCollection': {
        const ns = this.map(op.ns);
        if (!ns) return;
        const [db, coll] = split(ns);
        return this.run(this.client.db(db), { collMod: coll, ...toDriverDocument(op.options) }, op);
      }
      case 'convertToCapped': {
        const ns = this.map(op.ns);
        if (!ns) return;
        const [db, coll] = split(ns);
        return this.run(this.client.db(db), { convertToCapped: coll, size: op.size }, op);
      }
      case 'emptyCollection': {
        const ns = this.map(op.ns);
        if (!ns) return;
        const [db, coll] = split(ns);
        return this.run(this.client.db(db), { delete: coll, deletes: [{ q: {}, limit: 0 }] }, op);
      }
    }
  }
}

function sizeOf(op: EffectiveOp): number {
  switch (op.op) {
    case 'insert':
      return op.doc.length + 64;
    case 'update':
      return op.update.length + op.o2.length + 64;
    case 'delete':
      return op.o.length + 64;
    default:
      return 256;
  }
}

function describe(op: EffectiveOp): string {
  const where = 'ns' in op ? op.ns : op.op === 'dropDatabase' ? op.db : `${op.from} -> ${op.to}`;
  return `${op.op} on ${where} at ${formatOpTime(op.ts)}`;
}
