/**
 * The capture journal (repository format 3): one append-only file per future
 * segment, `sources/<id>/journal/<firstT>-<firstI>.jnl`, holding the raw oplog
 * entries capture has read, in records that are written and fsynced together
 * (group commit). An entry counts as captured once its record is durable; the
 * file is sealed into the segment of the same first ts later, off the capture
 * path, and removed once that segment is durable and in the catalog.
 *
 *   0   "MBMJ"                 magic
 *   4   u8  journal version (1)
 *   5   u8  encryption (0 none, 1 AES-256-GCM)
 *   6   u16 0
 *   8   u32 header length H
 *   12  H bytes of UTF-8 JSON header
 *   12+H  32 bytes header tag: SHA-256 of [0, 12+H), or HMAC-SHA256 under the journal header key
 *   [encrypted: 16 bytes random salt of this file]
 *   records: u32 S | u32 n | u32 head check | S stored bytes | [plain: 32 bytes SHA-256]
 *
 * No compression: a journal lives seconds, and its write must cost nothing
 * beside the fsync. The checks, the torn/damaged rule and the nonce rule are
 * in docs/repository-format.md ("The capture journal").
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { closeSync, fstatSync, readSync } from 'node:fs';
import { unlink, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ApiError } from '../errors.js';
import { readEntryTs, splitBsonDocuments } from './bson-entries.js';
import {
  FILE_SALT_BYTES,
  TAG_BYTES,
  decryptFrame,
  encryptFrame,
  subkey,
  v2FileCipher,
  type FileCipher,
} from './crypto.js';
import { ensureDirDurable, fsyncDir } from './durable-file.js';
import { compareOpTime, formatOpTime, isOpTime, type OpTime } from './optime.js';
import { openRepoFileSync } from './repo-file.js';
import type { Repository } from './repository.js';

export const JOURNAL_FORMAT_VERSION = 1;
export const JOURNAL_NAME = /^(\d+)-(\d+)\.jnl$/;
const MAGIC = Buffer.from('MBMJ', 'ascii');
const FIXED = 12;
const HEADER_TAG = 32;
const RECORD_HEAD = 12;
const PLAIN_SUM = 32;
/** A journal holds one segment's worth of entries (at most 320 MiB, as a segment); more is damage. */
const MAX_JOURNAL_BYTES = 384 * 1024 * 1024;
const JOURNAL_KEY_INFO = 'mbm-journal-key-v1';
const JOURNAL_HEADER_MAC = 'mbm-journal-header-mac-v1';

export interface JournalHeader {
  type: 'capture-journal';
  formatVersion: number;
  sourceId: string;
  /** The ts of the file's first entry (also its name). */
  firstTs: OpTime;
  /** The chain link of the segment this file becomes: the last ts before it, or null after a gap. */
  prevLastTs: OpTime | null;
  createdAt: string;
}

export function journalDir(sourceId: string): string {
  return join('sources', sourceId, 'journal');
}

export function journalRelPath(sourceId: string, firstTs: OpTime): string {
  return join(journalDir(sourceId), `${firstTs.t}-${firstTs.i}.jnl`);
}

export const isJournalPath = (relPath: string): boolean => relPath.endsWith('.jnl');

/**
 * Journal files this process appends to now, or has closed and is sealing: start-up recovery and
 * rebuild never seal these (the capture that owns them does).
 */
const appending = new Set<string>();
export const isJournalOpenHere = (absPath: string): boolean => appending.has(absPath) || sealing.has(absPath);
const sealing = new Set<string>();
/** Marks a closed journal file as this process's to seal (true) or no longer (false). */
export function holdJournal(absPath: string, held: boolean): void {
  if (held) sealing.add(absPath);
  else sealing.delete(absPath);
}

function headerTag(bytes: Buffer, dataKey: Buffer | null): Buffer {
  return dataKey
    ? createHmac('sha256', subkey(dataKey, JOURNAL_HEADER_MAC)).update(bytes).digest()
    : createHash('sha256').update(bytes).digest();
}

const be32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n, 0);
  return b;
};

/** The 4-byte check of a record head: a flipped length is told apart from a torn tail. */
function headCheck(index: number, head8: Buffer): number {
  return createHash('sha256').update(be32(index)).update(head8).digest().readUInt32LE(0);
}

