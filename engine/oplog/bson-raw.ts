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
 * Element boundaries are checked against their document: a garbled one is
 * INVALID_BSON.
 */
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

/** Bytes of a value of fixed size, by type (0: none); variable-size types are computed below. */
const FIXED = new Int8Array(256).fill(-1);
FIXED[0x01] = 8; // double
FIXED[0x06] = 0; // undefined
FIXED[0x07] = 12; // ObjectId
FIXED[0x08] = 1; // bool
FIXED[0x09] = 8; // date
FIXED[0x0a] = 0; // null
FIXED[0x10] = 4; // int32
FIXED[0x11] = 8; // timestamp
FIXED[0x12] = 8; // int64
FIXED[0x13] = 16; // decimal128
FIXED[0x7f] = 0; // maxKey
FIXED[0xff] = 0; // minKey

/** A little-endian int32 whose bytes are known to be inside `b` (no bounds check, unlike readInt32LE). */
const int32 = (b: Buffer, at: number) => b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24);

/**
 * The NUL that ends the field name starting at `from` (-1 if none): names are short, and a loop
 * here is several times cheaper than Buffer#indexOf's call into C++ (capture and replay walk
 * every element of thousands of entries a second).
 */
function nameEndOf(doc: Buffer, from: number): number {
  const stop = Math.min(doc.length, from + 32);
  for (let k = from; k < stop; k++) if (doc[k] === 0) return k;
  return stop < doc.length ? doc.indexOf(0, stop) : -1;
}

/** Checks a document's length prefix and terminator; returns the offset of its terminator. */
function documentEnd(doc: Buffer): number {
  if (doc.length < 5) invalid(`BSON document of ${doc.length} bytes`);
  const end = int32(doc, 0);
  if (end < 5 || end > doc.length) invalid(`BSON document length ${end} in ${doc.length} bytes`);
  if (doc[end - 1] !== 0) invalid('BSON document does not end with a 0 byte');
  return end - 1;
}

/** Field names are nearly always short ASCII: decoding them by hand beats a native call per name. */
function decodeName(doc: Buffer, from: number, to: number): string {
  if (to - from > 32) return doc.toString('utf8', from, to);
  let s = '';
  for (let k = from; k < to; k++) {
    const c = doc[k]!;
    if (c >= 0x80) return doc.toString('utf8', from, to);
    s += String.fromCharCode(c);
  }
  return s;
}

/** The end of the value that starts at `v` (type `type`), checked against `last`. */
function valueEnd(doc: Buffer, type: number, v: number, last: number): number {
  let len = FIXED[type]!;
  if (len < 0) {
    if (type === 0x0b) {
      // regex: pattern and options, two C strings
      const a = doc.indexOf(0, v);
      const b = a < 0 ? -1 : doc.indexOf(0, a + 1);
      if (b < 0 || b >= last) invalid('BSON regular expression runs past the document');
      len = b + 1 - v;
    } else {
      if (v + 4 > last) invalid('BSON value runs past the document');
      const n = int32(doc, v);
      if (n < 0 || ((type === 0x03 || type === 0x04) && n < 5)) invalid(`BSON value length ${n}`);
      if (type === 0x03 || type === 0x04 || type === 0x0f) len = n;
      else if (type === 0x02 || type === 0x0d || type === 0x0e) len = 4 + n;
      else if (type === 0x05) len = 5 + n;
      else if (type === 0x0c) len = 16 + n;
      else invalid(`BSON type 0x${type.toString(16)} is not a known type`);
    }
  }
  if (v + len > last) invalid('BSON value runs past the document');
  return v + len;
}

/**
 * The top-level elements of `doc`, in order. Every length is checked
 * against the document (a garbled one is INVALID_BSON, never a read past
 * its end). Written here rather than taken from bson's on-demand parser
 * because replay scans millions of elements and this allocates nothing but
 * the result.
 */
