/**
 * Oplog entries read but not yet committed to the capture journal, copied
 * as they arrive into one reused buffer: nothing is kept per entry (no array
 * of views that would outlive the driver's reply and be promoted by the GC),
 * and the commit copies them, as one payload, into the journal file's
 * SegmentBytes, from where its record is written. Beside the bytes, each
 * entry's ts and summary (oplog/entry-summary.ts), read as capture walked the
 * entry, go into a reused entry index (numbers, no object per entry), which
 * the commit hands on with the record so the incident finder's tail scan
 * need not parse the entries again.
 */
import { INDEX_WORDS } from '../oplog/entry-summary.js';
import type { OpTime } from '../repo/optime.js';

const INITIAL_BYTES = 256 * 1024;
const INITIAL_ENTRIES = 4096;

export class PendingEntries {
  private buf = Buffer.allocUnsafeSlow(INITIAL_BYTES);
  /** ts.t, ts.i and summary of each entry held (INDEX_WORDS per entry). */
  private index = new Uint32Array(INITIAL_ENTRIES * INDEX_WORDS);
  /** Bytes held. */
  bytes = 0;
  count = 0;
  /** Where the last entry starts (its `wall` is the recovery point's). */
  private lastAt = 0;

  /** Appends an entry with its ts (`t`, `i`) and summary. */
  append(doc: Uint8Array, t: number, i: number, summary: number): void {
    const need = this.bytes + doc.byteLength;
    if (need > this.buf.length) {
      let size = this.buf.length * 2;
      while (size < need) size *= 2;
      const grown = Buffer.allocUnsafeSlow(size);
      this.buf.copy(grown, 0, 0, this.bytes);
      this.buf = grown;
    }
    let w = this.count * INDEX_WORDS;
    if (w + INDEX_WORDS > this.index.length) {
      const grown = new Uint32Array(this.index.length * 2);
      grown.set(this.index.subarray(0, w));
      this.index = grown;
    }
    this.buf.set(doc, this.bytes);
    this.lastAt = this.bytes;
    this.bytes = need;
    this.count++;
    this.index[w++] = t;
    this.index[w++] = i;
    this.index[w] = summary;
  }

  private tsAt(k: number): OpTime | null {
    return k < 0 || k >= this.count
      ? null
      : { i: this.index[k * INDEX_WORDS + 1]!, t: this.index[k * INDEX_WORDS]! }; // key order as readEntryTs
  }

  /** The first entry's ts (null when empty). */
  get first(): OpTime | null {
    return this.tsAt(0);
  }

  /** The last entry's ts (null when empty). */
  get last(): OpTime | null {
    return this.tsAt(this.count - 1);
  }

  /** The entry index of what is held, copied (one allocation per commit, handed on with the record). */
  takeIndex(): Uint32Array {
    return this.index.slice(0, this.count * INDEX_WORDS);
  }

  /** Copies the entries to `dest` at `at` (the caller then clears). */
  copyTo(dest: Buffer, at: number): void {
    this.buf.copy(dest, at, 0, this.bytes);
  }

  /** Where the last entry starts, from the first byte of the entries. */
  get lastEntryAt(): number {
    return this.lastAt;
  }

  clear(): void {
    this.bytes = 0;
    this.count = 0;
    this.lastAt = 0;
  }
}

/**
 * The raw entries of the open journal file, in memory the seal worker reads without a copy (a
 * SharedArrayBuffer): each commit appends its record's payload here and writes it from here, and
 * the seal hands the whole to the worker as it is (no concatenation of the records at the cut).
 * Sized by the caller for a whole segment (a SharedArrayBuffer's pages take memory only once
 * written), so it rarely grows; when it does, it doubles.
 */
export class SegmentBytes {
  private buf: Buffer;
  length = 0;

  constructor(expectedBytes: number) {
    this.buf = Buffer.from(new SharedArrayBuffer(Math.max(INITIAL_BYTES, expectedBytes)));
  }

  /** Appends what `pending` holds; returns that record's payload (a view, valid until the next append). */
  appendFrom(pending: PendingEntries): Buffer {
    const need = this.length + pending.bytes;
    if (need > this.buf.length) {
      let size = this.buf.length * 2;
      while (size < need) size *= 2;
      const grown = Buffer.from(new SharedArrayBuffer(size));
      this.buf.copy(grown, 0, 0, this.length);
      this.buf = grown;
    }
    const at = this.length;
    pending.copyTo(this.buf, at);
    this.length = need;
    return this.buf.subarray(at, need);
  }

  /** Forgets the last record (its write failed: it is not in the file's durable prefix). */
  truncate(length: number): void {
    this.length = length;
  }

  /** Everything appended, as one view of the shared memory. */
  bytes(): Buffer {
    return this.buf.subarray(0, this.length);
  }
}
