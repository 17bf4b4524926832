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
import { ApiError } from '../api/errors.js';
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

/** Reads an envelope from an open file: header first, then frames on demand. */
export class EnvelopeReader<H = Record<string, unknown>> {
  private constructor(
    private readonly fh: FileHandle,
    private readonly label: string,
    readonly info: EnvelopeHeader<H>,
    private readonly compression: ReturnType<typeof compressionFromCode>,
    private readonly headerSum: Buffer,
    private readonly prefix: Buffer | null,
    private readonly framesAt: number,
    private readonly size: number,
    private readonly key: Buffer | null,
  ) {}

  static async open<H>(fh: FileHandle, label: string, key: Buffer | null): Promise<EnvelopeReader<H>> {
    const size = (await fh.stat()).size;
    const corrupt = (why: string) => new ApiError('CORRUPT', `${label}: ${why}`);
    if (size < FIXED + HEADER_SUM) throw corrupt('file is too short to be a repository file.');
    const fixed = Buffer.alloc(FIXED);
    await fh.read(fixed, 0, FIXED, 0);
    if (!fixed.subarray(0, 4).equals(MAGIC)) throw corrupt('not a repository data file (bad magic).');
    if (fixed[4] !== CONTAINER_VERSION) throw corrupt(`unsupported container version ${fixed[4]}.`);
    const headerLen = fixed.readUInt32LE(8);
    if (FIXED + headerLen + HEADER_SUM > size) throw corrupt('header runs past the end of the file.');
    const rest = Buffer.alloc(headerLen + HEADER_SUM + NONCE_PREFIX_BYTES);
    await fh.read(rest, 0, rest.length, FIXED);
    const json = rest.subarray(0, headerLen);
    const sum = rest.subarray(headerLen, headerLen + HEADER_SUM);
    if (!createHash('sha256').update(fixed).update(json).digest().equals(sum)) {
      throw corrupt('header checksum mismatch.');
    }
    let header: H;
    try {
      header = JSON.parse(json.toString('utf8')) as H;
    } catch {
      throw corrupt('header is not valid JSON.');
    }
    const encrypted = fixed[7] === 1;
    if (fixed[7]! > 1) throw corrupt(`unknown encryption code ${fixed[7]}.`);
    const prefix = encrypted
      ? Buffer.from(rest.subarray(headerLen + HEADER_SUM, headerLen + HEADER_SUM + NONCE_PREFIX_BYTES))
      : null;
    const framesAt = FIXED + headerLen + HEADER_SUM + (encrypted ? NONCE_PREFIX_BYTES : 0);
    return new EnvelopeReader<H>(
      fh,
      label,
      { kind: fixed[5] as FileKind, encrypted, header },
      compressionFromCode(fixed[6]!),
      Buffer.from(sum),
      prefix,
      framesAt,
      size,
      key,
    );
  }

  /** Yields each frame's raw (decrypted, decompressed) bytes; CORRUPT on any defect. */
  async *frames(): AsyncGenerator<Buffer> {
    if (this.info.encrypted && !this.key) {
      throw new ApiError(
        'LOCKED',
        `${this.label}: the repository is encrypted; unlock it with its passphrase.`,
      );
    }
    let pos = this.framesAt;
    let index = 0;
    const head = Buffer.alloc(FRAME_HEAD);
    for (;;) {
      if (pos + FRAME_HEAD > this.size) {
        throw new ApiError('CORRUPT', `${this.label}: truncated (no final frame).`);
      }
      await this.fh.read(head, 0, FRAME_HEAD, pos);
      const storedLen = head.readUInt32LE(0);
      const rawLen = head.readUInt32LE(4);
      const flags = head[8]!;
      if (flags & ~FINAL || pos + FRAME_HEAD + storedLen > this.size || rawLen > 64 * FRAME_RAW_BYTES) {
        throw new ApiError('CORRUPT', `${this.label}: frame ${index} is damaged or truncated.`);
      }
      let stored: Buffer = Buffer.alloc(storedLen);
      await this.fh.read(stored, 0, storedLen, pos + FRAME_HEAD);
      if (this.info.encrypted && this.key && this.prefix) {
        stored = decryptFrame(
          this.key,
          this.prefix,
          index,
          frameAad(this.headerSum, index, flags),
          stored,
          this.label,
        );
      }
      yield decompressFrame(stored, this.compression, rawLen, `${this.label} frame ${index}`);
      pos += FRAME_HEAD + storedLen;
      index++;
      if (flags & FINAL) {
        if (pos !== this.size)
          throw new ApiError(
            'CORRUPT',
            `${this.label}: ${this.size - pos} unexpected bytes after the final frame.`,
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
