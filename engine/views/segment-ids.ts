/**
 * Which documents an oplog segment touches: for each CRUD entry (top-level,
 * inside applyOps, inside a transaction's applyOps) a 48-bit hash of its
 * `_id`'s index key (index-keys.ts, so Int32 1 and Double 1.0 hash alike, as
 * they are one `_id` to mongod); and whether the segment holds namespace
 * commands (drop, rename, dropDatabase…) or parts of a multi-entry or
 * prepared transaction, which a history must see whatever the `_id`. Kept per segment in the view index (catalog/view-index.ts); a
 * hash collision only makes a history read one segment more.
 */
import { field } from '../oplog/bson-raw.js';
import { commandName, parseOplogEntry } from '../oplog/oplog-entry.js';
import { applyOpsOperations, transactionMeta } from '../oplog/transactions.js';
import { keyOf } from './index-keys.js';

/** 48 bits of two FNV-1a passes (different offsets): a safe integer, no BigInt. */
export function hash48(bytes: Uint8Array): number {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x5bd1e995;
  for (let k = 0; k < bytes.length; k++) {
    a = Math.imul(a ^ bytes[k]!, 0x01000193);
    b = Math.imul(b ^ bytes[k]!, 0x01000193);
  }
  return (a >>> 0) * 0x10000 + ((b >>> 0) & 0xffff);
}

/** The hash of an `_id` element of a document. */
export function idHash(doc: Buffer): number | null {
  const e = field(doc, '_id');
  return e ? hash48(keyOf(doc, e)) : null;
}

/** Commands that never change which namespaces or documents exist (index builds, collMod…). */
const HARMLESS = new Set([
  'createIndexes',
  'startIndexBuild',
  'commitIndexBuild',
  'abortIndexBuild',
  'dropIndexes',
  'deleteIndexes',
  'collMod',
  'create',
]);

export class SegmentIdCollector {
  readonly hashes = new Set<number>();
  commands = false;

  add(raw: Uint8Array): void {
    this.entry(parseOplogEntry(raw));
  }

  private entry(e: ReturnType<typeof parseOplogEntry>): void {
    if (!e.o) return;
    switch (e.op) {
      case 'i':
      case 'd': {
        const h = idHash(e.o);
        if (h !== null) this.hashes.add(h);
        return;
      }
      case 'u': {
        const h = e.o2 ? idHash(e.o2) : null;
        if (h !== null) this.hashes.add(h);
        return;
      }
      case 'c': {
        const name = commandName(e.o);
        // Parts of a large or prepared transaction: a history must read the whole chain to replay it.
        const txn = transactionMeta(e);
        if (txn && (txn.partial || txn.prepare || !txn.data)) this.commands = true;
        if (name === 'applyOps') {
          for (const op of applyOpsOperations(e.o)) this.entry(parseOplogEntry(op));
          return;
        }
        if (!HARMLESS.has(name)) this.commands = true;
        return;
      }
      default:
    }
  }
}
