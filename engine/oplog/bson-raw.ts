/**
 * Raw BSON documents: read their elements and build new documents out of
 * element bytes, without ever turning values into JavaScript values.
 *
 * Why raw bytes (and not deserialized objects) for everything replay
 * touches: a JavaScript object reorders keys that look like integers
 * ("2024", "10" come first), and deserializing either promotes types
 * (Double(2.0) comes back as Int32 when re-encoded) or hands out wrapper
 * objects for every number. Copying element bytes keeps the field order and
 * every BSON type (Double/Int32/Int64, Decimal128, binary subtypes, regex
 * flags, dates) exactly as mongod wrote them, and it is also what mongod's
 * own applier does (it appends the diff's elements as they are).
 *
 * Element boundaries come from bson's on-demand parser (the one the
 * official driver uses), which checks every length against the document.
 */
import { onDemand } from 'bson';
import { ApiError } from '../errors.js';

export const T = {
  double: 0x01,
  string: 0x02,
  object: 0x03,
  array: 0x04,
  binary: 0x05,
  objectId: 0x07,
  bool: 0x08,
  date: 0x09,
  null: 0x0a,
  int32: 0x10,
  timestamp: 0x11,
  int64: 0x12,
} as const;

/** One element of a raw document: bytes [start, end) of `doc`, its value at [valueStart, end). */
export interface RawElement {
  type: number;
  name: string;
  start: number;
  valueStart: number;
  end: number;
}

const EMPTY_DOC = Buffer.from([5, 0, 0, 0, 0]);
export const emptyDocument = (): Buffer => EMPTY_DOC;

export const asBuffer = (b: Uint8Array): Buffer =>
  Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);

export function invalid(why: string): never {
  throw new ApiError('INVALID_BSON', why);
}

/** The top-level elements of `doc`, in order. */
export function elements(doc: Buffer): RawElement[] {
  let parsed: Iterable<[number, number, number, number, number]>;
  try {
    parsed = onDemand.parseToElements(doc) as Iterable<[number, number, number, number, number]>;
  } catch (err) {
    invalid(`malformed BSON document: ${(err as Error).message}`);
  }
  const out: RawElement[] = [];
  for (const [type, nameOff, nameLen, off, len] of parsed) {
    out.push({
      type,
      name: doc.toString('utf8', nameOff, nameOff + nameLen),
      start: nameOff - 1,
      valueStart: off,
      end: off + len,
    });
  }
  return out;
}

export function field(doc: Buffer, name: string): RawElement | undefined {
  for (const e of elements(doc)) if (e.name === name) return e;
  return undefined;
}

/** The embedded document or array of an element (a view, no copy). */
export function subDocument(doc: Buffer, e: RawElement): Buffer {
  if (e.type !== T.object && e.type !== T.array) invalid(`"${e.name}" is not a document or array`);
  return doc.subarray(e.valueStart, e.end);
}

export const elementBytes = (doc: Buffer, e: RawElement): Buffer => doc.subarray(e.start, e.end);
export const valueBytes = (doc: Buffer, e: RawElement): Buffer => doc.subarray(e.valueStart, e.end);

export function readString(doc: Buffer, e: RawElement): string {
  if (e.type !== T.string) invalid(`"${e.name}" is not a string`);
  return doc.toString('utf8', e.valueStart + 4, e.end - 1);
}

/** Int32, Int64 or Double as a JavaScript number (lengths, counts, flags). */
export function readNumber(doc: Buffer, e: RawElement): number {
  if (e.type === T.int32) return doc.readInt32LE(e.valueStart);
  if (e.type === T.int64) return Number(doc.readBigInt64LE(e.valueStart));
  if (e.type === T.double) return doc.readDoubleLE(e.valueStart);
  invalid(`"${e.name}" is not a number`);
}

/** MongoDB's truthiness for flags such as `partialTxn`, `dropTarget`, `a`. */
export function isTruthy(doc: Buffer, e: RawElement): boolean {
  if (e.type === T.bool) return doc[e.valueStart] === 1;
  if (e.type === T.int32 || e.type === T.int64 || e.type === T.double) return readNumber(doc, e) !== 0;
  return e.type !== T.null && e.type !== 0x06;
}

