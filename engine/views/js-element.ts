/**
 * One JavaScript value of a pipeline as a BSON element, so that it compares
 * and deduplicates by MongoDB's rules (bson-order.ts) rather than
 * JavaScript's; missing (undefined) as BSON undefined, which sorts below null.
 * `compareJs` compares two such values (mingo-context.ts re-exports it).
 */
import { serialize } from 'bson';
import { elements, makeElement, type RawElement } from '../oplog/bson-raw.js';
import { compareValues } from './bson-order.js';
import type { Collator } from './collation.js';

const T_UNDEFINED = 0x06;
const UNDEFINED_ELEMENT = makeElement(T_UNDEFINED, 'v', Buffer.alloc(0));

export function element(v: unknown): { doc: Buffer; e: RawElement } {
  if (v === undefined) {
    const doc = Buffer.alloc(5 + UNDEFINED_ELEMENT.length);
    doc.writeInt32LE(doc.length, 0);
    UNDEFINED_ELEMENT.copy(doc, 4);
    return { doc, e: elements(doc)[0]! };
  }
  const doc = Buffer.from(serialize({ v }));
  return { doc, e: elements(doc)[0]! };
}

/** Two values in MongoDB's order: -1, 0 or 1. */
export function compareJs(a: unknown, b: unknown, collator?: Collator): number {
  const x = element(a);
  const y = element(b);
  return Math.sign(compareValues(x.doc, x.e, y.doc, y.e, collator));
}
