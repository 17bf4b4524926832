/**
 * The container every data file in a repository uses (oplog segments and
 * snapshot collection files). Layout, all integers little-endian unless said:
 *
 *   0   "MBMF"                       magic
 *   4   u8  container version (1)
 *   5   u8  kind (1 oplog segment, 2 snapshot collection data)
 *   6   u8  compression (0 none, 1 zstd, 2 gzip)
 *   7   u8  encryption (0 none, 1 AES-256-GCM)
 *   8   u32 header length H
 *   12  H bytes of UTF-8 JSON header
 *   12+H  32 bytes SHA-256 of bytes [0, 12+H)      (header checksum)
 *   [encrypted: 8 bytes random nonce prefix]
 *   frames: u32 stored length | u32 raw length | u8 flags (1 = final) | stored bytes
 *
 * Stored bytes are the compressed raw chunk, then (if encrypted) AES-256-GCM
 * with nonce = prefix ‖ u32be(index) and AAD = header checksum ‖ u32be(index)
 * ‖ flags, tag appended. Exactly one frame, the last, has the final flag, so
 * truncation is always detected. docs/repository-format.md has the details.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { ApiError } from '../errors.js';
import {
  COMPRESSION_CODES,
  compressFrame,
  compressionFromCode,
  decompressFrame,
  type CompressionSettings,
} from './compression.js';
import { NONCE_PREFIX_BYTES, decryptFrame, encryptFrame } from './crypto.js';

export const MAGIC = Buffer.from('MBMF', 'ascii');
export const CONTAINER_VERSION = 1;
export const FRAME_RAW_BYTES = 1 << 20;
const FIXED = 12;
const HEADER_SUM = 32;
const FRAME_HEAD = 9;
const FINAL = 1;

export enum FileKind {
  OplogSegment = 1,
  CollectionData = 2,
}

export interface EnvelopeOptions {
  compression: CompressionSettings;
  /** The repository data key, or null for an unencrypted repository. */
  key: Buffer | null;
}

function frameAad(headerSum: Buffer, index: number, flags: number): Buffer {
  const a = Buffer.alloc(HEADER_SUM + 5);
  headerSum.copy(a, 0);
  a.writeUInt32BE(index, HEADER_SUM);
  a[HEADER_SUM + 4] = flags;
  return a;
}

/** Builds envelopes frame by frame; the caller writes the returned buffers in order. */
export class EnvelopeEncoder {
  private index = 0;
  private readonly prefix: Buffer | null;
  private readonly headerSum: Buffer;
  readonly preamble: Buffer;

  constructor(
    kind: FileKind,
    header: object,
    private readonly opts: EnvelopeOptions,
  ) {
    const json = Buffer.from(JSON.stringify(header), 'utf8');
    const fixed = Buffer.alloc(FIXED);
    MAGIC.copy(fixed, 0);
    fixed[4] = CONTAINER_VERSION;
    fixed[5] = kind;
    fixed[6] = COMPRESSION_CODES[opts.compression.algorithm];
    fixed[7] = opts.key ? 1 : 0;
    fixed.writeUInt32LE(json.length, 8);
    this.headerSum = createHash('sha256').update(fixed).update(json).digest();
    this.prefix = opts.key ? randomBytes(NONCE_PREFIX_BYTES) : null;
    this.preamble = Buffer.concat(
      this.prefix ? [fixed, json, this.headerSum, this.prefix] : [fixed, json, this.headerSum],
    );
  }

  frame(raw: Uint8Array, final: boolean): Buffer[] {
    const flags = final ? FINAL : 0;
    let stored = compressFrame(raw, this.opts.compression);
    if (this.opts.key && this.prefix) {
      stored = encryptFrame(
        this.opts.key,
        this.prefix,
        this.index,
        frameAad(this.headerSum, this.index, flags),
        stored,
      );
    }
    const head = Buffer.alloc(FRAME_HEAD);
    head.writeUInt32LE(stored.length, 0);
    head.writeUInt32LE(raw.length, 4);
    head[8] = flags;
    this.index++;
    return [head, stored];
  }
}

/** Encodes a whole payload held in memory (oplog segments). */
export function encodeEnvelope(
  kind: FileKind,
  header: object,
  payload: Uint8Array,
  opts: EnvelopeOptions,
): Buffer[] {
  const enc = new EnvelopeEncoder(kind, header, opts);
  const parts = [enc.preamble];
  if (payload.length === 0) parts.push(...enc.frame(payload, true));
  for (let off = 0; off < payload.length; off += FRAME_RAW_BYTES) {
    const end = Math.min(off + FRAME_RAW_BYTES, payload.length);
    parts.push(...enc.frame(payload.subarray(off, end), end === payload.length));
  }
  return parts;
}

export interface EnvelopeHeader<H> {
  kind: FileKind;
  encrypted: boolean;
  header: H;
}

/** Where an envelope's bytes come from: an open file (large snapshot data) or a buffer (segments). */
export interface ByteSource {
  size: number;
  read(length: number, position: number): Promise<Buffer> | Buffer;
}

export function bufferSource(buf: Buffer): ByteSource {
  return { size: buf.length, read: (length, position) => buf.subarray(position, position + length) };
}