export function elements(doc: Buffer): RawElement[] {
  const last = documentEnd(doc);
  const out: RawElement[] = [];
  let off = 4;
  for (;;) {
    const type = doc[off]!;
    if (type === 0) {
      if (off !== last) invalid(`BSON document ends at ${off} of ${last + 1} bytes`);
      return out;
    }
    const nameEnd = nameEndOf(doc, off + 1);
    if (nameEnd < 0 || nameEnd >= last) invalid('BSON field name runs past the document');
    const end = valueEnd(doc, type, nameEnd + 1, last);
    out.push({ type, name: decodeName(doc, off + 1, nameEnd), start: off, valueStart: nameEnd + 1, end });
    off = end;
  }
}

/**
 * Walks a document's elements without allocating one object per element
 * (the hot loops of replay): `next()` moves to the next element and fills
 * the fields, `false` at the end. Same checks as elements().
 */
export class ElementCursor implements RawElement {
  type = 0;
  start = 0;
  valueStart = 0;
  end = 4;
  private decoded: string | null = null;
  private readonly last: number;

  constructor(private readonly doc: Buffer) {
    this.last = documentEnd(doc);
  }

  /** The field name, decoded on first use (comparisons with nameIs() need no decoding). */
  get name(): string {
    return (this.decoded ??= decodeName(this.doc, this.start + 1, this.valueStart - 1));
  }

  /** Whether the field name is exactly these UTF-8 bytes. */
  nameIs(bytes: Uint8Array): boolean {
    const from = this.start + 1;
    if (this.valueStart - 1 - from !== bytes.length) return false;
    for (let k = 0; k < bytes.length; k++) if (this.doc[from + k] !== bytes[k]) return false;
    return true;
  }

  next(): boolean {
    const doc = this.doc;
    const off = this.end;
    const type = doc[off]!;
    if (type === 0) {
      if (off !== this.last) invalid(`BSON document ends at ${off} of ${this.last + 1} bytes`);
      return false;
    }
    const nameEnd = nameEndOf(doc, off + 1);
    if (nameEnd < 0 || nameEnd >= this.last) invalid('BSON field name runs past the document');
    this.type = type;
    this.decoded = null;
    this.start = off;
    this.valueStart = nameEnd + 1;
    this.end = valueEnd(doc, type, nameEnd + 1, this.last);
    return true;
  }
}

