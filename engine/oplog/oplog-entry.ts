/**
 * The fields of an oplog entry that replay routes on, read from its raw
 * BSON without decoding `o` (documents stay raw, see bson-raw.ts). Also used
 * for the operations inside `applyOps`, which carry no `ts` of their own.
 */
import type { OpTime } from '../repo/optime.js';
import {
  ElementCursor,
  T,
  asBuffer,
  elements,
  invalid,
  isTruthy,
  readNumber,
  readString,
  readTimestamp,
  subDocument,
  type RawElement,
} from './bson-raw.js';

export interface OplogEntry {
  raw: Buffer;
  op: string;
  ns: string;
  /** `o`: the document, the update, or the command. */
  o: Buffer | null;
  /** `o2`: the updated document's `_id` (and shard key), or command details. */
  o2: Buffer | null;
  ts: OpTime | null;
  /** Logical session of a retryable write or a transaction. */
  lsid: Buffer | null;
  txnNumber: number | null;
  /** `prevOpTime.ts`: the previous entry of the same transaction or retryable write; null when empty. */
  prevTs: OpTime | null;
  /** 1 for vectored inserts (retryable `insertMany` batches), which are not transactions. */
  multiOpType: number | null;
  /** `fromMigrate` is set and truthy: a chunk migration wrote it (data moved, not changed). */
  fromMigrate: boolean;
}

const NAME = (s: string) => Buffer.from(s, 'ascii');
const LSID = NAME('lsid');
const TXN_NUMBER = NAME('txnNumber');
const PREV_OP_TIME = NAME('prevOpTime');
const MULTI_OP_TYPE = NAME('multiOpType');
const FROM_MIGRATE = NAME('fromMigrate');
const c = (ch: string) => ch.charCodeAt(0);

const EMPTY_TS = (ts: OpTime) => ts.t === 0 && ts.i === 0;

function readPrevTs(doc: Buffer, e: RawElement): OpTime | null {
  if (e.type !== T.object) invalid('oplog entry: prevOpTime is not a document');
  const sub = subDocument(doc, e);
  for (const f of elements(sub))
    if (f.name === 'ts') {
      const ts = readTimestamp(sub, f);
      return EMPTY_TS(ts) ? null : ts;
    }
  return null;
}

export function parseOplogEntry(bytes: Uint8Array): OplogEntry {
  const raw = asBuffer(bytes);
  const entry: OplogEntry = {
    raw,
    op: '',
    ns: '',
    o: null,
    o2: null,
    ts: null,
    lsid: null,
    txnNumber: null,
    prevTs: null,
    multiOpType: null,
    fromMigrate: false,
  };
  let migrateSeen = false;
  const e = new ElementCursor(raw);
  // Told apart by the name's length and bytes, not by decoding every name of every entry (the
  // incident finder and replay parse thousands a second); the same fields as comparing names.
  while (e.next()) {
    const at = e.start + 1;
    switch (e.valueStart - 1 - at) {
      case 1:
        if (raw[at] === c('o')) {
          if (e.type !== T.object) invalid('oplog entry: "o" is not a document');
          entry.o = subDocument(raw, e);
        }
        break;
      case 2: {
        const a = raw[at];
        const b = raw[at + 1];
        if (a === c('o') && b === c('p')) entry.op = readString(raw, e);
        else if (a === c('n') && b === c('s')) entry.ns = readString(raw, e);
        else if (a === c('t') && b === c('s')) entry.ts = readTimestamp(raw, e);
        else if (a === c('o') && b === c('2')) {
          if (e.type === T.object) entry.o2 = subDocument(raw, e);
        }
        break;
      }
      case 4:
        if (e.nameIs(LSID) && e.type === T.object) entry.lsid = subDocument(raw, e);
        break;
      case 9:
        if (e.nameIs(TXN_NUMBER)) entry.txnNumber = readNumber(raw, e);
        break;
      case 10:
        if (e.nameIs(PREV_OP_TIME)) entry.prevTs = readPrevTs(raw, e);
        break;
      case 11:
        if (e.nameIs(MULTI_OP_TYPE)) entry.multiOpType = readNumber(raw, e);
        else if (!migrateSeen && e.nameIs(FROM_MIGRATE)) {
          migrateSeen = true; // the first one counts, as a lookup by name finds it
          entry.fromMigrate = isTruthy(raw, e);
        }
        break;
    }
  }
  if (!entry.op) invalid('oplog entry without "op"');
  return entry;
}

/** The first field name of a command (`o` of an `op: "c"` entry). */
export function commandName(o: Buffer): string {
  const first = elements(o)[0];
  if (!first) invalid('empty command in an oplog entry');
  return first.name;
}