export async function fileSource(fh: FileHandle): Promise<ByteSource> {
  const size = (await fh.stat()).size;
  return {
    size,
    read: async (length, position) => {
      const b = Buffer.alloc(length);
      const { bytesRead } = await fh.read(b, 0, length, position);
      return bytesRead === length ? b : b.subarray(0, bytesRead);
    },
  };
}

interface Preamble<H> {
  info: EnvelopeHeader<H>;
  compression: ReturnType<typeof compressionFromCode>;
  headerSum: Buffer;
  prefix: Buffer | null;
  framesAt: number;
}

/**
 * Parses and checks the fixed part and the header from the first bytes of a
 * file. Returns the number of bytes needed when `head` is too short.
 */
export function parsePreamble<H>(head: Buffer, size: number, label: string): Preamble<H> | number {
  const corrupt = (why: string) => new ApiError('CORRUPT', `${label}: ${why}`);
  if (size < FIXED + HEADER_SUM) throw corrupt('file is too short to be a repository file.');
  if (head.length < FIXED) return FIXED;
  if (!head.subarray(0, 4).equals(MAGIC)) throw corrupt('not a repository data file (bad magic).');
  if (head[4] !== CONTAINER_VERSION) throw corrupt(`unsupported container version ${head[4]}.`);
  const headerLen = head.readUInt32LE(8);
  if (FIXED + headerLen + HEADER_SUM > size) throw corrupt('header runs past the end of the file.');
  const encrypted = head[7] === 1;
  if (head[7]! > 1) throw corrupt(`unknown encryption code ${head[7]}.`);
  const framesAt = FIXED + headerLen + HEADER_SUM + (encrypted ? NONCE_PREFIX_BYTES : 0);
  if (head.length < framesAt) return framesAt;
  const json = head.subarray(FIXED, FIXED + headerLen);
  const sum = head.subarray(FIXED + headerLen, FIXED + headerLen + HEADER_SUM);
  if (
    !createHash('sha256')
      .update(head.subarray(0, FIXED + headerLen))
      .digest()
      .equals(sum)
  ) {
    throw corrupt('header checksum mismatch.');
  }
  let header: H;
  try {
    header = JSON.parse(json.toString('utf8')) as H;
  } catch {
    throw corrupt('header is not valid JSON.');
  }
  return {
    info: { kind: head[5] as FileKind, encrypted, header },
    compression: compressionFromCode(head[6]!),
    headerSum: Buffer.from(sum),
    prefix: encrypted ? Buffer.from(head.subarray(FIXED + headerLen + HEADER_SUM, framesAt)) : null,
    framesAt,
  };
}

/** Reads an envelope: header first (no key needed), then frames on demand. */
export class EnvelopeReader<H = Record<string, unknown>> {
  private constructor(
    private readonly src: ByteSource,
    private readonly label: string,
    private readonly pre: Preamble<H>,
    private readonly key: Buffer | null,
  ) {}

  get info(): EnvelopeHeader<H> {
    return this.pre.info;
  }

  static async open<H>(src: ByteSource, label: string, key: Buffer | null): Promise<EnvelopeReader<H>> {
    let want = 4096;
    for (;;) {
      const head = await src.read(Math.min(want, src.size), 0);
      const pre = parsePreamble<H>(head, src.size, label);
      if (typeof pre !== 'number') return new EnvelopeReader<H>(src, label, pre, key);
      if (pre <= head.length || head.length >= src.size)
        throw new ApiError('CORRUPT', `${label}: header runs past the end of the file.`);
      want = pre;
    }
  }

  /** Yields each frame's raw (decrypted, decompressed) bytes; CORRUPT on any defect. */
  async *frames(): AsyncGenerator<Buffer> {
    const { info, prefix, headerSum, compression } = this.pre;
    if (info.encrypted && !this.key) {
      throw new ApiError(
        'LOCKED',
        `${this.label}: the repository is encrypted; unlock it with its passphrase.`,
      );
    }
    const size = this.src.size;
    let pos = this.pre.framesAt;
    let index = 0;
    for (;;) {
      if (pos + FRAME_HEAD > size)
        throw new ApiError('CORRUPT', `${this.label}: truncated (no final frame).`);
      const head = await this.src.read(FRAME_HEAD, pos);
      const storedLen = head.readUInt32LE(0);
      const rawLen = head.readUInt32LE(4);
      const flags = head[8]!;
      if (flags & ~FINAL || pos + FRAME_HEAD + storedLen > size || rawLen > 64 * FRAME_RAW_BYTES) {
        throw new ApiError('CORRUPT', `${this.label}: frame ${index} is damaged or truncated.`);
      }
      let stored = await this.src.read(storedLen, pos + FRAME_HEAD);
      if (info.encrypted && this.key && prefix) {
        stored = decryptFrame(this.key, prefix, index, frameAad(headerSum, index, flags), stored, this.label);
      }
      yield decompressFrame(stored, compression, rawLen, `${this.label} frame ${index}`);
      pos += FRAME_HEAD + storedLen;
      index++;
      if (flags & FINAL) {
        if (pos !== size)
          throw new ApiError(
            'CORRUPT',
            `${this.label}: ${size - pos} unexpected bytes after the final frame.`,
          );
        return;
      }
    }
  }

  async readAll(): Promise<Buffer> {
    const parts: Buffer[] = [];
    for await (const f of this.frames()) parts.push(f);
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  }
}