function recordAad(tag: Buffer, index: number, head: Buffer): Buffer {
  return Buffer.concat([tag, be32(index), head]);
}

/**
 * Appends records to one journal file. Never reopened after a restart or a failed write: a new
 * file (with a new random salt, hence a new key) is started instead, so a (key, nonce) pair is
 * never used twice even when a torn record's index is written again.
 */
export class JournalWriter {
  private index = 0;
  bytes: number;
  count = 0;
  private failed = false;

  private constructor(
    readonly repo: Repository,
    readonly relPath: string,
    readonly header: JournalHeader,
    private readonly fh: FileHandle,
    private readonly tag: Buffer,
    private readonly cipher: FileCipher | null,
    preambleBytes: number,
  ) {
    this.bytes = preambleBytes;
  }

  /** Creates the file with its header, durably (file and directory entry fsynced). */
  static async create(
    repo: Repository,
    sourceId: string,
    firstTs: OpTime,
    prevLastTs: OpTime | null,
  ): Promise<JournalWriter> {
    const key = repo.key();
    await repo.upgradeFormat(); // a journal is format 3: an older app must refuse the repository
    const header: JournalHeader = {
      type: 'capture-journal',
      formatVersion: JOURNAL_FORMAT_VERSION,
      sourceId,
      firstTs,
      prevLastTs,
      createdAt: new Date().toISOString(),
    };
    const json = Buffer.from(JSON.stringify(header), 'utf8');
    const fixed = Buffer.alloc(FIXED);
    MAGIC.copy(fixed, 0);
    fixed[4] = JOURNAL_FORMAT_VERSION;
    fixed[5] = key ? 1 : 0;
    fixed.writeUInt32LE(json.length, 8);
    const tag = headerTag(Buffer.concat([fixed, json]), key);
    const salt = key ? randomBytes(FILE_SALT_BYTES) : null;
    const preamble = Buffer.concat(salt ? [fixed, json, tag, salt] : [fixed, json, tag]);
    const relPath = journalRelPath(sourceId, firstTs);
    const abs = repo.abs(relPath);
    ensureDirDurable(dirname(abs));
    const fh = await openNewJournal(repo, abs, relPath);
    try {
      await writeAll(fh, [preamble]);
      await fh.datasync();
      fsyncDir(dirname(abs));
    } catch (err) {
      await fh.close().catch(() => undefined);
      // Nothing in it is durable: removed, so that the retry (from the same entry) can create it.
      await unlink(abs).catch(() => undefined);
      throw err;
    }
    appending.add(abs);
    const cipher = key && salt ? v2FileCipher(key, salt, JOURNAL_KEY_INFO) : null;
    return new JournalWriter(repo, relPath, header, fh, tag, cipher, preamble.length);
  }

  /**
   * Appends one record holding `payload` (`n` concatenated raw entries) and makes it durable.
   * After a failure the writer refuses more: the caller abandons the file (its durable prefix is
   * still sealed) and starts a new one.
   */
  async append(payload: Buffer, n: number): Promise<void> {
    if (this.failed) throw new ApiError('INTERNAL', `${this.relPath}: appended to after a failed write.`);
    const stored = this.cipher ? null : payload;
    const head8 = Buffer.alloc(8);
    head8.writeUInt32LE(this.cipher ? payload.length + TAG_BYTES : payload.length, 0);
    head8.writeUInt32LE(n, 4);
    const head = Buffer.alloc(RECORD_HEAD);
    head8.copy(head, 0);
    head.writeUInt32LE(headCheck(this.index, head8), 8);
    const parts: Buffer[] = [head];
    if (this.cipher) {
      parts.push(encryptFrame(this.cipher, this.index, recordAad(this.tag, this.index, head), payload));
    } else {
      parts.push(stored!);
      parts.push(createHash('sha256').update(be32(this.index)).update(head).update(payload).digest());
    }
    try {
      await writeAll(this.fh, parts);
      await this.fh.datasync();
    } catch (err) {
      this.failed = true;
      throw err;
    }
    this.index++;
    this.count += n;
    this.bytes += parts.reduce((s, p) => s + p.length, 0);
  }

  async close(): Promise<void> {
    appending.delete(this.repo.abs(this.relPath));
    await this.fh.close().catch(() => undefined);
  }
}

