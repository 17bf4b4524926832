/**
 * A sort in bounded memory, as mongod sorts with allowDiskUse (the default
 * since MongoDB 6.0): records (a sort key and a payload, both bytes) are
 * held until they reach the memory budget, then sorted and written to a
 * temporary run file; the output merges the runs. Memory stays at the
 * budget plus one read buffer per run, whatever the input.
 *
 * The sort is stable: records of equal keys come out in the order they
 * were added (runs are merged earliest first), which `$group` relies on for
 * `$first`, `$last` and `$push`. With `keep` (a sort followed by a limit)
 * only the best `keep` records are held, as mongod's top-k sort does.
 * With `allowDiskUse: false` a sort past the budget is refused, as mongod
 * refuses it (QueryExceededMemoryLimitNoDiskUseAllowed).
 *
 * Run files live in a temporary directory of the views directory, removed
 * when the output ends or is closed (a cursor closed early included); the
 * view cache removes those of processes that died.
 */
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { ApiError } from '../errors.js';

export interface SortRecord {
  key: Buffer;
  payload: Buffer;
}

export interface ExternalSortOptions {
  /** Bytes of records held before a run is written. */
  memoryBytes: number;
  /** Whether a run may be written (false: past the budget is refused). */
  allowDiskUse: boolean;
  /** The directory in which the temporary directory of runs is made. */
  dir: string;
  /** Only the first `keep` records in order are wanted. */
  keep?: number | undefined;
  /** What sorts, for the refusal's message ("Sort", "$group"). */
  what: string;
}

/**
 * Bytes of records a sort holds before it writes a run. mongod spills past 100 MB; a view is read
 * on a workstation beside the app, so less is held (MBM_SORT_MEMORY_MIB overrides it, the
 * bounded-memory tests make it small).
 */
const sortOverride = Number(process.env.MBM_SORT_MEMORY_MIB);
export const SORT_MEMORY_BYTES = (sortOverride > 0 ? sortOverride : 32) * 1024 * 1024;

/** Per record held, beyond its bytes (the record object, two Buffer headers). */
const RECORD_OVERHEAD = 160;
const READ_BUFFER = 64 * 1024;
const WRITE_CHUNK = 1 << 20;

/** The prefix of run directories: `.tmp-sort-<pid>-…` (view-cache.ts removes those of dead processes). */
export const SORT_TEMP_PREFIX = '.tmp-sort-';

export class ExternalSort {
  private held: SortRecord[] = [];
  private heldBytes = 0;
  private readonly runs: string[] = [];
  private tempDir: string | null = null;
  private done = false;

  constructor(
    private readonly compare: (a: Buffer, b: Buffer) => number,
    private readonly o: ExternalSortOptions,
  ) {}

  /** How many runs were written (0: the sort stayed in memory). */
  get spilled(): number {
    return this.runs.length;
  }

  add(key: Buffer, payload: Buffer): void {
    this.held.push({ key, payload });
    this.heldBytes += key.length + payload.length + RECORD_OVERHEAD;
    const keep = this.o.keep;
    if (keep !== undefined && this.held.length >= Math.max(2 * keep, 1024)) this.cut(keep);
    if (this.heldBytes > this.o.memoryBytes) {
      if (keep !== undefined && this.held.length > keep) this.cut(keep);
      if (this.heldBytes > this.o.memoryBytes) this.spill();
    }
  }

  /** The records in order; the temporary files are removed when it ends or is closed. */
  *sorted(): Generator<SortRecord> {
    try {
      this.sortHeld();
      if (this.runs.length === 0) {
        const held = this.held;
        if (this.o.keep !== undefined && held.length > this.o.keep) held.length = this.o.keep;
        this.held = [];
        yield* held;
        return;
      }
      if (this.held.length) this.spill();
      yield* this.merge();
    } finally {
      this.close();
    }
  }

  /** Removes the run files (also when the output was never read). */
  close(): void {
    if (this.done) return;
    this.done = true;
    this.held = [];
    if (this.tempDir) rmSync(this.tempDir, { recursive: true, force: true });
  }

  private sortHeld(): void {
    const cmp = this.compare;
    this.held.sort((a, b) => cmp(a.key, b.key));
  }

  private cut(keep: number): void {
    this.sortHeld();
    if (this.held.length > keep) this.held.length = keep;
    this.heldBytes = this.held.reduce((n, r) => n + r.key.length + r.payload.length + RECORD_OVERHEAD, 0);
  }

