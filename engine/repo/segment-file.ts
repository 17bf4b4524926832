/**
 * Oplog segment files: consecutive raw oplog entries in ts order, with a
 * header that makes each file self-describing (first/last ts, count, the
 * previous segment's last ts as the chain link, SHA-256 of the payload).
 */
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, readSync } from 'node:fs';
import { ApiError } from '../errors.js';
import { readEntryTs } from './bson-entries.js';
import { writeFileDurable } from './durable-file.js';
import {
  EnvelopeReader,
  FileKind,
  authenticateByFirstFrame,
  encodeEnvelope,
  fileSource,
  parsePreamble,
  type EnvelopeOptions,
} from './envelope.js';
import { compareOpTime, formatOpTime, isOpTime, type OpTime } from './optime.js';
import { openRepoFile, openRepoFileSync } from './repo-file.js';
import type { Repository } from './repository.js';
import { JOURNAL_NAME, isJournalPath, journalEntries, readJournal } from './journal-file.js';
import { readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';

export const SEGMENT_FORMAT_VERSION = 1;
/**
 * The largest payload a segment may declare: the policy's largest cut
 * (256 MiB) plus one oplog entry (16 MiB) and some room. A header declaring
 * more is CORRUPT; frames holding more than their header declares are too.
 */
export const MAX_SEGMENT_RAW_BYTES = 320 * 1024 * 1024;
/** An oplog entry is at most 16 MiB (plus a little for its envelope fields); more is damage. */
const MAX_ENTRY_BYTES = 17 * 1024 * 1024;

export interface SegmentHeader {
  type: 'oplog-segment';
  formatVersion: number;
  sourceId: string;
  firstTs: OpTime;
  lastTs: OpTime;
  count: number;
  rawBytes: number;
  /** Last ts of the segment before this one in the chain; null starts a chain. */
  prevLastTs: OpTime | null;
  payloadSha256: string;
  createdAt: string;
}

export interface SegmentInfo extends SegmentHeader {
  /** Path relative to the repository root. */
  path: string;
  storedBytes: number;
}

/** Checks order and returns first/last ts of a batch of raw entries. */
export function scanEntries(
  entries: readonly Uint8Array[],
  prevLastTs: OpTime | null,
): { first: OpTime; last: OpTime } {
  return checkOrder(entries, prevLastTs, null);
}

/**
 * scanEntries and concatShared in one pass (each entry copied while the walk that read its ts has
 * it in the cache): the payload of a batch about to become a segment.
 */
export function concatInOrder(
  entries: readonly Uint8Array[],
  prevLastTs: OpTime | null,
): { first: OpTime; last: OpTime; payload: Buffer } {
  const payload = Buffer.from(new SharedArrayBuffer(entries.reduce((n, p) => n + p.byteLength, 0)));
  return { ...checkOrder(entries, prevLastTs, payload), payload };
}

function checkOrder(
  entries: readonly Uint8Array[],
  prevLastTs: OpTime | null,
  copyTo: Buffer | null,
): { first: OpTime; last: OpTime } {
  if (entries.length === 0) throw new ApiError('INVALID_INPUT', 'A segment needs at least one oplog entry.');
  let prev = prevLastTs;
  let first: OpTime | null = null;
  let off = 0;
  for (const e of entries) {
    const ts = readEntryTs(e);
    if (copyTo) {
      copyTo.set(e, off);
      off += e.byteLength;
    }
    if (prev && compareOpTime(ts, prev) <= 0) {
      throw new ApiError(
        'INVALID_INPUT',
        `Oplog entries out of order: ${formatOpTime(ts)} does not follow ${formatOpTime(prev)}.`,
      );
    }
    first ??= ts;
    prev = ts;
  }
  return { first: first!, last: prev! };
}

export async function writeSegment(
  repo: Repository,
  sourceId: string,
  entries: readonly Uint8Array[],
  prevLastTs: OpTime | null,
  encode: SegmentEncoder = encodeSegmentInline,
): Promise<SegmentInfo> {
  const { first, last, payload } = concatInOrder(entries, prevLastTs);
  return writeSegmentPayload(
    repo,
    sourceId,
    payload,
    { first, last, count: entries.length },
    prevLastTs,
    encode,
  );
}

/**
 * Concatenates entries into memory a worker thread can read without a copy (a SharedArrayBuffer):
 * the seal worker compresses it while this thread hashes it.
 */
export function concatShared(parts: readonly Uint8Array[]): Buffer {
  const total = parts.reduce((n, p) => n + p.byteLength, 0);
  const out = Buffer.from(new SharedArrayBuffer(total));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.byteLength;
  }
  return out;
}

