/**
 * A write workload for capture tests: inserts, $v:2 updates, replacements,
 * deletes, DDL (index builds on the non-empty collection, one that fails on a
 * duplicate, collMod, renames) and transactions, with a seeded PRNG. Documents
 * carry BSON types that JavaScript numbers blur (Double(2.0), Int64,
 * Decimal128) and fields named like numbers ("2024", "10") placed after
 * others, written as Maps so the order is the one sent. `recordInstant()`
 * reads the newest oplog ts and every document (canonical Extended JSON);
 * `recordRawInstant()` the same as raw BSON, to compare byte for byte.
 */
import { Decimal128, Double, EJSON, Long, deserialize, serialize } from 'bson';
import { parseDoc } from './reference-applier.js';
import type { Document, MongoClient } from 'mongodb';
import type { OfflineState } from '../../engine/restore/offline-state.js';
import { newestOplogTs } from '../../engine/source/snapshot.js';

export interface Instant {
  ts: { t: number; i: number };
  /** namespace -> canonical Extended JSON of each document, sorted. */
  state: Record<string, string[]>;
  /** namespace -> canonical Extended JSON of {options, indexes (sorted by name)}. */
  meta: Record<string, string>;
}

const metaKey = (options: Document, indexes: Document[]) =>
  EJSON.stringify(
    { options, indexes: [...indexes].sort((a, b) => String(a.name).localeCompare(String(b.name))) },
    { relaxed: false },
  );

