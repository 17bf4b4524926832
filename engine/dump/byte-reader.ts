/**
 * Reads a byte stream (a file, or a gunzip of one) in pieces of known
 * length: BSON documents and the archive's 4-byte markers. A short read is
 * a truncated input and says so.
 */
import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { ApiError } from '../errors.js';

const GZIP_MAGIC = [0x1f, 0x8b];

export class ByteReader {
  private buf: Buffer = Buffer.alloc(0);
  private off = 0;
  private done = false;
  /** Bytes consumed so far (uncompressed), for progress and messages. */
  consumed = 0;

  constructor(
    private readonly chunks: AsyncIterator<Buffer>,
    readonly label: string,
  ) {}

  /** Opens a file, gunzipping it when it starts with the gzip magic bytes (or when told it is gzip). */
  static async open(path: string, label: string, gzip?: boolean): Promise<ByteReader> {
    const isGzip = gzip ?? (await startsWithGzip(path));
    const file = createReadStream(path, { highWaterMark: 1 << 20 });
    const stream = isGzip ? file.pipe(createGunzip()) : file;
    if (isGzip) file.on('error', (err) => stream.destroy(err));
    return new ByteReader(wrapErrors(stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>, label), label);
  }

  private async fill(n: number): Promise<boolean> {
    while (this.buf.length - this.off < n) {
      if (this.done) return false;
      const next = await this.chunks.next();
      if (next.done) {
        this.done = true;
        return false;
      }
      this.buf =
        this.off < this.buf.length ? Buffer.concat([this.buf.subarray(this.off), next.value]) : next.value;
      this.off = 0;
    }
    return true;
  }

  /** True at the end of the input. */
  async atEnd(): Promise<boolean> {
    return !(await this.fill(1));
  }

  async peekInt32(): Promise<number | null> {
    if (!(await this.fill(4))) return null;
    return this.buf.readInt32LE(this.off);
  }

  async take(n: number, what: string): Promise<Buffer> {
    if (!(await this.fill(n)))
      throw new ApiError(
        'INVALID_BSON',
        `${this.label}: truncated at byte ${this.consumed} (expected ${what}).`,
      );
    const out = this.buf.subarray(this.off, this.off + n);
    this.off += n;
    this.consumed += n;
    return out;
  }

  /** The next BSON document's bytes, with its length and final byte checked; null at the end. */
  async document(what: string): Promise<Uint8Array | null> {
    const len = await this.peekInt32();
    if (len === null) {
      if (this.buf.length - this.off > 0)
        throw new ApiError(
          'INVALID_BSON',
          `${this.label}: ${this.buf.length - this.off} trailing bytes (truncated ${what}).`,
        );
      return null;
    }
    if (len < 5 || len > 48 * 1024 * 1024)
      throw new ApiError(
        'INVALID_BSON',
        `${this.label}: impossible ${what} length ${len} at byte ${this.consumed}.`,
      );
    const doc = await this.take(len, what);
    if (doc[len - 1] !== 0)
      throw new ApiError(
        'INVALID_BSON',
        `${this.label}: ${what} at byte ${this.consumed - len} does not end with a 0 byte.`,
      );
    return doc;
  }
}

async function startsWithGzip(path: string): Promise<boolean> {
  const { open } = await import('node:fs/promises');
  const fh = await open(path, 'r');
  try {
    const head = Buffer.alloc(2);
    const { bytesRead } = await fh.read(head, 0, 2, 0);
    return bytesRead === 2 && head[0] === GZIP_MAGIC[0] && head[1] === GZIP_MAGIC[1];
  } finally {
    await fh.close();
  }
}

function wrapErrors(it: AsyncIterator<Buffer>, label: string): AsyncIterator<Buffer> {
  return {
    async next() {
      try {
        return await it.next();
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        if (e.code === 'ENOENT') throw new ApiError('NOT_FOUND', `${label} does not exist.`);
        if (e.code?.startsWith('Z_') || e.code === 'ERR_PADDING_1')
          throw new ApiError('INVALID_INPUT', `${label}: not valid gzip data (${e.message}).`);
        throw err;
      }
    },
  };
}
