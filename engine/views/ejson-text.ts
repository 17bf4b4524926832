/**
 * Raw BSON to Extended JSON text (relaxed or canonical), walked element by
 * element so that the text keeps the document's field order exactly: a
 * decoded JavaScript object would move fields named like integers ("2024",
 * "10") to the front. Each leaf value is written by the bson library's own
 * EJSON (the formats mongosh and mongoexport read), decoded without
 * promotion so canonical output keeps Int32, Int64 and Double apart. Relaxed
 * Int64 is written with all its digits (readers that parse JSON numbers as
 * doubles round one beyond 2^53: the browser reads `_id`s from the text).
 */
import { EJSON, deserialize } from 'bson';
import { T, elements, subDocument, type RawElement } from '../oplog/bson-raw.js';

const LEAF_OPTS = {
  promoteValues: false,
  promoteLongs: false,
  promoteBuffers: false,
  bsonRegExp: true,
} as const;

function leaf(doc: Buffer, e: RawElement, relaxed: boolean): string {
  // Relaxed Int64 is a plain JSON number with every digit (as mongoexport writes it): the bson
  // library's relaxed output rounds one beyond 2^53 to the nearest double.
  if (relaxed && e.type === T.int64) return doc.readBigInt64LE(e.valueStart).toString();
  const one = Buffer.allocUnsafe(4 + (e.end - e.start) + 1);
  one.writeInt32LE(one.length, 0);
  doc.copy(one, 4, e.start, e.end);
  one[one.length - 1] = 0;
  const value = Object.values(deserialize(one, LEAF_OPTS))[0];
  return EJSON.stringify(value, { relaxed });
}

function value(doc: Buffer, e: RawElement, relaxed: boolean): string {
  if (e.type === T.object) return ejsonText(subDocument(doc, e), relaxed);
  if (e.type === T.array) {
    const arr = subDocument(doc, e);
    return `[${elements(arr)
      .map((x) => value(arr, x, relaxed))
      .join(',')}]`;
  }
  return leaf(doc, e, relaxed);
}

/** A whole document as Extended JSON text. */
export function ejsonText(doc: Buffer, relaxed = true): string {
  return `{${elements(doc)
    .map((e) => `${JSON.stringify(e.name)}:${value(doc, e, relaxed)}`)
    .join(',')}}`;
}

/** One element's value as Extended JSON text (a distinct value, an `_id`). */
export function valueText(doc: Buffer, e: RawElement, relaxed = true): string {
  return value(doc, e, relaxed);
}
