/**
 * Concatenated BSON documents, as mongodump writes `.bson` files and as we
 * store oplog segments and snapshot data. Splitting checks every length and
 * terminator so that a truncated or garbled file gives INVALID_BSON instead
 * of a crash or a silent skip.
 */
import { BSONError, deserialize, onDemand } from 'bson';
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
const TS_NAME = [0x74, 0x73]; // "ts"

/**
 * Reads the top-level `ts` of a raw oplog entry without deserializing the
 * rest (ingest handles thousands of entries per second). Uses bson's
 * on-demand element parser, the same one the official driver uses.
 */
export function readEntryTs(doc: Uint8Array): OpTime {
  let elements: Iterable<[number, number, number, number, number]>;
  try {
    elements = onDemand.parseToElements(doc) as Iterable<[number, number, number, number, number]>;
  } catch (err) {
    throw new ApiError('INVALID_BSON', `oplog entry: ${(err as Error).message}`);
  }
  for (const [type, nameOff, nameLen, off] of elements) {
    if (nameLen === 2 && doc[nameOff] === TS_NAME[0] && doc[nameOff + 1] === TS_NAME[1]) {
      if (type !== TIMESTAMP)
        throw new ApiError('INVALID_BSON', 'oplog entry: "ts" is not a BSON Timestamp.');
      const dv = new DataView(doc.buffer, doc.byteOffset + off, 8);
      return { i: dv.getUint32(0, true), t: dv.getUint32(4, true) };
    }
  }
  throw new ApiError('INVALID_BSON', 'oplog entry has no "ts" field.');
}
