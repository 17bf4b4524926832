/**
 * The container every data file in a repository uses (oplog segments and
 * snapshot collection files). Layout, all integers little-endian unless said:
 *
 *   0   "MBMF"                       magic
 *   4   u8  container version (2; 1 is still read)
 *   5   u8  kind (1 oplog segment, 2 snapshot collection data)
 *   6   u8  compression (0 none, 1 zstd, 2 gzip)
 *   7   u8  encryption (0 none, 1 AES-256-GCM)
 *   8   u32 header length H
 *   12  H bytes of UTF-8 JSON header
 *   12+H  32 bytes: the header tag over bytes [0, 12+H): SHA-256, or in an
 *         encrypted version-2 file HMAC-SHA256 under the header key
 *   [encrypted: version 2, 16 bytes random file salt; version 1, 8 bytes nonce prefix]
 *   frames: u32 stored length | u32 raw length | u8 flags (1 = final) | stored bytes
 *
 * Stored bytes are the compressed raw chunk, then (if encrypted) AES-256-GCM
 * with AAD = header tag ‖ u32be(index) ‖ flags, tag appended; version 2 uses
 * the file's own key (crypto.ts) and nonce = 8 zero bytes ‖ u32be(index).
 * Exactly one frame, the last, has the final flag, so truncation is always
 * detected. docs/repository-format.md has the details.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { ApiError } from '../errors.js';
import {
  COMPRESSION_CODES,
  compressFrame,
  compressionFromCode,
  decompressFrame,
  type CompressionSettings,
} from './compression.js';
import {
  FILE_SALT_BYTES,
  NONCE_PREFIX_BYTES,
  decryptFrame,
  encryptFrame,
  subkey,
  v1FileCipher,
  v2FileCipher,
  type FileCipher,
} from './crypto.js';

export const MAGIC = Buffer.from('MBMF', 'ascii');
export const CONTAINER_VERSION = 2;
export const FRAME_RAW_BYTES = 1 << 20;
/**
 * No frame's raw length may exceed this: writers cut frames at 1 MiB (a
 * snapshot frame ends on a document boundary, so it holds at most 1 MiB plus
 * one document of at most 16 MiB). It bounds the memory one frame can cost.
 */
export const MAX_FRAME_RAW_BYTES = 32 * FRAME_RAW_BYTES;
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

/** What the repository says about encryption, for readers: a file must agree with it. */
export interface RepoKeying {
  encrypted: boolean;
  /** The data key; null when the repository is not encrypted or still locked. */
  key: Buffer | null;
}

const headerKey = (dataKey: Buffer) => subkey(dataKey, 'mbm-header-mac-v2');

function headerTag(fixedAndJson: Buffer[], dataKey: Buffer | null): Buffer {
  const h = dataKey ? createHmac('sha256', headerKey(dataKey)) : createHash('sha256');
  for (const b of fixedAndJson) h.update(b);
  return h.digest();
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
  private readonly cipher: FileCipher | null;
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
    this.headerSum = headerTag([fixed, json], opts.key);
    const salt = opts.key ? randomBytes(FILE_SALT_BYTES) : null;
    this.cipher = opts.key && salt ? v2FileCipher(opts.key, salt) : null;
    this.preamble = Buffer.concat(salt ? [fixed, json, this.headerSum, salt] : [fixed, json, this.headerSum]);
  }

  frame(raw: Uint8Array, final: boolean): Buffer[] {
    return this.compressedFrame(compressFrame(raw, this.opts.compression), raw.length, final);
  }

  /**
   * A frame whose raw chunk is already compressed (with this envelope's compression): the seal
   * worker compresses while the payload's SHA-256, which the header needs, is still being taken.
   */
  compressedFrame(compressed: Buffer, rawLength: number, final: boolean): Buffer[] {
    const flags = final ? FINAL : 0;
    let stored = compressed;
    if (this.cipher) {
      stored = encryptFrame(this.cipher, this.index, frameAad(this.headerSum, this.index, flags), stored);
    }
    const head = Buffer.alloc(FRAME_HEAD);
    head.writeUInt32LE(stored.length, 0);
    head.writeUInt32LE(rawLength, 4);
    head[8] = flags;
    this.index++;
    return [head, stored];
  }
}

