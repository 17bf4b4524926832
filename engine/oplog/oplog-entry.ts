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
}

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
  };
  const e = new ElementCursor(raw);
  while (e.next()) {
    switch (e.name) {
      case 'op':
        entry.op = readString(raw, e);
        break;
      case 'ns':
        entry.ns = readString(raw, e);
        break;
      case 'o':
        if (e.type !== T.object) invalid('oplog entry: "o" is not a document');
        entry.o = subDocument(raw, e);
        break;
      case 'o2':
        if (e.type === T.object) entry.o2 = subDocument(raw, e);
        break;
      case 'ts':
        entry.ts = readTimestamp(raw, e);
        break;
      case 'lsid':
        if (e.type === T.object) entry.lsid = subDocument(raw, e);
        break;
      case 'txnNumber':
        entry.txnNumber = readNumber(raw, e);
        break;
      case 'prevOpTime':
        entry.prevTs = readPrevTs(raw, e);
        break;
      case 'multiOpType':
        entry.multiOpType = readNumber(raw, e);
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
