/**
 * One file of an export being written: batched writes (documents are small,
 * syscalls are not), optional gzip, and fsync before the caller renames the
 * export into place. Export files live under a temporary name until the
 * whole export is complete, so nothing here needs a rename of its own.
 */
import { createWriteStream, fsyncSync, openSync, closeSync, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { createGzip, constants, type Gzip } from 'node:zlib';

const BATCH_BYTES = 1 << 20;
/** Fastest deflate: an export is written once and read once; mongorestore reads any level. */
export const EXPORT_GZIP_LEVEL = constants.Z_BEST_SPEED;

export class OutputFile {
  private parts: Uint8Array[] = [];
  private partBytes = 0;
  /** Uncompressed bytes written. */
  bytes = 0;

  private constructor(
    readonly path: string,
    private readonly file: WriteStream,
    private readonly head: WriteStream | Gzip,
  ) {
    const keep = (err: Error) => (this.failed ??= err);
    file.on('error', keep);
    head.on('error', keep);
  }

  private failed: Error | null = null;

  private check(): void {
    if (this.failed) throw this.failed;
  }

  static create(path: string, gzip: boolean): OutputFile {
    const file = createWriteStream(path, { flags: 'wx', mode: 0o644, highWaterMark: BATCH_BYTES });
    if (!gzip) return new OutputFile(path, file, file);
    const z = createGzip({ level: EXPORT_GZIP_LEVEL, chunkSize: 1 << 16 });
    z.pipe(file);
    return new OutputFile(path, file, z);
  }

  async write(buf: Uint8Array): Promise<void> {
    this.parts.push(buf);
    this.partBytes += buf.byteLength;
    this.bytes += buf.byteLength;
    if (this.partBytes >= BATCH_BYTES) await this.flush();
  }

  private async flush(): Promise<void> {
    if (this.partBytes === 0) return;
    const chunk = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts);
    this.parts = [];
    this.partBytes = 0;
    this.check();
    if (!this.head.write(chunk)) {
      // Wait for room, or for the file to close on an error (kept in this.failed); listeners are removed after.
      const ac = new AbortController();
      const opts = { signal: ac.signal };
      await Promise.race([once(this.head, 'drain', opts), once(this.file, 'close', opts)]).catch(() => {});
      ac.abort();
    }
    this.check();
  }

  /** Flushes, closes and fsyncs the file. */
  async close(): Promise<void> {
    await this.flush();
    const closed = once(this.file, 'close');
    this.head.end();
    await closed;
    this.check();
    const fd = openSync(this.path, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }

  /**
   * Stops writing and resolves once the file's descriptor is closed. A stream destroyed before its
   * asynchronous open finished still creates the file afterwards: removing the temp file before
   * 'close' could leave it behind (an aborted export's leftover).
   */
  abort(): Promise<void> {
    this.head.destroy();
    if (this.file.closed) return Promise.resolve();
    const closed = new Promise<void>((resolve) => this.file.once('close', () => resolve()));
    this.file.destroy();
    return closed;
  }
}
