/**
 * Oplog entries read but not yet committed to the capture journal, copied
 * as they arrive into one reused buffer: nothing is kept per entry (no array
 * of views that would outlive the driver's reply and be promoted by the GC),
 * and the commit copies them, as one payload, into the journal file's
 * SegmentBytes, from where its record is written.
 */
import type { OpTime } from '../repo/optime.js';

const INITIAL_BYTES = 256 * 1024;

export class PendingEntries {
  private buf = Buffer.allocUnsafeSlow(INITIAL_BYTES);
  /** Bytes held. */
  bytes = 0;
  count = 0;
  first: OpTime | null = null;
  last: OpTime | null = null;
  /** Where the last entry starts (its `wall` is the recovery point's). */
  private lastAt = 0;

  append(doc: Uint8Array, ts: OpTime): void {
    const need = this.bytes + doc.byteLength;
    if (need > this.buf.length) {
      let size = this.buf.length * 2;
      while (size < need) size *= 2;
      const grown = Buffer.allocUnsafeSlow(size);
      this.buf.copy(grown, 0, 0, this.bytes);
      this.buf = grown;
    }
    this.buf.set(doc, this.bytes);
    this.lastAt = this.bytes;
    this.bytes = need;
    this.count++;
    this.first ??= ts;
    this.last = ts;
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
    this.first = this.last = null;
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