/**
 * Opens a new journal file. One of that name is left when this run's earlier attempt failed after
 * creating it (a full disk: its header, or its first record, not written): capture then retries
 * from the durable tip, so from the same first entry and the same name, and would meet EEXIST for
 * as long as it runs. Such a file holds no record, and is replaced; any other is kept (EEXIST).
 */
async function openNewJournal(repo: Repository, abs: string, relPath: string): Promise<FileHandle> {
  try {
    return await repo.io.open(abs, 'wx', 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || isJournalOpenHere(abs)) throw err;
    let empty = false;
    try {
      empty = readJournal(repo, relPath).count === 0;
    } catch {
      // Unreadable: kept for start-up recovery to judge.
    }
    if (!empty) throw err;
    await unlink(abs);
    return repo.io.open(abs, 'wx', 0o600);
  }
}

async function writeAll(fh: FileHandle, parts: Buffer[]): Promise<void> {
  const expected = parts.reduce((n, p) => n + p.length, 0);
  const { bytesWritten } = await fh.writev(parts);
  if (bytesWritten === expected) return;
  let skip = bytesWritten;
  for (const p of parts) {
    if (skip >= p.length) {
      skip -= p.length;
      continue;
    }
    let off = skip;
    skip = 0;
    while (off < p.length) off += (await fh.write(p, off)).bytesWritten;
  }
}

export interface JournalScan {
  path: string;
  /** Null only when the file ends inside its own header (a crash while creating it: no entries). */
  header: JournalHeader | null;
  /** The valid prefix: each record's raw entries, concatenated (views into the file's bytes). */
  payloads: Buffer[];
  count: number;
  firstTs: OpTime | null;
  lastTs: OpTime | null;
  /** Bytes of the file that hold the valid prefix. */
  validBytes: number;
  fileBytes: number;
  /**
   * `clean`: every byte is part of a valid record. `torn`: the file ends inside a record (or in
   * zeros), as a crash during an append leaves it: that record was never acknowledged, it is
   * dropped. `damaged`: a complete record fails its check (a bit flip, an edit): the valid prefix
   * is kept and everything from there on is not trusted, never skipped over silently.
   */
  end: 'clean' | 'torn' | 'damaged';
  damage: string | null;
  /**
   * Where each record read by this call ends, in order: a reader that follows a growing journal
   * (the incident finder's tail scan) passes one back as `from` and reads only what came after.
   */
  positions: JournalPosition[];
  /** Whether this call went on from the `from` it was given (false: it read the file from its start). */
  resumed: boolean;
}

/** A record boundary in a journal, with what the records before it held. */
export interface JournalPosition {
  bytes: number;
  records: number;
  count: number;
  firstTs: OpTime | null;
  lastTs: OpTime | null;
}

/**
 * Reads and checks a journal file; CORRUPT when its header is damaged (nothing in it can be trusted).
 * With `from` (a position an earlier call returned for this file), the header is checked again and
 * only the records after it are read: `payloads` then holds just those, the counts are the whole
 * file's. A `from` the file cannot have (it is shorter, or was replaced) reads it from the start.
 */
