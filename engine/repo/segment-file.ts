/**
 * Oplog segment files: consecutive raw oplog entries in ts order, with a
 * header that makes each file self-describing (first/last ts, count, the
 * previous segment's last ts as the chain link, SHA-256 of the payload).
 */
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { ApiError } from '../errors.js';
import { readEntryTs, splitBsonDocuments } from './bson-entries.js';
import { writeFileDurable } from './durable-file.js';
import { EnvelopeReader, FileKind, bufferSource, encodeEnvelope, parsePreamble } from './envelope.js';
import { compareOpTime, formatOpTime, type OpTime } from './optime.js';
import type { Repository } from './repository.js';

export const SEGMENT_FORMAT_VERSION = 1;

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
  if (entries.length === 0) throw new ApiError('INVALID_INPUT', 'A segment needs at least one oplog entry.');
  let prev = prevLastTs;
  let first: OpTime | null = null;
  for (const e of entries) {
    const ts = readEntryTs(e);
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
): Promise<SegmentInfo> {
  const { first, last } = scanEntries(entries, prevLastTs);
  const payload = Buffer.concat(entries as Uint8Array[]);
  const header: SegmentHeader = {
    type: 'oplog-segment',
    formatVersion: SEGMENT_FORMAT_VERSION,
    sourceId,
    firstTs: first,
    lastTs: last,
    count: entries.length,
    rawBytes: payload.length,
    prevLastTs,
    payloadSha256: createHash('sha256').update(payload).digest('hex'),
    createdAt: new Date().toISOString(),
  };
  const parts = encodeEnvelope(FileKind.OplogSegment, header, payload, {
    compression: repo.config.compression,
    key: repo.key(),
  });
  const path = repo.segmentRelPath(sourceId, first, last);
  const storedBytes = await writeFileDurable(repo.abs(path), parts, repo.io);
  return { ...header, path, storedBytes };
}

function checkHeader(h: SegmentHeader, label: string): void {
  const ok =
    h &&
    h.type === 'oplog-segment' &&
    typeof h.sourceId === 'string' &&
    Number.isInteger(h.count) &&
    h.firstTs &&
    h.lastTs &&
    typeof h.payloadSha256 === 'string';
  if (!ok) throw new ApiError('CORRUPT', `${label}: not an oplog segment header.`);
  if (h.formatVersion > SEGMENT_FORMAT_VERSION)
    throw new ApiError('CORRUPT', `${label}: segment format ${h.formatVersion} is newer than supported.`);
}

/**
 * Reads only the header (the start-up scan and rebuild read thousands):
 * synchronous small reads, which cost a few microseconds where a promise
 * round trip through the thread pool costs hundreds.
 */
export function readSegmentHeader(repo: Repository, relPath: string): SegmentInfo {
  const fd = openSync(repo.abs(relPath), 'r');
  try {
    const size = fstatSync(fd).size;
    let want = 4096;
    for (;;) {
      const head = Buffer.alloc(Math.min(want, size));
      readSync(fd, head, 0, head.length, 0);
      const pre = parsePreamble<SegmentHeader>(head, size, relPath);
      if (typeof pre === 'number') {
        if (pre <= head.length || head.length >= size)
          throw new ApiError('CORRUPT', `${relPath}: header runs past the end of the file.`);
        want = pre;
        continue;
      }
      checkHeader(pre.info.header, relPath);
      if (pre.info.kind !== FileKind.OplogSegment)
        throw new ApiError('CORRUPT', `${relPath}: not a segment file.`);
      return { ...pre.info.header, path: relPath, storedBytes: size };
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * Reads and fully checks a segment: authentication, decompression, payload
 * checksum, BSON framing, entry count, order and first/last ts against the
 * header. Returns the raw entries.
 */
export async function readSegment(
  repo: Repository,
  relPath: string,
): Promise<{ info: SegmentInfo; entries: Uint8Array[] }> {
  const bytes = await readFile(repo.abs(relPath));
  {
    const reader = await EnvelopeReader.open<SegmentHeader>(bufferSource(bytes), relPath, repo.key());
    const h = reader.info.header;
    checkHeader(h, relPath);
    const corrupt = (why: string) => new ApiError('CORRUPT', `${relPath}: ${why}`);
    if (!relPath.startsWith(`sources/${h.sourceId}/`))
      throw corrupt(`belongs to source ${h.sourceId}, not to this path.`);
    const payload = await reader.readAll();
    if (payload.length !== h.rawBytes)
      throw corrupt(`payload has ${payload.length} bytes, header says ${h.rawBytes}.`);
    if (createHash('sha256').update(payload).digest('hex') !== h.payloadSha256)
      throw corrupt('payload checksum mismatch.');
    let entries: Uint8Array[];
    let range: { first: OpTime; last: OpTime };
    try {
      entries = [...splitBsonDocuments(payload, relPath)];
      range = scanEntries(entries, h.prevLastTs);
    } catch (err) {
      throw corrupt((err as Error).message);
    }
    if (entries.length !== h.count) throw corrupt(`${entries.length} entries, header says ${h.count}.`);
    if (compareOpTime(range.first, h.firstTs) !== 0 || compareOpTime(range.last, h.lastTs) !== 0) {
      throw corrupt('first/last ts do not match the header.');
    }
    return { info: { ...h, path: relPath, storedBytes: bytes.length }, entries };
  }
}