/** What a payload of consecutive entries holds, known to its writer (the journal) without rescanning it. */
export interface PayloadRange {
  first: OpTime;
  last: OpTime;
  count: number;
}

/** The CPU part of writing a segment (SHA-256, compression, encryption): the seal worker runs it. */
export interface SegmentEncodeRequest {
  header: Omit<SegmentHeader, 'payloadSha256'>;
  payload: Uint8Array;
  /** Taken already (capture hashes each journal record as it is committed); computed when absent. */
  payloadSha256?: string;
  compression: EnvelopeOptions['compression'];
  key: Buffer | null;
}
export type SegmentEncoder = (
  req: SegmentEncodeRequest,
) => Promise<{ header: SegmentHeader; file: Buffer[] }>;

/** Hashes and encodes a segment on the calling thread. */
export function encodeSegmentSync(req: SegmentEncodeRequest): { header: SegmentHeader; file: Buffer[] } {
  const header: SegmentHeader = {
    ...req.header,
    payloadSha256: req.payloadSha256 ?? createHash('sha256').update(req.payload).digest('hex'),
  };
  const file = encodeEnvelope(FileKind.OplogSegment, header, req.payload, {
    compression: req.compression,
    key: req.key,
  });
  return { header, file };
}

export const encodeSegmentInline: SegmentEncoder = (req) => Promise.resolve(encodeSegmentSync(req));

/** A segment encoded in memory, not written yet: what `writeEncodedSegment` makes durable. */
export interface EncodedSegment {
  header: SegmentHeader;
  file: Buffer[];
  /** Path relative to the repository root. */
  path: string;
}

/**
 * The CPU part of writing a segment from a payload whose range is already known (the journal
 * checked every entry's ts as it was read): hashing, compression, encryption, by `encode` (the
 * seal worker on the capture path). Nothing is written: a pipeline encodes the next segment while
 * the previous one is written and recorded.
 */
export async function encodeSegmentPayload(
  repo: Repository,
  sourceId: string,
  payload: Uint8Array,
  range: PayloadRange,
  prevLastTs: OpTime | null,
  encode: SegmentEncoder = encodeSegmentInline,
  payloadSha256?: string,
): Promise<EncodedSegment> {
  const { header, file } = await encode({
    header: {
      type: 'oplog-segment',
      formatVersion: SEGMENT_FORMAT_VERSION,
      sourceId,
      firstTs: range.first,
      lastTs: range.last,
      count: range.count,
      rawBytes: payload.byteLength,
      prevLastTs,
      createdAt: new Date().toISOString(),
    },
    payload,
    ...(payloadSha256 ? { payloadSha256 } : {}),
    compression: repo.config.compression,
    key: repo.key(),
  });
  return { header, file, path: repo.segmentRelPath(sourceId, range.first, range.last) };
}

/** Writes an encoded segment durably (temp file, fsync, rename, directory fsync). */
export async function writeEncodedSegment(repo: Repository, enc: EncodedSegment): Promise<SegmentInfo> {
  const storedBytes = await writeFileDurable(repo.abs(enc.path), enc.file, repo.io);
  return { ...enc.header, path: enc.path, storedBytes };
}

/** Encodes and writes a segment from a payload whose range is already known. */
export async function writeSegmentPayload(
  repo: Repository,
  sourceId: string,
  payload: Uint8Array,
  range: PayloadRange,
  prevLastTs: OpTime | null,
  encode: SegmentEncoder = encodeSegmentInline,
  payloadSha256?: string,
): Promise<SegmentInfo> {
  const enc = await encodeSegmentPayload(repo, sourceId, payload, range, prevLastTs, encode, payloadSha256);
  return writeEncodedSegment(repo, enc);
}

/**
 * Checks a header's shape and that it belongs where it lies: the source is the
 * one whose directory holds the file and the range is the one its name says
 * (ids come from the place in the tree; a header saying otherwise is CORRUPT).
 */