export function readJournal(repo: Repository, relPath: string, from?: JournalPosition): JournalScan {
  const key = repo.key(); // LOCKED before reading anything of an encrypted repository
  // `buf` holds the file's bytes, or its header then the bytes from `from.bytes` on: the bytes at
  // file offset `pos` (past the header) are at `pos - skipped`.
  const { buf, skipped, size } = readFileOrTail(repo.abs(relPath), relPath, from?.bytes);
  const at = (pos: number) => pos - skipped;
  const corrupt = (why: string) => new ApiError('CORRUPT', `${relPath}: ${why}`);
  const scan: JournalScan = {
    path: relPath,
    header: null,
    payloads: [],
    count: 0,
    firstTs: null,
    lastTs: null,
    validBytes: 0,
    fileBytes: size,
    end: 'torn',
    damage: null,
    positions: [],
    resumed: false,
  };
  if (buf.length < FIXED) return scan;
  if (!buf.subarray(0, 4).equals(MAGIC)) throw corrupt('not a capture journal (bad magic).');
  if (buf[4]! > JOURNAL_FORMAT_VERSION) throw corrupt(`journal version ${buf[4]} is newer than supported.`);
  const encrypted = buf[5] === 1;
  if (buf[5]! > 1 || buf[6] !== 0 || buf[7] !== 0) throw corrupt('unknown journal flags.');
  if (encrypted !== repo.encrypted)
    throw encrypted
      ? new ApiError(
          'CONFLICT',
          `${relPath} is encrypted, but repository.json says the repository is not: encryption was switched off in repository.json; restore its "encryption" section.`,
        )
      : corrupt('not encrypted in an encrypted repository (it could have been planted without the key).');
  const h = buf.readUInt32LE(8);
  const framesAt = FIXED + h + HEADER_TAG + (encrypted ? FILE_SALT_BYTES : 0);
  if (h > 1 << 20) throw corrupt('header is too large.');
  if (buf.length < framesAt) return scan; // a crash while the file was being created
  const tag = buf.subarray(FIXED + h, FIXED + h + HEADER_TAG);
  if (!timingSafeEqual(headerTag(buf.subarray(0, FIXED + h), key), tag))
    throw corrupt(
      encrypted ? 'header fails authentication (tampered or damaged).' : 'header checksum mismatch.',
    );
  let header: JournalHeader;
  try {
    header = JSON.parse(buf.subarray(FIXED, FIXED + h).toString('utf8')) as JournalHeader;
  } catch {
    throw corrupt('header is not valid JSON.');
  }
  checkHeader(header, relPath);
  scan.header = header;
  const cipher = encrypted
    ? v2FileCipher(key!, buf.subarray(FIXED + h + HEADER_TAG, framesAt), JOURNAL_KEY_INFO)
    : null;
  let pos = framesAt;
  let first = 0;
  let prev = header.prevLastTs;
  if (skipped > 0) {
    // Only a header as long as it was then, and a `from` inside the file, go on from `from`.
    if (!from || from.bytes - skipped !== framesAt) return readJournal(repo, relPath);
    pos = from.bytes;
    first = from.records;
    prev = from.lastTs ?? header.prevLastTs;
    scan.count = from.count;
    scan.firstTs = from.firstTs;
    scan.lastTs = from.lastTs;
    scan.resumed = true;
  }
  scan.validBytes = pos;
  const stop = (end: 'torn' | 'damaged', why: string | null): JournalScan => {
    // Damage is judged on the whole file, never on a position it was handed.
    if (end === 'damaged' && scan.resumed) return readJournal(repo, relPath);
    scan.end = end;
    scan.damage = why;
    return scan;
  };
  for (let index = first; pos < size; index++) {
    if (size - pos < RECORD_HEAD) return stop('torn', null);
    const head = buf.subarray(at(pos), at(pos) + RECORD_HEAD);
    if (head.every((b) => b === 0)) {
      // Zeros to the end are space the file system gave before the data reached it (power loss).
      return buf.subarray(at(pos)).every((b) => b === 0)
        ? stop('torn', null)
        : stop('damaged', `record ${index} at byte ${pos} is zeroed but data follows it`);
    }
    const storedLen = head.readUInt32LE(0);
    const n = head.readUInt32LE(4);
    if (head.readUInt32LE(8) !== headCheck(index, head.subarray(0, 8)))
      return stop('damaged', `record ${index} at byte ${pos}: its head fails its check`);
    const end = pos + RECORD_HEAD + storedLen + (cipher ? 0 : PLAIN_SUM);
    if (end > size) return stop('torn', null);
    const stored = buf.subarray(at(pos) + RECORD_HEAD, at(pos) + RECORD_HEAD + storedLen);
    let payload: Buffer;
    if (cipher) {
      try {
        payload = decryptFrame(cipher, index, recordAad(tag, index, head), stored, relPath);
      } catch {
        return stop('damaged', `record ${index} at byte ${pos} fails authentication`);
      }
    } else {
      const sum = buf.subarray(at(end) - PLAIN_SUM, at(end));
      const want = createHash('sha256').update(be32(index)).update(head).update(stored).digest();
      if (!want.equals(sum)) return stop('damaged', `record ${index} at byte ${pos} fails its checksum`);
      payload = stored;
    }
    // The entries: whole BSON documents, in ts order after the chain link, as many as the head says.
    let k = 0;
    let first: OpTime | null = null;
    let last: OpTime | null = null;
    try {
      for (const doc of splitBsonDocuments(payload, relPath)) {
        const ts = readEntryTs(doc);
        if (prev && compareOpTime(ts, prev) <= 0)
          throw new Error(`${formatOpTime(ts)} does not follow ${formatOpTime(prev)}`);
        prev = ts;
        first ??= ts;
        last = ts;
        k++;
      }
    } catch (err) {
      return stop('damaged', `record ${index} at byte ${pos}: ${(err as Error).message}`);
    }
    if (k !== n || k === 0)
      return stop('damaged', `record ${index} at byte ${pos}: ${k} entries, head says ${n}`);
    if (scan.count === 0 && compareOpTime(first!, header.firstTs) !== 0)
      return stop('damaged', `its first entry ${formatOpTime(first!)} is not the one its name says`);
    scan.payloads.push(payload);
    scan.count += k;
    scan.firstTs ??= first;
    scan.lastTs = last;
    pos = end;
    scan.validBytes = pos;
    scan.positions.push({
      bytes: pos,
      records: index + 1,
      count: scan.count,
      firstTs: scan.firstTs,
      lastTs: scan.lastTs,
    });
  }
  scan.end = 'clean';
  return scan;
}

