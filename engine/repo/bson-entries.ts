/**
 * Concatenated BSON documents, as mongodump writes `.bson` files and as we
 * store oplog segments and snapshot data. Splitting checks every length and
 * terminator so that a truncated or garbled file gives INVALID_BSON instead
 * of a crash or a silent skip.
 */
import { BSONError, deserialize } from 'bson';
import { ElementCursor, asBuffer } from '../oplog/bson-raw.js';
import { ApiError } from '../errors.js';
import type { OpTime } from './optime.js';

const MIN_DOC = 5;
const MAX_DOC = 48 * 1024 * 1024; // MongoDB's largest message; a document is at most 16 MiB

/** Yields each document's bytes (views into `buf`, no copy). */
export function* splitBsonDocuments(buf: Uint8Array, label = 'data'): Generator<Uint8Array> {
  let off = 0;
  while (off < buf.length) {
    if (buf.length - off < 4) {
      throw new ApiError(
        'INVALID_BSON',
        `${label}: ${buf.length - off} trailing bytes at offset ${off} (truncated document).`,
      );
    }
    const len = buf[off]! | (buf[off + 1]! << 8) | (buf[off + 2]! << 16) | (buf[off + 3]! << 24);
    if (len < MIN_DOC || len > MAX_DOC) {
      throw new ApiError('INVALID_BSON', `${label}: impossible document length ${len} at offset ${off}.`);
    }
    if (off + len > buf.length) {
      throw new ApiError(
        'INVALID_BSON',
        `${label}: document at offset ${off} needs ${len} bytes, only ${buf.length - off} left (truncated).`,
      );
    }
    if (buf[off + len - 1] !== 0) {
      throw new ApiError('INVALID_BSON', `${label}: document at offset ${off} does not end with a 0 byte.`);
    }
    yield buf.subarray(off, off + len);
    off += len;
  }
}

/** Fully parses one document (every element checked); INVALID_BSON on any defect. */
export function parseDocument(doc: Uint8Array, label = 'document'): Record<string, unknown> {
  try {
    return deserialize(doc, { promoteLongs: false, promoteValues: false, validation: { utf8: true } });
  } catch (err) {
    const why = err instanceof BSONError || err instanceof Error ? err.message : String(err);
    throw new ApiError('INVALID_BSON', `${label}: ${why}`);
  }
}

const TIMESTAMP = 0x11;
const DATE = 0x09;
const TS_NAME = Buffer.from('ts');
const WALL_NAME = Buffer.from('wall');

/**
 * Reads the top-level `ts` of a raw oplog entry without deserializing the
 * rest (capture handles thousands of entries per second). Every element's
 * length is checked, as a full parse would, but nothing is allocated per
 * element (bson-raw's ElementCursor): `ts` sits after `o` in mongod's
 * entries, so the walk is the whole document either way.
 */
export function readEntryTs(doc: Uint8Array): OpTime {
  const b = asBuffer(doc);
  let at = -1;
  try {
    const c = new ElementCursor(b);
    while (c.next()) {
      if (at < 0 && c.nameIs(TS_NAME)) {
        if (c.type !== TIMESTAMP)
          throw new ApiError('INVALID_BSON', 'oplog entry: "ts" is not a BSON Timestamp.');
        at = c.valueStart;
      }
    }
  } catch (err) {
    if (err instanceof ApiError && err.message.startsWith('oplog entry')) throw err;
    throw new ApiError('INVALID_BSON', `oplog entry: ${(err as Error).message}`);
  }
  if (at < 0) throw new ApiError('INVALID_BSON', 'oplog entry has no "ts" field.');
  return { i: b.readUInt32LE(at), t: b.readUInt32LE(at + 4) };
}

/** The entry's `wall` (ms since the epoch), or null when it has none (mongod before 4.2). */
export function readEntryWall(doc: Uint8Array): number | null {
  const b = asBuffer(doc);
  try {
    const c = new ElementCursor(b);
    while (c.next())
      if (c.type === DATE && c.nameIs(WALL_NAME)) return Number(b.readBigInt64LE(c.valueStart));
  } catch (err) {
    throw new ApiError('INVALID_BSON', `oplog entry: ${(err as Error).message}`);
  }
  return null;
}