/** An instant as raw BSON: namespace -> hex of each raw document, sorted; indexes as canonical EJSON. */
export interface RawInstant {
  ts: { t: number; i: number };
  docs: Record<string, string[]>;
  indexes: Record<string, string>;
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
export const indexKey = (indexes: Document[]) =>
  EJSON.stringify(
    [...indexes].sort((a, b) => String(a.name).localeCompare(String(b.name))),
    { relaxed: false },
  );

export interface WorkloadOptions {
  seed?: number;
  /** Rename collections now and then (a rename during a snapshot fails it, as with mongodump). */
  renames?: boolean;
  /** Also update and delete documents of this pre-filled collection. */
  bulk?: string;
  bulkSize?: number;
}

export class Workload {
  private n = 0;
  private rand: () => number;
  private readonly renames: boolean;
  constructor(
    private readonly client: MongoClient,
    readonly db: string,
    seedOrOptions: number | WorkloadOptions = 7,
  ) {
    const o = typeof seedOrOptions === 'number' ? { seed: seedOrOptions } : seedOrOptions;
    const seed = o.seed ?? 7;
    this.renames = o.renames ?? true;
    this.bulk = o.bulk ? { name: o.bulk, size: o.bulkSize ?? 0 } : null;
    let a = seed >>> 0;
    this.rand = () => {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = Math.imul(a ^ (a >>> 15), a | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  private readonly bulk: { name: string; size: number } | null;

  private pick<T>(xs: T[]): T {
    return xs[Math.floor(this.rand() * xs.length)]!;
  }

  /** A document whose types and field order JavaScript objects would lose. */
  private richDoc(id: number, qty: number): Map<string, unknown> {
    return new Map<string, unknown>([
      ['_id', id],
      ['qty', qty],
      ['price', new Double(2)],
      ['2024', Long.fromNumber(id * 1000)],
      ['tags', ['new']],
      ['meta', { v: 1 }],
      ['10', Decimal128.fromString(`${id}.10`)],
    ]);
  }

  /** Fills the bulk collection (before the test's snapshot). */
  async fillBulk(): Promise<void> {
    if (!this.bulk) return;
    const c = this.client.db(this.db).collection(this.bulk.name);
    for (let k = 0; k < this.bulk.size; k += 1000)
      await c.insertMany(
        Array.from({ length: Math.min(1000, this.bulk.size - k) }, (_, j) =>
          this.richDoc(k + j, j),
        ) as never[],
      );
  }

  async step(): Promise<void> {
    const db = this.client.db(this.db);
    const orders = db.collection<Document>('orders');
    const r = this.rand();
    const id = Math.floor(this.rand() * Math.max(1, this.n));
    if (this.bulk && this.rand() < 0.3) {
      // The big collection changes while a snapshot reads it.
      const bulk = db.collection(this.bulk.name);
      const b = Math.floor(this.rand() * this.bulk.size);
      if (this.rand() < 0.8)
        await bulk.updateOne(
          { _id: b as never },
          { $set: { 'meta.touched': this.n, price: new Double(this.n % 3) }, $inc: { qty: 1 } },
        );
      else await bulk.deleteOne({ _id: b as never });
      return;
    }
    if (r < 0.4 || this.n < 5) {
      await orders.insertOne(this.richDoc(this.n++, Math.floor(this.rand() * 10)) as never);
    } else if (r < 0.65) {
      await orders.updateOne(
        { _id: id as never },
        {
          $inc: { qty: 1 },
          $set: { 'meta.v': this.n, status: this.pick(['a', 'b', 'c']), price: new Double(this.n % 4) },
          $push: { tags: this.pick(['x', 'y']) } as never,
        },
      );
    } else if (r < 0.75) {
      // A replacement without `meta` (a later re-applied `meta.v` diff must not break on it).
      await orders.replaceOne(
        { _id: id as never },
        new Map<string, unknown>([
          ['qty', -1],
          ['replaced', true],
          ['2024', new Double(1)],
          ['10', Long.fromNumber(10)],
        ]) as never,
      );
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
      // DDL: an index built on the non-empty collection (two-phase), changed by collMod, later
      // dropped; a unique build that meets duplicates (aborted); renamed collections.
      await orders
        .createIndex({ status: 1 }, { name: 'status_1', expireAfterSeconds: 86_400 })
        .catch(() => undefined);
      if (this.rand() < 0.3)
        // Documents without `replaced` share the null key: the build meets a duplicate and aborts
        // (dropped again should it ever succeed, so later inserts keep working).
        await orders
          .createIndex({ replaced: 1 }, { name: 'replaced_1_unique', unique: true })
          .then(() => orders.dropIndex('replaced_1_unique'))
          .catch(() => undefined);
    } else if (r < 0.98) {
      await db
        .command({ collMod: 'orders', index: { name: 'status_1', expireAfterSeconds: 3600 + this.n } })
        .catch(() => undefined);
    } else if (r < 0.99) {
      await orders.dropIndex('status_1').catch(() => undefined);
    } else if (this.renames) {
      await db.collection('scratch').insertOne({ k: this.n });
      await db
        .collection('scratch')
        .rename(`scratch_${this.n}`)
        .catch(() => undefined);
    } else {
      await db.collection('scratch').insertOne({ k: this.n });
    }
  }

  /** Like recordInstant, with every document as raw BSON (exact types and field order). */
  async recordRawInstant(): Promise<RawInstant> {
    const ts = (await newestOplogTs(this.client))!;
    const docs: Record<string, string[]> = {};
    const indexes: Record<string, string> = {};
    for (const c of await this.client.db(this.db).listCollections().toArray()) {
      if (c.type === 'view') continue;
      const coll = this.client.db(this.db).collection(c.name);
      const raw = (await coll.find({}, { raw: true }).toArray()) as unknown as Uint8Array[];
      if (raw.length) docs[`${this.db}.${c.name}`] = raw.map(hex).sort();
      indexes[`${this.db}.${c.name}`] = indexKey(await coll.listIndexes().toArray());
    }
    return { ts, docs, indexes };
  }

  async recordInstant(): Promise<Instant> {
    const ts = (await newestOplogTs(this.client))!;
    const state: Record<string, string[]> = {};
    const meta: Record<string, string> = {};
    for (const c of await this.client.db(this.db).listCollections().toArray()) {
      const coll = this.client.db(this.db).collection(c.name);
      const docs = await coll.find({}).toArray();
      if (docs.length)
        state[`${this.db}.${c.name}`] = docs.map((d) => EJSON.stringify(d, { relaxed: false })).sort();
      meta[`${this.db}.${c.name}`] = metaKey(
        (c as { options?: Document }).options ?? {},
        await coll.listIndexes().toArray(),
      );
    }
    return { ts, state, meta };
  }
}

export function canonicalState(
  state: OfflineState,
  db: string,
): { state: Record<string, string[]>; meta: Record<string, string> } {
  const out: Record<string, string[]> = {};
  const meta: Record<string, string> = {};
  for (const [ns, c] of state) {
    if (!ns.startsWith(`${db}.`)) continue;
    if (c.docs.size)
      out[ns] = [...c.docs.values()]
        .map((d) => EJSON.stringify(deserialize(d, TYPED), { relaxed: false }))
        .sort();
    // Metadata decoded as the driver decodes listCollections/listIndexes, to compare with what it returned.
    meta[ns] = metaKey(
      deserialize(c.options),
      c.indexes.map((i) => deserialize(i)),
    );
  }
  return { state: out, meta };
}

/**
 * A rebuilt state in the same raw form. Documents that the engine holds as raw
 * bytes are taken as they are; decoded ones are serialized back as they are
 * (so a Double that became a number, or a field moved, shows).
 */
export function rawState(state: OfflineState, db: string): Omit<RawInstant, 'ts'> {
  const docs: Record<string, string[]> = {};
  const indexes: Record<string, string> = {};
  for (const [ns, c] of state) {
    if (!ns.startsWith(`${db}.`)) continue;
    const all = [...(c.docs.values() as Iterable<unknown>)].map((d) =>
      hex(d instanceof Uint8Array ? d : serialize(d as Document)),
    );
    if (all.length) docs[ns] = all.sort();
    indexes[ns] = indexKey(c.indexes.map((i) => deserialize(i)));
  }
  return { docs, indexes };
}

const TYPED = { promoteValues: false, promoteLongs: false } as const;

/** Readable differences between two raw states (empty when equal byte for byte). */
export function rawDifferences(actual: Omit<RawInstant, 'ts'>, expected: Omit<RawInstant, 'ts'>): string[] {
  const out: string[] = [];
  const show = (h: string) => {
    const raw = Buffer.from(h, 'hex');
    const fields = parseDoc(raw).fields.map(([f]) => f);
    return `${EJSON.stringify(deserialize(raw, TYPED), { relaxed: false })} fields ${fields.join(',')}`;
  };
  for (const ns of new Set([...Object.keys(actual.docs), ...Object.keys(expected.docs)])) {
    const a = new Set(actual.docs[ns] ?? []);
    const e = new Set(expected.docs[ns] ?? []);
    const missing = [...e].filter((h) => !a.has(h));
    const extra = [...a].filter((h) => !e.has(h));
    if (missing.length || extra.length)
      out.push(
        `${ns}: ${missing.length} missing or different, ${extra.length} extra; e.g. expected ${missing.slice(0, 1).map(show).join('')} got ${extra.slice(0, 1).map(show).join('')}`,
      );
  }
  for (const ns of new Set([...Object.keys(actual.indexes), ...Object.keys(expected.indexes)]))
    if (actual.indexes[ns] !== expected.indexes[ns])
      out.push(`${ns} indexes: expected ${expected.indexes[ns]} got ${actual.indexes[ns]}`);
  return out;
}
