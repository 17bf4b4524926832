/**
 * One JavaScript value of a pipeline as a BSON element, so that it compares
 * and deduplicates by MongoDB's rules (bson-order.ts) rather than
 * JavaScript's; missing (undefined) as BSON undefined, which sorts below null.
 */
import { serialize } from 'bson';
import { elements, makeElement, type RawElement } from '../oplog/bson-raw.js';

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