function checkHeader(h: JournalHeader, relPath: string): void {
  const ok =
    h &&
    h.type === 'capture-journal' &&
    Number.isInteger(h.formatVersion) &&
    typeof h.sourceId === 'string' &&
    isOpTime(h.firstTs) &&
    (h.prevLastTs === null || isOpTime(h.prevLastTs));
  if (!ok) throw new ApiError('CORRUPT', `${relPath}: not a capture journal header.`);
  if (h.formatVersion > JOURNAL_FORMAT_VERSION)
    throw new ApiError('CORRUPT', `${relPath}: journal format ${h.formatVersion} is newer than supported.`);
  // Ids from the tree: the directory names the source and the name the first ts.
  if (journalRelPath(h.sourceId, h.firstTs) !== relPath)
    throw new ApiError('CORRUPT', `${relPath}: its header names another source or first ts than its place.`);
}

/** The first bytes read when only a journal's tail is wanted: its header (a few hundred bytes). */
const HEAD_READ = 64 * 1024;

/**
 * The file's bytes; with `fromBytes`, its first bytes (the header, if it fits in HEAD_READ) and
 * then the bytes from `fromBytes` on, `skipped` the bytes left out between them.
 */
function readFileOrTail(
  abs: string,
  relPath: string,
  fromBytes?: number,
): { buf: Buffer; skipped: number; size: number } {
  const fd = openRepoFileSync(abs);
  try {
    const size = fstatSync(fd).size;
    if (size > MAX_JOURNAL_BYTES)
      throw new ApiError('CORRUPT', `${relPath} has ${size} bytes, more than a journal may hold.`);
    if (fromBytes !== undefined && fromBytes <= size) {
      const head = readRange(fd, 0, Math.min(HEAD_READ, fromBytes));
      const framesAt = framesOffset(head);
      if (framesAt !== null && framesAt <= head.length) {
        const tail = readRange(fd, fromBytes, size - fromBytes);
        if (tail.length === size - fromBytes)
          return {
            buf: Buffer.concat([head.subarray(0, framesAt), tail]),
            skipped: fromBytes - framesAt,
            size,
          };
      }
    }
    const buf = readRange(fd, 0, size);
    return { buf, skipped: 0, size: buf.length };
  } finally {
    closeSync(fd);
  }
}

/** Where a journal's records start, from its fixed part (null when that is not all there). */
function framesOffset(head: Buffer): number | null {
  if (head.length < FIXED) return null;
  return FIXED + head.readUInt32LE(8) + HEADER_TAG + (head[5] === 1 ? FILE_SALT_BYTES : 0);
}

function readRange(fd: number, at: number, length: number): Buffer {
  const buf = Buffer.allocUnsafe(length);
  let off = 0;
  while (off < length) {
    const n = readSync(fd, buf, off, length - off, at + off);
    if (n === 0) break;
    off += n;
  }
  return buf.subarray(0, off);
}

/** The raw entries of a journal's valid prefix, in order (restore reads the unsealed tail so). */
export function journalEntries(scan: JournalScan): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const p of scan.payloads) for (const d of splitBsonDocuments(p)) out.push(d);
  return out;
}
