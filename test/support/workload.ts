/**
 * A write workload for capture tests: inserts, $v:2 updates, replacements,
 * deletes, DDL and transactions, with a seeded PRNG. `recordInstant()` reads
 * the newest oplog ts and every document, so a test can later compare the
 * state rebuilt from backups at that exact point.
 */
import { EJSON, deserialize } from 'bson';
import type { Document, MongoClient } from 'mongodb';
import type { OfflineState } from '../../engine/restore/offline-state.js';
import { newestOplogTs } from '../../engine/source/snapshot.js';

export interface Instant {
  ts: { t: number; i: number };
  /** namespace -> each document's exact BSON (hex), sorted: types and field order compared too. */
  state: Record<string, string[]>;
  /** namespace -> canonical Extended JSON of {options, indexes (sorted by name)}. */
  meta: Record<string, string>;
}

const metaKey = (options: Document, indexes: Document[]) =>
  EJSON.stringify(
    { options, indexes: [...indexes].sort((a, b) => String(a.name).localeCompare(String(b.name))) },
    { relaxed: false },
  );

export class Workload {
  private n = 0;
  private rand: () => number;
  constructor(
    private readonly client: MongoClient,
    readonly db: string,
    seed = 7,
  ) {
    let a = seed >>> 0;
    this.rand = () => {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = Math.imul(a ^ (a >>> 15), a | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  private pick<T>(xs: T[]): T {
    return xs[Math.floor(this.rand() * xs.length)]!;
  }

  async step(): Promise<void> {
    const db = this.client.db(this.db);
    const orders = db.collection<Document>('orders');
    const r = this.rand();
    const id = Math.floor(this.rand() * Math.max(1, this.n));
    if (r < 0.4 || this.n < 5) {
      await orders.insertOne({
        _id: this.n++ as never,
        qty: Math.floor(this.rand() * 10),
        tags: ['new'],
        meta: { v: 1 },
      });
    } else if (r < 0.65) {
      await orders.updateOne(
        { _id: id as never },
        {
          $inc: { qty: 1 },
          $set: { 'meta.v': this.n, status: this.pick(['a', 'b', 'c']) },
          $push: { tags: this.pick(['x', 'y']) } as never,
        },
      );
    } else if (r < 0.75) {
      await orders.replaceOne({ _id: id as never }, { qty: -1, replaced: true });
    } else if (r < 0.85) {
      await orders.deleteOne({ _id: id as never });
    } else if (r < 0.93) {
      const s = this.client.startSession();
      try {
        await s.withTransaction(async () => {
          await orders.insertOne({ _id: this.n++ as never, qty: 100, txn: true }, { session: s });
          await db.collection('ledger').insertOne({ order: this.n - 1, at: this.n }, { session: s });
        });
      } finally {
        await s.endSession();
      }
    } else if (r < 0.95) {
      await db.collection('scratch').insertOne({ k: this.n });
    } else if (r < 0.96) {
      await db
        .collection('scratch')
        .drop()
        .catch(() => undefined);
    } else if (r < 0.97) {
      // DDL: an index, changed by collMod, later dropped; renamed collections.
      await orders
        .createIndex({ status: 1 }, { name: 'status_1', expireAfterSeconds: 86_400 })
        .catch(() => undefined);
    } else if (r < 0.98) {
      await db
        .command({ collMod: 'orders', index: { name: 'status_1', expireAfterSeconds: 3600 + this.n } })
        .catch(() => undefined);
    } else if (r < 0.99) {
      await orders.dropIndex('status_1').catch(() => undefined);
    } else {
      await db.collection('scratch').insertOne({ k: this.n });
      await db
        .collection('scratch')
        .rename(`scratch_${this.n}`)
        .catch(() => undefined);
    }
  }

  async recordInstant(): Promise<Instant> {
    const ts = (await newestOplogTs(this.client))!;
    const state: Record<string, string[]> = {};
    const meta: Record<string, string> = {};
    for (const c of await this.client.db(this.db).listCollections().toArray()) {
      const coll = this.client.db(this.db).collection(c.name);
      const docs = (await coll.find({}, { raw: true }).toArray()) as unknown as Uint8Array[];
      if (docs.length) state[`${this.db}.${c.name}`] = docs.map(rawHex).sort();
      meta[`${this.db}.${c.name}`] = metaKey(
        (c as { options?: Document }).options ?? {},
        await coll.listIndexes().toArray(),
      );
    }
    return { ts, state, meta };
  }
}

const rawHex = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

export function canonicalState(
  state: OfflineState,
  db: string,
): { state: Record<string, string[]>; meta: Record<string, string> } {
  const out: Record<string, string[]> = {};
  const meta: Record<string, string> = {};
  for (const [ns, c] of state) {
    if (!ns.startsWith(`${db}.`)) continue;
    if (c.docs.size) out[ns] = [...c.docs.values()].map(rawHex).sort();
    // Metadata decoded as the driver decodes listCollections/listIndexes, to compare with what it returned.
    meta[ns] = metaKey(
      deserialize(c.options),
      c.indexes.map((i) => deserialize(i)),
    );
  }
  return { state: out, meta };
}