/** A payload cut into the frames an envelope holds (FRAME_RAW_BYTES each, at least one). */
export function frameChunks(payload: Uint8Array): Uint8Array[] {
  if (payload.length === 0) return [payload];
  const out: Uint8Array[] = [];
  for (let off = 0; off < payload.length; off += FRAME_RAW_BYTES)
    out.push(payload.subarray(off, Math.min(off + FRAME_RAW_BYTES, payload.length)));
  return out;
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
  version: number;
  compression: ReturnType<typeof compressionFromCode>;
  headerSum: Buffer;
  /** How frames are decrypted; null when the file is not encrypted or no key was given. */
  cipher: FileCipher | null;
  /** The header was checked with the key (an encrypted version-2 file read with its key). */
  authenticated: boolean;
  framesAt: number;
}

/**
 * Parses and checks the fixed part and the header from the first bytes of a
 * file. Returns the number of bytes needed when `head` is too short. A file
 * must agree with its repository: a plaintext file in an encrypted
 * repository is CORRUPT (it could have been planted without the key), an
 * encrypted file in a repository that says it is not encrypted is CONFLICT
 * (someone switched encryption off in repository.json).
 */
export function parsePreamble<H>(
  head: Buffer,
  size: number,
  label: string,
  repo: RepoKeying,
): Preamble<H> | number {
  const corrupt = (why: string) => new ApiError('CORRUPT', `${label}: ${why}`);
  if (size < FIXED + HEADER_SUM) throw corrupt('file is too short to be a repository file.');
  if (head.length < FIXED) return FIXED;
  if (!head.subarray(0, 4).equals(MAGIC)) throw corrupt('not a repository data file (bad magic).');
  const version = head[4]!;
  if (version !== 1 && version !== 2) throw corrupt(`unsupported container version ${version}.`);
  const headerLen = head.readUInt32LE(8);
  if (FIXED + headerLen + HEADER_SUM > size) throw corrupt('header runs past the end of the file.');
  if (head[7]! > 1) throw corrupt(`unknown encryption code ${head[7]}.`);
  const encrypted = head[7] === 1;
  if (repo.encrypted && !encrypted)
    throw corrupt('not encrypted, in an encrypted repository (a file planted without the key?).');
  if (!repo.encrypted && encrypted)
    throw new ApiError(
      'CONFLICT',
      `${label} is encrypted but repository.json says the repository is not: encryption was switched off in repository.json; restore its "encryption" section.`,
    );
  const saltBytes = encrypted ? (version === 1 ? NONCE_PREFIX_BYTES : FILE_SALT_BYTES) : 0;
  const framesAt = FIXED + headerLen + HEADER_SUM + saltBytes;
  if (head.length < framesAt) return framesAt;
  const fixedAndJson = head.subarray(0, FIXED + headerLen);
  const sum = head.subarray(FIXED + headerLen, FIXED + headerLen + HEADER_SUM);
  const keyed = encrypted && version === 2;
  let authenticated = false;
  if (!keyed) {
    if (!headerTag([fixedAndJson], null).equals(sum)) throw corrupt('header checksum mismatch.');
  } else if (repo.key) {
    if (!timingSafeEqual(headerTag([fixedAndJson], repo.key), sum))
      throw corrupt('header fails authentication (tampered or damaged).');
    authenticated = true;
  }
  let header: H;
  try {
    header = JSON.parse(head.subarray(FIXED, FIXED + headerLen).toString('utf8')) as H;
  } catch {
    throw corrupt('header is not valid JSON.');
  }
  const salt = encrypted ? Buffer.from(head.subarray(FIXED + headerLen + HEADER_SUM, framesAt)) : null;
  return {
    info: { kind: head[5] as FileKind, encrypted, header },
    version,
    compression: compressionFromCode(head[6]!),
    headerSum: Buffer.from(sum),
    cipher:
      salt && repo.key ? (version === 1 ? v1FileCipher(repo.key, salt) : v2FileCipher(repo.key, salt)) : null,
    authenticated,
    framesAt,
  };
}

