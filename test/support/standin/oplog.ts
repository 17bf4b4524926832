/**
 * `local.oplog.rs` of the stand-in: strictly increasing timestamps (several
 * per second), entries stored as raw BSON, capped by entry count, and
 * waiters woken as soon as an entry arrives (for awaitData getMore).
 */
import { Long, Timestamp, type Document, type UUID } from 'bson';
import { serializeWithRaw } from './raw-value.js';
import { decodeBson } from './wire.js';

export interface OplogEntry {
  t: number;
  i: number;
  raw: Uint8Array;
  js: Document;
}

export const TERM = 1;

export class Oplog {
  readonly entries: OplogEntry[] = [];
  private lastT = 0;
  private lastI = 0;
  private waiters = new Set<() => void>();

  private bytes = 0;

  constructor(
    public maxEntries: number,
    public maxBytes = Infinity,
  ) {}

  nextTs(): { t: number; i: number } {
    const now = Math.floor(Date.now() / 1000);
    if (now > this.lastT) {
      this.lastT = now;
      this.lastI = 1;
    } else this.lastI++;
    return { t: this.lastT, i: this.lastI };
  }

  /**
   * Appends an entry; `fields` is everything but ts/t/wall/v, in MongoDB's field order;
   * `trailing` comes after them (a transaction entry's prevOpTime, as MongoDB writes it).
   */
  append(
    fields: {
      op: string;
      ns: string;
      ui?: UUID;
      o: Document;
      o2?: Document;
      [k: string]: unknown;
    },
    trailing: Document = {},
  ): OplogEntry {
    const ts = this.nextTs();
    const { op, ns, ui, o, o2, ...rest } = fields;
    const doc: Document = { ...rest, op, ns };
    if (ui) doc.ui = ui;
    doc.o = o;
    if (o2) doc.o2 = o2;
    doc.ts = new Timestamp({ t: ts.t, i: ts.i });
    doc.t = Long.fromNumber(TERM);
    doc.wall = new Date();
    doc.v = Long.fromNumber(2);
    Object.assign(doc, trailing);
    const raw = serializeWithRaw(doc);
    const entry = { ...ts, raw, js: decodeBson(raw) };
    this.entries.push(entry);
    this.bytes += raw.byteLength;
    // Capped like the real oplog: by size (bytes) and, for tests, by entry count. Like mongod's
    // truncate markers, a full oplog loses a chunk of its oldest entries (1/64 of the cap) at a
    // time, not one per write: dropping one entry from the front of a million-entry array at every
    // write would stall the event loop for seconds per batch. Caps under 64 entries stay exact.
    const n = this.entries.length;
    let drop =
      n > this.maxEntries ? Math.min(n - 1, n - this.maxEntries + Math.floor(this.maxEntries / 64)) : 0;
    let freed = 0;
    for (let k = 0; k < drop; k++) freed += this.entries[k]!.raw.byteLength;
    if (this.bytes - freed > this.maxBytes) {
      const target = this.maxBytes - this.maxBytes / 64;
      while (this.bytes - freed > target && drop < n - 1) freed += this.entries[drop++]!.raw.byteLength;
    }
    if (drop) {
      this.entries.splice(0, drop);
      this.bytes -= freed;
    }
    for (const w of this.waiters) w();
    this.waiters.clear();
    return entry;
  }

  /** Drops every entry older than ts (a test fault: the oplog rolled over). */
  trimTo(ts: { t: number; i: number }): void {
    const k = this.entries.findIndex((e) => e.t > ts.t || (e.t === ts.t && e.i >= ts.i));
    const removed = this.entries.splice(0, k < 0 ? this.entries.length : k);
    for (const e of removed) this.bytes -= e.raw.byteLength;
  }

  /** Resolves when a new entry arrives or after `ms`. */
  waitForNew(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.waiters.add(done);
    });
  }

  first(): OplogEntry | undefined {
    return this.entries[0];
  }
  last(): OplogEntry | undefined {
    return this.entries[this.entries.length - 1];
  }
}
