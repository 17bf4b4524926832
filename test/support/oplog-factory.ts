/**
 * Builds oplog entries shaped like MongoDB 5.0+ writes them (field names and
 * BSON types as in ../shared/fixtures: ts Timestamp, t Long, v Long 2, wall
 * Date, ui UUID, o / o2). Used by tests and benchmarks that need many
 * realistic entries without a server.
 */
import { Binary, Long, ObjectId, Timestamp, UUID, serialize } from 'bson';
import type { OpTime } from '../../engine/repo/optime.js';

export interface FactoryOptions {
  /** First ts; entries advance several per second. */
  start: OpTime;
  /** Entries per second of `t` (default 1000). */
  perSecond?: number;
  /** Approximate size of inserted documents in bytes (default 1000). */
  docBytes?: number;
  seed?: number;
}

/** A tiny deterministic PRNG so runs are reproducible. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS =
  'order customer shipped pending invoice warehouse refund priority express standard region north south east west'.split(
    ' ',
  );

export class OplogFactory {
  private t: number;
  private i: number;
  private perSecond: number;
  private readonly docBytes: number;
  private readonly rand: () => number;
  private readonly ids: ObjectId[] = [];
  private readonly ui = new UUID();

  constructor(opts: FactoryOptions) {
    this.t = opts.start.t;
    this.i = opts.start.i;
    this.perSecond = opts.perSecond ?? 1000;
    this.docBytes = opts.docBytes ?? 1000;
    this.rand = mulberry32(opts.seed ?? 42);
  }

  /** Entries per second from now on (a quiet hour after a busy snapshot, say). */
  setRate(perSecond: number): void {
    this.perSecond = Math.max(1, Math.floor(perSecond));
    if (this.i > this.perSecond) {
      this.t++;
      this.i = 1;
    }
  }

  /** The ts the next entry will get. */
  get nextTs(): OpTime {
    return { t: this.t, i: this.i };
  }

  private advance(): OpTime {
    const ts = { t: this.t, i: this.i };
    this.i++;
    if (this.i > this.perSecond) {
      this.t++;
      this.i = 1;
    }
    return ts;
  }

  private text(n: number): string {
    let s = '';
    while (s.length < n) s += `${WORDS[Math.floor(this.rand() * WORDS.length)]} `;
    return s.slice(0, n);
  }

  private base(op: string, ts: OpTime) {
    return {
      op,
      ns: 'shop.orders',
      ui: this.ui,
      ts: new Timestamp({ t: ts.t, i: ts.i }),
      t: Long.fromNumber(7),
      v: Long.fromNumber(2),
      wall: new Date(ts.t * 1000 + (ts.i % 1000)),
    };
  }

  insert(): Uint8Array {
    const ts = this.advance();
    const _id = new ObjectId();
    this.ids.push(_id);
    const o = {
      _id,
      customer: `cust-${Math.floor(this.rand() * 100000)}`,
      total: Math.round(this.rand() * 100000) / 100,
      qty: Math.floor(this.rand() * 20),
      status: 'pending',
      createdAt: new Date(ts.t * 1000),
      notes: this.text(Math.max(0, this.docBytes - 200)),
      tags: [this.text(8), this.text(8)],
      blob: new Binary(Buffer.from(this.text(32))),
    };
    return serialize({ ...this.base('i', ts), o, o2: { _id } });
  }

  update(): Uint8Array {
    if (this.ids.length === 0) return this.insert();
    const ts = this.advance();
    const _id = this.ids[Math.floor(this.rand() * this.ids.length)]!;
    const o = {
      $v: 2,
      diff: {
        u: { status: 'shipped', qty: Math.floor(this.rand() * 20) },
        i: { shippedAt: new Date(ts.t * 1000) },
      },
    };
    return serialize({ ...this.base('u', ts), o, o2: { _id } });
  }

  delete(): Uint8Array {
    if (this.ids.length === 0) return this.insert();
    const ts = this.advance();
    const _id = this.ids.splice(Math.floor(this.rand() * this.ids.length), 1)[0]!;
    return serialize({ ...this.base('d', ts), o: { _id } });
  }

  noop(): Uint8Array {
    const ts = this.advance();
    return serialize({ ...this.base('n', ts), ns: '', o: { msg: 'periodic noop' } });
  }

  /** A realistic mix: 60% inserts, 30% $v:2 updates, 10% deletes. */
  mixed(n: number): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (let k = 0; k < n; k++) {
      const r = this.rand();
      out.push(r < 0.6 ? this.insert() : r < 0.9 ? this.update() : this.delete());
    }
    return out;
  }

  /** Skips ahead (simulates time passing with nothing captured). */
  skipSeconds(s: number): void {
    this.t += s;
    this.i = 1;
  }
}
