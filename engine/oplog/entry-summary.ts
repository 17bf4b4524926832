/**
 * What capture learns of an oplog entry while it walks the entry's elements
 * anyway, to read its ts: the ts, and one byte saying what the incident
 * finder decides on first (the op, `fromMigrate`, and whether
 * parseOplogEntry would read the entry without a complaint). Capture hands
 * these on with each journal record (JournalRecord.entries, an entry index),
 * and the journal's tail scan moves past an ordinary insert or a no-op on the
 * summary alone (IncidentScanner.pass) instead of parsing the entry a second
 * time: at 5,000 entries/s that second parse, and its objects, cost as much
 * CPU as the journal's commits.
 *
 * The summary is a claim the finder acts on without checking, so it is made
 * only where it is certain: `wellFormed` is set only when parseOplogEntry
 * would succeed with the same op, ts and fromMigrate (the same fields, the
 * same type checks, the same "last op, first fromMigrate" rule; an entry
 * with two `ts` is left to the full parse). Anything else is summarized as
 * "parse it" (0), which is always correct. The ts itself follows
 * readEntryTs (the first `ts`, which must be a Timestamp), so capture reads
 * exactly what it read before and fails on what it failed on.
 */
import { ApiError } from '../errors.js';
import { ElementCursor, T, asBuffer, isTruthy } from './bson-raw.js';

/** The op of a summarized entry (the low bits of its summary). */
export const SUMMARY_OP = { other: 0, insert: 1, update: 2, delete: 3, command: 4, noop: 5 } as const;
export const SUMMARY_OP_MASK = 0x07;
/** `fromMigrate` is set and truthy (a chunk migration's write). */
export const SUMMARY_FROM_MIGRATE = 0x40;
/** parseOplogEntry reads the entry with this op, ts and fromMigrate: the summary can be acted on. */
export const SUMMARY_WELL_FORMED = 0x80;

/** Words per entry in an entry index (a Uint32Array): ts.t, ts.i, summary. */
export const INDEX_WORDS = 3;

/** Filled by summarizeEntry (one reused object, nothing allocated per entry). */
export class EntrySummary {
  t = 0;
  i = 0;
  summary = 0;
}

const c = (ch: string) => ch.charCodeAt(0);
const isNumber = (type: number) => type === T.int32 || type === T.int64 || type === T.double;
const TS = Buffer.from('ts');
const TXN_NUMBER = Buffer.from('txnNumber');
const PREV_OP_TIME = Buffer.from('prevOpTime');
const MULTI_OP_TYPE = Buffer.from('multiOpType');
const FROM_MIGRATE = Buffer.from('fromMigrate');

/** The op code of an `op` string value at [from, to) (its bytes, without the NUL). */
function opCode(doc: Buffer, from: number, to: number): number {
  if (to - from !== 1) return SUMMARY_OP.other;
  switch (doc[from]) {
    case c('i'):
      return SUMMARY_OP.insert;
    case c('u'):
      return SUMMARY_OP.update;
    case c('d'):
      return SUMMARY_OP.delete;
    case c('c'):
      return SUMMARY_OP.command;
    case c('n'):
      return SUMMARY_OP.noop;
    default:
      return SUMMARY_OP.other;
  }
}

/** Whether `prevOpTime` is as parseOplogEntry reads it: a whole document whose first `ts` (if any) is a Timestamp. */
function prevOpTimeReadable(doc: Buffer, start: number, end: number): boolean {
  try {
    const e = new ElementCursor(doc.subarray(start, end)); // the checks of elements(), which parseOplogEntry walks
    let tsSeen = false;
    while (e.next()) {
      if (!tsSeen && e.nameIs(TS)) {
        tsSeen = true;
        if (e.type !== T.timestamp) return false;
      }
    }
    return true;
  } catch {
    return false; // garbled inside: the full parse reports it (capture never looked inside)
  }
}

/**
 * Reads the entry's ts (as readEntryTs: its first `ts`; INVALID_BSON when it has none, it is not a
 * Timestamp, or an element is garbled) and its summary, into `out`.
 */
export function summarizeEntry(bytes: Uint8Array, out: EntrySummary): void {
  const raw = asBuffer(bytes);
  let tsAt = -1;
  let tsCount = 0;
  let op = -1; // -1: no `op` seen
  let fromMigrate = false;
  let migrateSeen = false;
  let readable = true;
  try {
    const e = new ElementCursor(raw);
    while (e.next()) {
      const at = e.start + 1;
      switch (e.valueStart - 1 - at) {
        case 1:
          if (raw[at] === c('o') && e.type !== T.object) readable = false;
          break;
        case 2: {
          const a = raw[at];
          const b = raw[at + 1];
          if (a === c('o') && b === c('p')) {
            if (e.type !== T.string) readable = false;
            // The last `op` counts, as parseOplogEntry reads it; an empty one it refuses.
            else op = e.end - 1 - (e.valueStart + 4) <= 0 ? -1 : opCode(raw, e.valueStart + 4, e.end - 1);
          } else if (a === c('n') && b === c('s')) {
            if (e.type !== T.string) readable = false;
          } else if (a === c('t') && b === c('s')) {
            tsCount++;
            if (e.type !== T.timestamp) {
              if (tsAt < 0) throw new ApiError('INVALID_BSON', 'oplog entry: "ts" is not a BSON Timestamp.');
              readable = false;
            } else if (tsAt < 0) tsAt = e.valueStart;
          }
          break;
        }
        case 9:
          if (e.nameIs(TXN_NUMBER) && !isNumber(e.type)) readable = false;
          break;
        case 10:
          if (e.nameIs(PREV_OP_TIME) && readable)
            readable = e.type === T.object && prevOpTimeReadable(raw, e.valueStart, e.end);
          break;
        case 11:
          if (e.nameIs(MULTI_OP_TYPE)) {
            if (!isNumber(e.type)) readable = false;
          } else if (!migrateSeen && e.nameIs(FROM_MIGRATE)) {
            migrateSeen = true; // the first one counts, as parseOplogEntry reads it
            fromMigrate = isTruthy(raw, e);
          }
          break;
      }
    }
  } catch (err) {
    if (err instanceof ApiError && err.message.startsWith('oplog entry')) throw err;
    throw new ApiError('INVALID_BSON', `oplog entry: ${(err as Error).message}`);
  }
  if (tsAt < 0) throw new ApiError('INVALID_BSON', 'oplog entry has no "ts" field.');
  out.i = raw.readUInt32LE(tsAt);
  out.t = raw.readUInt32LE(tsAt + 4);
  // An empty or missing op is refused by parseOplogEntry; two ts are left to it (it takes the last).
  out.summary =
    readable && op >= 0 && tsCount === 1
      ? SUMMARY_WELL_FORMED | (fromMigrate ? SUMMARY_FROM_MIGRATE : 0) | op
      : 0;
}