  private spill(): void {
    if (!this.o.allowDiskUse)
      throw new ApiError(
        'UNSUPPORTED',
        `${this.o.what} exceeded its memory limit of ${this.o.memoryBytes} bytes and allowDiskUse is false (mongod: QueryExceededMemoryLimitNoDiskUseAllowed): allow disk use, narrow the filter or add a limit.`,
        { reason: 'memory-limit', limitBytes: this.o.memoryBytes },
      );
    this.sortHeld();
    this.tempDir ??= mkdtempSync(join(this.o.dir, `${SORT_TEMP_PREFIX}${process.pid}-`));
    const path = join(this.tempDir, `run-${this.runs.length}`);
    const fd = openSync(path, 'wx', 0o600);
    try {
      let parts: Buffer[] = [];
      let size = 0;
      for (const r of this.held) {
        const head = Buffer.allocUnsafe(8);
        head.writeUInt32LE(r.key.length, 0);
        head.writeUInt32LE(r.payload.length, 4);
        parts.push(head, r.key, r.payload);
        size += 8 + r.key.length + r.payload.length;
        if (size >= WRITE_CHUNK) {
          writeSync(fd, Buffer.concat(parts, size));
          parts = [];
          size = 0;
        }
      }
      if (size) writeSync(fd, Buffer.concat(parts, size));
    } finally {
      closeSync(fd);
    }
    this.runs.push(path);
    this.held = [];
    this.heldBytes = 0;
  }

  private *merge(): Generator<SortRecord> {
    const readers = this.runs.map((p, k) => new RunReader(p, k));
    try {
      // A binary heap of the runs by their next record; equal keys: the earlier run first (stable).
      const heap = readers.filter((r) => r.advance());
      const less = (a: RunReader, b: RunReader) => {
        const c = this.compare(a.current!.key, b.current!.key);
        return c < 0 || (c === 0 && a.index < b.index);
      };
      const down = (at: number) => {
        for (;;) {
          const l = 2 * at + 1;
          const r = l + 1;
          let m = at;
          if (l < heap.length && less(heap[l]!, heap[m]!)) m = l;
          if (r < heap.length && less(heap[r]!, heap[m]!)) m = r;
          if (m === at) return;
          [heap[at], heap[m]] = [heap[m]!, heap[at]!];
          at = m;
        }
      };
      for (let k = (heap.length >> 1) - 1; k >= 0; k--) down(k);
      let sent = 0;
      while (heap.length) {
        const top = heap[0]!;
        yield top.current!;
        if (this.o.keep !== undefined && ++sent >= this.o.keep) return;
        if (!top.advance()) {
          heap[0] = heap[heap.length - 1]!;
          heap.pop();
        }
        down(0);
      }
    } finally {
      for (const r of readers) r.close();
    }
  }
}

/** One run file read back a buffer at a time. */
class RunReader {
  current: SortRecord | null = null;
  private readonly fd: number;
  private buf = Buffer.allocUnsafe(READ_BUFFER);
  private start = 0;
  private end = 0;
  private eof = false;

  constructor(
    path: string,
    readonly index: number,
  ) {
    this.fd = openSync(path, 'r');
  }

  /** Moves to the next record; false at the end of the run. */
  advance(): boolean {
    if (!this.fill(8)) {
      this.current = null;
      return false;
    }
    const kl = this.buf.readUInt32LE(this.start);
    const pl = this.buf.readUInt32LE(this.start + 4);
    if (!this.fill(8 + kl + pl)) throw new ApiError('CORRUPT', 'A temporary sort run ended early.');
    const at = this.start + 8;
    // Copies: the buffer is reused for the next records.
    this.current = {
      key: Buffer.from(this.buf.subarray(at, at + kl)),
      payload: Buffer.from(this.buf.subarray(at + kl, at + kl + pl)),
    };
    this.start = at + kl + pl;
    return true;
  }

  close(): void {
    closeSync(this.fd);
  }

  /** Whether `n` bytes are buffered from `start` (reading more, growing for a large record). */
  private fill(n: number): boolean {
    if (this.end - this.start >= n) return true;
    if (this.eof) return false;
    if (n > this.buf.length) {
      const bigger = Buffer.allocUnsafe(Math.max(n, 2 * this.buf.length));
      this.buf.copy(bigger, 0, this.start, this.end);
      this.buf = bigger;
    } else this.buf.copy(this.buf, 0, this.start, this.end);
    this.end -= this.start;
    this.start = 0;
    while (this.end < n && !this.eof) {
      const got = readSync(this.fd, this.buf, this.end, this.buf.length - this.end, null);
      if (got === 0) this.eof = true;
      this.end += got;
    }
    return this.end >= n;
  }
}