export function readTimestamp(doc: Buffer, e: RawElement): { t: number; i: number } {
  if (e.type !== T.timestamp) invalid(`"${e.name}" is not a BSON Timestamp`);
  return { i: doc.readUInt32LE(e.valueStart), t: doc.readUInt32LE(e.valueStart + 4) };
}

const nameBytes = (name: string) => {
  const b = Buffer.from(`${name}\0`, 'utf8');
  if (b.indexOf(0) !== b.length - 1) invalid(`field name ${JSON.stringify(name)} contains a NUL byte`);
  return b;
};

/** An element with the given type, name and value bytes. */
export function makeElement(type: number, name: string, value: Uint8Array): Buffer {
  const n = nameBytes(name);
  const out = Buffer.allocUnsafe(1 + n.length + value.length);
  out[0] = type;
  n.copy(out, 1);
  out.set(value, 1 + n.length);
  return out;
}

/** The same value under another name (array elements are named by their index). */
export const renamed = (doc: Buffer, e: RawElement, name: string): Buffer =>
  makeElement(e.type, name, valueBytes(doc, e));

export const nullElement = (name: string): Buffer => makeElement(T.null, name, Buffer.alloc(0));

/**
 * Builds a document from element bytes. Consecutive ranges of one source
 * document are kept as slices, so copying unchanged fields costs one copy.
 */
export class DocBuilder {
  private parts: Uint8Array[] = [];
  private size = 5;

  append(element: Uint8Array): this {
    this.parts.push(element);
    this.size += element.length;
    return this;
  }

  /** Appends an element whose value is a document or array built elsewhere. */
  appendDocument(type: number, name: string, value: Uint8Array): this {
    return this.append(makeElement(type, name, value));
  }

  finish(): Buffer {
    const out = Buffer.allocUnsafe(this.size);
    out.writeInt32LE(this.size, 0);
    let at = 4;
    for (const p of this.parts) {
      out.set(p, at);
      at += p.length;
    }
    out[at] = 0;
    return out;
  }
}

/** The key a document is stored under: the `_id` value's type and bytes (BSON equality for one type). */
export function idKeyOf(doc: Buffer, e: RawElement): string {
  return String.fromCharCode(e.type) + doc.toString('latin1', e.valueStart, e.end);
}

export function idKey(doc: Buffer): string {
  const e = field(doc, '_id');
  if (!e) invalid('document without _id');
  return idKeyOf(doc, e);
}

/** `{name: value}` of one element, e.g. `{_id: …}` from a document's `_id` element. */
export const docOf = (...els: Uint8Array[]): Buffer => {
  const b = new DocBuilder();
  for (const e of els) b.append(e);
  return b.finish();
};

/** The document without the named top-level fields (order kept). */
export function withoutFields(doc: Buffer, names: ReadonlySet<string>): Buffer {
  const b = new DocBuilder();
  for (const e of elements(doc)) if (!names.has(e.name)) b.append(elementBytes(doc, e));
  return b.finish();
}

/** The document with `name` set to `element` (in place if present, else appended). */
export function withField(doc: Buffer, name: string, element: Uint8Array): Buffer {
  const b = new DocBuilder();
  let done = false;
  for (const e of elements(doc)) {
    if (e.name === name) {
      if (!done) b.append(element);
      done = true;
    } else b.append(elementBytes(doc, e));
  }
  if (!done) b.append(element);
  return b.finish();
}

/** Every element value of an array document, in order. */
export function arrayItems(arr: Buffer): RawElement[] {
  return elements(arr);
}

/** A BSON array from element values (renamed 0, 1, 2…). */
export function arrayOf(values: { doc: Buffer; e: RawElement }[]): Buffer {
  const b = new DocBuilder();
  values.forEach((v, k) => b.append(renamed(v.doc, v.e, String(k))));
  return b.finish();
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(a, b) === 0;
}