function checkHeader(repo: Repository, h: SegmentHeader, label: string): void {
  const ok =
    h &&
    h.type === 'oplog-segment' &&
    typeof h.sourceId === 'string' &&
    Number.isSafeInteger(h.count) &&
    h.count >= 1 &&
    Number.isSafeInteger(h.rawBytes) &&
    h.rawBytes >= 0 &&
    isOpTime(h.firstTs) &&
    isOpTime(h.lastTs) &&
    (h.prevLastTs === null || isOpTime(h.prevLastTs)) &&
    typeof h.payloadSha256 === 'string';
  if (!ok) throw new ApiError('CORRUPT', `${label}: not an oplog segment header.`);
  if (h.formatVersion > SEGMENT_FORMAT_VERSION)
    throw new ApiError('CORRUPT', `${label}: segment format ${h.formatVersion} is newer than supported.`);
  if (h.rawBytes > MAX_SEGMENT_RAW_BYTES)
    throw new ApiError('CORRUPT', `${label}: declares ${h.rawBytes} bytes, more than a segment may hold.`);
  const place = /^sources\/([^/]+)\/oplog\//.exec(label.split('\\').join('/'));
  if (!place || place[1] !== h.sourceId)
    throw new ApiError(
      'CORRUPT',
      `${label}: its header names source ${h.sourceId}, not the source whose directory holds it.`,
    );
  if (repo.segmentRelPath(h.sourceId, h.firstTs, h.lastTs) !== label)
    throw new ApiError('CORRUPT', `${label}: its header's first and last ts do not match its name.`);
}

/**
 * Reads only the header (the start-up scan and rebuild read thousands):
 * synchronous small reads, which cost a few microseconds where a promise
 * round trip through the thread pool costs hundreds.
 */
