/**
 * Raw BSON (as the repository and the replay core keep it) to values the
 * official driver serializes back to the very same bytes.
 *
 * The driver only sends JavaScript values, so a document must be decoded
 * once on its way out. Two things would change it: promoted values (a
 * Double(2.0) re-encoded as Int32, an Int64 as a double), which
 * `promoteValues: false` avoids by handing out bson's wrapper classes; and
 * JavaScript's key order, which puts integer-like names ("2024", "10")
 * first. Documents that have such a name anywhere are decoded into Maps,
 * which bson serializes in insertion order. The rare deprecated `undefined`
 * type (0x06) is the one value the driver cannot send back; it is refused.
 */
import { deserialize, type Document } from 'bson';
import { ApiError } from '../errors.js';
import { docOf, elements, renamed, subDocument, T, type RawElement } from '../oplog/bson-raw.js';

const DECODE = {
  promoteValues: false,
  promoteLongs: false,
  promoteBuffers: false,
  bsonRegExp: true,
  // __proto__ and friends stay plain data.
  allowObjectSmallerThanBufferSize: false,
} as const;

const UNDEFINED = 0x06;

/** Names JavaScript moves to the front of an object: canonical array indexes (0 .. 2^32 - 2). */
export const isIntegerLike = (name: string): boolean =>
  /^(0|[1-9]\d{0,9})$/.test(name) && Number(name) < 4_294_967_295;

/** Whether decoding `doc` into a plain object would reorder or lose something. */
function needsMap(doc: Buffer, inArray = false): boolean {
  for (const e of elements(doc)) {
    if (e.type === UNDEFINED)
      throw new ApiError(
        'INVALID_BSON',
        `Field ${e.name} has the deprecated type undefined (0x06), which cannot be restored exactly.`,
      );
    if (!inArray && isIntegerLike(e.name)) return true;
    if ((e.type === T.object || e.type === T.array) && needsMap(subDocument(doc, e), e.type === T.array))
      return true;
  }
  return false;
}

/** A raw BSON document as a driver value that serializes to the same bytes. */
export function toDriverDocument(raw: Buffer): Document {
  return needsMap(raw) ? (toMap(raw) as unknown as Document) : (deserialize(raw, DECODE) as Document);
}

function toMap(doc: Buffer): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const e of elements(doc)) out.set(e.name, valueOf(doc, e));
  return out;
}

function valueOf(doc: Buffer, e: RawElement): unknown {
  if (e.type === T.object) return toMap(subDocument(doc, e));
  if (e.type === T.array)
    return elements(subDocument(doc, e)).map((item) => valueOf(subDocument(doc, e), item));
  // One element decoded on its own keeps its wrapper type.
  return (deserialize(docOf(renamed(doc, e, 'v')), DECODE) as { v: unknown }).v;
}

/** A spec without its `ns` field (index specs kept by old servers and the oplog name their namespace). */
export function withoutNs(spec: Document): Document {
  if (spec instanceof Map) {
    const copy = new Map(spec as Map<string, unknown>);
    copy.delete('ns');
    return copy as unknown as Document;
  }
  const { ns: _ns, ...rest } = spec;
  void _ns;
  return rest;
}