/** One frame's head, checked against the limits before anything is read or allocated. */
function frameHead(head: Buffer, pos: number, size: number, index: number, label: string) {
  const storedLen = head.readUInt32LE(0);
  const rawLen = head.readUInt32LE(4);
  const flags = head[8]!;
  if (flags & ~FINAL || pos + FRAME_HEAD + storedLen > size || rawLen > MAX_FRAME_RAW_BYTES) {
    throw new ApiError('CORRUPT', `${label}: frame ${index} is damaged or truncated.`);
  }
  return { storedLen, rawLen, flags };
}

/**
 * Authenticates the header of an encrypted version-1 file, whose header is
 * only checksummed, by decrypting its first frame: that frame's AAD holds the
 * header checksum, so it only authenticates if the header is the one that was
 * written. Costs one frame (about 1 MiB) instead of the whole file.
 */
export function authenticateByFirstFrame<H>(
  pre: Preamble<H>,
  read: (length: number, position: number) => Buffer,
  size: number,
  label: string,
): void {
  if (!pre.info.encrypted || pre.authenticated || !pre.cipher) return;
  const pos = pre.framesAt;
  if (pos + FRAME_HEAD > size) throw new ApiError('CORRUPT', `${label}: truncated (no final frame).`);
  const { storedLen, flags } = frameHead(read(FRAME_HEAD, pos), pos, size, 0, label);
  decryptFrame(pre.cipher, 0, frameAad(pre.headerSum, 0, flags), read(storedLen, pos + FRAME_HEAD), label);
  pre.authenticated = true;
}

/** Reads an envelope: header first (no key needed), then frames on demand. */
export class EnvelopeReader<H = Record<string, unknown>> {
  private constructor(
    private readonly src: ByteSource,
    private readonly label: string,
    private readonly pre: Preamble<H>,
  ) {}

  get info(): EnvelopeHeader<H> {
    return this.pre.info;
  }

  static async open<H>(src: ByteSource, label: string, repo: RepoKeying): Promise<EnvelopeReader<H>> {
    let want = 4096;
    for (;;) {
      const head = await src.read(Math.min(want, src.size), 0);
      const pre = parsePreamble<H>(head, src.size, label, repo);
      if (typeof pre !== 'number') return new EnvelopeReader<H>(src, label, pre);
      if (pre <= head.length || head.length >= src.size)
        throw new ApiError('CORRUPT', `${label}: header runs past the end of the file.`);
      want = pre;
    }
  }

  /**
   * Yields each frame's raw (decrypted, decompressed) bytes; CORRUPT on any
   * defect. `maxRawBytes` bounds the whole payload (a segment's header says
   * how large it is): a frame that would pass it is refused before it is read.
   */
  async *frames(maxRawBytes = Number.MAX_SAFE_INTEGER): AsyncGenerator<Buffer> {
    const { info, cipher, headerSum, compression } = this.pre;
    if (info.encrypted && !cipher) {
      throw new ApiError(
        'LOCKED',
        `${this.label}: the repository is encrypted; unlock it with its passphrase.`,
      );
    }
    const size = this.src.size;
    let pos = this.pre.framesAt;
    let index = 0;
    let total = 0;
    for (;;) {
      if (pos + FRAME_HEAD > size)
        throw new ApiError('CORRUPT', `${this.label}: truncated (no final frame).`);
      const { storedLen, rawLen, flags } = frameHead(
        await this.src.read(FRAME_HEAD, pos),
        pos,
        size,
        index,
        this.label,
      );
      total += rawLen;
      if (total > maxRawBytes)
        throw new ApiError(
          'CORRUPT',
          `${this.label}: frames hold more than the ${maxRawBytes} bytes declared.`,
        );
      let stored = await this.src.read(storedLen, pos + FRAME_HEAD);
      if (cipher) stored = decryptFrame(cipher, index, frameAad(headerSum, index, flags), stored, this.label);
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

  async readAll(maxRawBytes?: number): Promise<Buffer> {
    const parts: Buffer[] = [];
    for await (const f of this.frames(maxRawBytes)) parts.push(f);
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  }
}