export function readSegmentHeader(repo: Repository, relPath: string): SegmentInfo {
  // In an encrypted repository a header is only trusted once the key has authenticated it.
  if (repo.encrypted) repo.key();
  const fd = openRepoFileSync(repo.abs(relPath));
  try {
    const size = fstatSync(fd).size;
    const read = (length: number, position: number) => {
      const b = Buffer.alloc(Math.max(0, Math.min(length, size - position)));
      readSync(fd, b, 0, b.length, position);
      return b;
    };
    let want = 4096;
    for (;;) {
      const head = read(Math.min(want, size), 0);
      const pre = parsePreamble<SegmentHeader>(head, size, relPath, repo.keying());
      if (typeof pre === 'number') {
        if (pre <= head.length || head.length >= size)
          throw new ApiError('CORRUPT', `${relPath}: header runs past the end of the file.`);
        want = pre;
        continue;
      }
      if (pre.info.kind !== FileKind.OplogSegment)
        throw new ApiError('CORRUPT', `${relPath}: not a segment file.`);
      authenticateByFirstFrame(pre, read, size, relPath);
      checkHeader(repo, pre.info.header, relPath);
      return { ...pre.info.header, path: relPath, storedBytes: size };
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * Reads and fully checks a segment as a stream, one frame at a time:
 * authentication, decompression, payload checksum, BSON framing, entry
 * count, order and first/last ts against the header. Memory stays at one
 * frame (at most MAX_FRAME_RAW_BYTES) plus one entry, whatever the file
 * claims; `onEntry` sees each entry (a view into the frame) and its `ts` as
 * it is read, before the whole file is known to be good.
 */
export async function scanSegment(
  repo: Repository,
  relPath: string,
  onEntry?: (entry: Uint8Array, ts: OpTime) => void,
): Promise<SegmentInfo> {
  // A plan's unsealed tail is a capture journal (at most one segment's worth, 16 MB): its valid
  // prefix, or the segment it was sealed into since, as readSegment reads it.
  if (isJournalPath(relPath)) {
    const { info, entries } = await readJournalTail(repo, relPath);
    if (onEntry) for (const e of entries) onEntry(e, readEntryTs(e));
    return info;
  }
  repo.key(); // LOCKED before reading anything
  const fh = await openRepoFile(repo.abs(relPath));
  try {
    const src = await fileSource(fh);
    const reader = await EnvelopeReader.open<SegmentHeader>(src, relPath, repo.keying());
    const h = reader.info.header;
    if (reader.info.kind !== FileKind.OplogSegment)
      throw new ApiError('CORRUPT', `${relPath}: not a segment file.`);
    checkHeader(repo, h, relPath);
    const corrupt = (why: string) => new ApiError('CORRUPT', `${relPath}: ${why}`);
    const hash = createHash('sha256');
    let bytes = 0;
    let count = 0;
    let first: OpTime | null = null;
    let prev = h.prevLastTs;
    let carry: Buffer = Buffer.alloc(0);
    for await (const frame of reader.frames(h.rawBytes)) {
      hash.update(frame);
      bytes += frame.length;
      // Entries may straddle frames (segments are cut every 1 MiB of payload): carry the rest.
      const buf: Buffer = carry.length ? Buffer.concat([carry, frame]) : frame;
      let used = 0;
      try {
        while (buf.length - used >= 4) {
          const len = buf.readInt32LE(used);
          if (len < 5 || len > MAX_ENTRY_BYTES)
            throw new Error(`entry ${count} has an impossible length ${len}`);
          if (used + len > buf.length) break;
          // The checks splitBsonDocuments makes, without its generator: one view per entry.
          if (buf[used + len - 1] !== 0) throw new Error(`entry ${count} does not end with a 0 byte`);
          const doc = buf.subarray(used, used + len);
          const ts = readEntryTs(doc);
          if (prev && compareOpTime(ts, prev) <= 0)
            throw new Error(
              `oplog entries out of order: ${formatOpTime(ts)} does not follow ${formatOpTime(prev)}`,
            );
          first ??= ts;
          prev = ts;
          onEntry?.(doc, ts);
          count++;
          used += len;
        }
      } catch (err) {
        throw corrupt((err as Error).message);
      }
      carry = buf.subarray(used);
    }
    if (carry.length) throw corrupt(`${carry.length} trailing bytes (a truncated entry).`);
    if (bytes !== h.rawBytes) throw corrupt(`payload has ${bytes} bytes, header says ${h.rawBytes}.`);
    if (hash.digest('hex') !== h.payloadSha256) throw corrupt('payload checksum mismatch.');
    if (count !== h.count) throw corrupt(`${count} entries, header says ${h.count}.`);
    if (!first || compareOpTime(first, h.firstTs) !== 0 || compareOpTime(prev!, h.lastTs) !== 0)
      throw corrupt('first/last ts do not match the header.');
    return { ...h, path: relPath, storedBytes: src.size };
  } finally {
    await fh.close();
  }
}

/**
 * Reads and fully checks a segment (scanSegment) and returns its raw entries. A plan's unsealed
 * tail names a capture journal instead (`.jnl`): its valid prefix is read the same way, and if it
 * was sealed since the plan was made, the segment it became (same first ts) is read instead.
 */
export async function readSegment(
  repo: Repository,
  relPath: string,
): Promise<{ info: SegmentInfo; entries: Uint8Array[] }> {
  if (isJournalPath(relPath)) return readJournalTail(repo, relPath);
  const entries: Uint8Array[] = [];
  const info = await scanSegment(repo, relPath, (e) => entries.push(e));
  return { info, entries };
}

async function readJournalTail(
  repo: Repository,
  relPath: string,
): Promise<{ info: SegmentInfo; entries: Uint8Array[] }> {
  let scan;
  try {
    scan = readJournal(repo, relPath);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    const sealed = await sealedSegmentOf(repo, relPath);
    if (!sealed)
      throw new ApiError('NOT_FOUND', `${relPath} is gone and no segment was sealed from it; plan again.`);
    return readSegment(repo, sealed);
  }
  if (scan.end === 'damaged') throw new ApiError('CORRUPT', `${relPath}: ${scan.damage}`);
  if (!scan.header || scan.count === 0)
    throw new ApiError('NOT_FOUND', `${relPath} holds no durable entry yet.`);
  const entries = journalEntries(scan);
  return {
    info: {
      type: 'oplog-segment',
      formatVersion: SEGMENT_FORMAT_VERSION,
      sourceId: scan.header.sourceId,
      firstTs: scan.firstTs!,
      lastTs: scan.lastTs!,
      count: scan.count,
      rawBytes: entries.reduce((n, e) => n + e.byteLength, 0),
      prevLastTs: scan.header.prevLastTs,
      payloadSha256: '',
      createdAt: scan.header.createdAt,
      path: relPath,
      storedBytes: scan.validBytes,
    },
    entries,
  };
}

/** The segment sealed from a journal: the one in the same source whose first ts the journal's name gives. */
async function sealedSegmentOf(repo: Repository, journalPath: string): Promise<string | null> {
  const parts = journalPath.split(/[\\/]/);
  const m = JOURNAL_NAME.exec(parts.at(-1)!);
  const sourceId = parts[1];
  if (!m || !sourceId) return null;
  const first = { t: Number(m[1]), i: Number(m[2]) };
  const probe = repo.segmentRelPath(sourceId, first, first);
  const dir = dirname(probe);
  const prefix = `${first.t}-${first.i}_`;
  let names: string[];
  try {
    names = await readdir(repo.abs(dir));
  } catch {
    return null;
  }
  const name = names.find((n) => n.startsWith(prefix) && n.endsWith('.seg'));
  return name ? join(dir, name) : null;
}
