/**
 * A write workload for capture tests: inserts, $v:2 updates, replacements,
 * deletes, DDL and transactions, with a seeded PRNG. `recordInstant()` reads
 * the newest oplog ts and every document, so a test can later compare the
 * state rebuilt from backups at that exact point.
 */
import { EJSON } from 'bson';
import type { Document, MongoClient, Timestamp } from 'mongodb';

export interface Instant {
  ts: { t: number; i: number };
  /** namespace -> canonical Extended JSON of each document, sorted. */
  state: Record<string, string[]>;
}

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
    } else if (r < 0.97) {
      await db.collection('scratch').insertOne({ k: this.n });
    } else {
      await db
        .collection('scratch')
        .drop()
        .catch(() => undefined);
    }
  }

  async recordInstant(): Promise<Instant> {
    const [last] = await this.client
      .db('local')
      .collection('oplog.rs')
      .find({}, { projection: { ts: 1 } })
      .sort({ $natural: -1 })
      .limit(1)
      .toArray();
    const ts = last!.ts as Timestamp;
    const state: Record<string, string[]> = {};
    for (const c of await this.client.db(this.db).listCollections().toArray()) {
      const docs = await this.client.db(this.db).collection(c.name).find({}).toArray();
      if (docs.length)
        state[`${this.db}.${c.name}`] = docs.map((d) => EJSON.stringify(d, { relaxed: false })).sort();
    }
    return { ts: { t: ts.high, i: ts.low }, state };
  }
}

export function canonicalState(
  state: Map<string, Map<string, Document>>,
  db: string,
): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [ns, docs] of state) {
    if (!ns.startsWith(`${db}.`) || docs.size === 0) continue;
    out[ns] = [...docs.values()].map((d) => EJSON.stringify(d, { relaxed: false })).sort();
  }
  return out;
}
