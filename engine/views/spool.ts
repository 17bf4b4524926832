/**
 * Documents written once and read several times ($facet feeds its input to
 * each of its pipelines): held in memory up to the budget, then appended to
 * a temporary file in the views directory (the external sort's temporary
 * directory naming, so the view cache removes those of dead processes) and
 * read back a buffer at a time. With allowDiskUse false, past the budget is
 * refused as mongod refuses it.
 */
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { ApiError } from '../errors.js';
import type { SpillOptions } from './stage-types.js';
import { SORT_TEMP_PREFIX } from './external-sort.js';

const CHUNK = 1 << 20;

export class Spool {
  private held: Buffer[] = [];
  private heldBytes = 0;
  private tempDir: string | null = null;
  private file: string | null = null;
  private fd: number | null = null;
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  constructor(
    private readonly o: SpillOptions,
    private readonly what: string,
  ) {}

  /** One BSON document (its own length prefix frames it in the file). */
  add(doc: Buffer): void {
    if (this.fd !== null) {
      this.write(doc);
      return;
    }
    this.held.push(doc);
    this.heldBytes += doc.length + 64;
    if (this.heldBytes <= this.o.memoryBytes) return;
    if (!this.o.allowDiskUse)
      throw new ApiError(
        'UNSUPPORTED',
        `${this.what} exceeded its memory limit of ${this.o.memoryBytes} bytes and allowDiskUse is false (mongod: QueryExceededMemoryLimitNoDiskUseAllowed).`,
        { reason: 'memory-limit', limitBytes: this.o.memoryBytes },
      );
    this.tempDir = mkdtempSync(join(this.o.dir, `${SORT_TEMP_PREFIX}${process.pid}-`));
    this.file = join(this.tempDir, 'spool');
    this.fd = openSync(this.file, 'wx', 0o600);
    for (const d of this.held) this.write(d);
    this.held = [];
    this.heldBytes = 0;
  }

  /** The documents in the order added; may be read again. */
  *read(): Generator<Buffer> {
    if (this.file === null) {
      yield* this.held;
      return;
    }
    this.flush();
    const fd = openSync(this.file, 'r');
    try {
      let buf = Buffer.allocUnsafe(CHUNK);
      let start = 0;
      let end = 0;
      let eof = false;
      const fill = (n: number): boolean => {
        if (end - start >= n) return true;
        if (n > buf.length) {
          const bigger = Buffer.allocUnsafe(Math.max(n, 2 * buf.length));
          buf.copy(bigger, 0, start, end);
          buf = bigger;
        } else buf.copy(buf, 0, start, end);
        end -= start;
        start = 0;
        while (end < n && !eof) {
          const got = readSync(fd, buf, end, buf.length - end, null);
          if (got === 0) eof = true;
          end += got;
        }
        return end >= n;
      };
      while (fill(4)) {
        const len = buf.readInt32LE(start);
        if (!fill(len)) throw new ApiError('CORRUPT', `A temporary ${this.what} file ended early.`);
        yield Buffer.from(buf.subarray(start, start + len));
        start += len;
      }
    } finally {
      closeSync(fd);
    }
  }

  close(): void {
    this.held = [];
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
    if (this.tempDir) rmSync(this.tempDir, { recursive: true, force: true });
    this.tempDir = null;
  }

  private write(doc: Buffer): void {
    this.pending.push(doc);
    this.pendingBytes += doc.length;
    if (this.pendingBytes >= CHUNK) this.flush();
  }

  private flush(): void {
    if (this.fd === null || !this.pending.length) return;
    writeSync(this.fd, Buffer.concat(this.pending, this.pendingBytes));
    this.pending = [];
    this.pendingBytes = 0;
  }
}