/** The first top-level element named `name`, stopping there (ASCII names compared as bytes). */
export function field(doc: Buffer, name: string): RawElement | undefined {
  const last = documentEnd(doc);
  let ascii = true;
  for (let k = 0; k < name.length && ascii; k++) ascii = name.charCodeAt(k) < 0x80;
  let off = 4;
  while (off < last) {
    const type = doc[off]!;
    const nameEnd = nameEndOf(doc, off + 1);
    if (nameEnd < 0 || nameEnd >= last) invalid('BSON field name runs past the document');
    const end = valueEnd(doc, type, nameEnd + 1, last);
    let match: boolean;
    if (ascii) {
      match = nameEnd - off - 1 === name.length;
      for (let k = 0; match && k < name.length; k++) match = doc[off + 1 + k] === name.charCodeAt(k);
    } else match = decodeName(doc, off + 1, nameEnd) === name;
    if (match) return { type, name, start: off, valueStart: nameEnd + 1, end };
    off = end;
  }
  if (off !== last) invalid(`BSON document ends at ${off} of ${last + 1} bytes`);
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
  // Short ASCII (op, ns, command names) decoded by hand, as names are; the same string either way.
  return decodeName(doc, e.valueStart + 4, e.end - 1);
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

/** A string element (int32 byte length including the NUL, UTF-8 bytes, NUL). */
export function stringElement(name: string, value: string): Buffer {
  const bytes = Buffer.from(value, 'utf8');
  const v = Buffer.alloc(4 + bytes.length + 1);
  v.writeInt32LE(bytes.length + 1, 0);
  bytes.copy(v, 4);
  return makeElement(T.string, name, v);
}

export const nullElement = (name: string): Buffer => makeElement(T.null, name, Buffer.alloc(0));

/**
 * Memory for rebuilt documents, carved from 64 KiB slabs: replay rebuilds
 * one document per update, and an ArrayBuffer per document (or per 8 KiB
 * of Node's own pool) was a tenth of the replay's time. A slab is freed
 * when no document in it is referenced any more; large documents get their
 * own memory.
 */
const SLAB = 64 * 1024;
let slab = Buffer.allocUnsafeSlow(SLAB);
let slabUsed = 0;
function allocDocument(size: number): Buffer {
  if (size > SLAB / 8) return Buffer.allocUnsafeSlow(size);
  if (slabUsed + size > SLAB) {
    slab = Buffer.allocUnsafeSlow(SLAB);
    slabUsed = 0;
  }
  const out = slab.subarray(slabUsed, slabUsed + size);
  slabUsed += (size + 7) & ~7;
  return out;
}

/** An owned copy of `b` (documents kept in a state must not pin the segment they came from). */
export function copyDocument(b: Uint8Array): Buffer {
  const out = allocDocument(b.length);
  out.set(b, 0);
  return out;
}

/**
 * Builds a document from element bytes. Consecutive ranges of one source
 * document are kept as slices, so copying unchanged fields costs one copy.
 */
export class DocBuilder {
  // Parts as (source, start, end): copied by the native Buffer#copy at the end, no view per part.
  private readonly srcs: Buffer[] = [];
  private readonly starts: number[] = [];
  private readonly ends: number[] = [];
  private size = 5;

  append(element: Buffer): this {
    return this.appendRange(element, 0, element.length);
  }

  /** Appends bytes [start, end) of `src` (elements of a source document, a run of them). */
  appendRange(src: Buffer, start: number, end: number): this {
    this.srcs.push(src);
    this.starts.push(start);
    this.ends.push(end);
    this.size += end - start;
    return this;
  }

  /**
   * Appends the element of `doc` at `e` with another value (a sub-document
   * rebuilt elsewhere), reusing its name bytes.
   */
  appendWithValue(doc: Buffer, e: RawElement, type: number, value: Buffer): this {
    if (type === e.type) this.appendRange(doc, e.start, e.valueStart);
    else {
      const header = Buffer.from(doc.subarray(e.start, e.valueStart));
      header[0] = type;
      this.append(header);
    }
    return this.append(value);
  }

  finish(): Buffer {
    const out = allocDocument(this.size);
    out.writeInt32LE(this.size, 0);
    let at = 4;
    for (let k = 0; k < this.srcs.length; k++) {
      const src = this.srcs[k]!;
      const start = this.starts[k]!;
      const len = this.ends[k]! - start;
      // Short parts (a diff's element, a name) byte by byte: Buffer#copy's checks cost more.
      if (len <= 32) for (let j = 0; j < len; j++) out[at + j] = src[start + j]!;
      else src.copy(out, at, start, start + len);
      at += len;
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

/** A document of the given elements, e.g. `{_id: …}` from a document's `_id` element. */
export function docOf(...els: Buffer[]): Buffer {
  const b = new DocBuilder();
  for (const e of els) b.append(e);
  return b.finish();
}

/** The document without the named top-level fields (order kept). */
export function withoutFields(doc: Buffer, names: ReadonlySet<string>): Buffer {
  const b = new DocBuilder();
  for (const e of elements(doc)) if (!names.has(e.name)) b.appendRange(doc, e.start, e.end);
  return b.finish();
}

/** The document with `name` set to `element` (in place if present, else appended). */
export function withField(doc: Buffer, name: string, element: Buffer): Buffer {
  const b = new DocBuilder();
  let done = false;
  for (const e of elements(doc)) {
    if (e.name === name) {
      if (!done) b.append(element);
      done = true;
    } else b.appendRange(doc, e.start, e.end);
  }
  if (!done) b.append(element);
  return b.finish();
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(a, b) === 0;
}
