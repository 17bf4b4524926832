/**
 * Index keys of a view: a BSON value turned into bytes whose plain byte order
 * (SQLite compares BLOBs with memcmp) is MongoDB's comparison order for
 * values of one field: first the canonical type order
 * (MinKey < null < numbers < strings < objects < arrays < binary < ObjectId
 * < booleans < dates < timestamps < regexes < MaxKey), then the value.
 * Numbers of every type compare by value (Int32 1 = Int64 1 = Double 1.0),
 * as in mongod's indexes, so `{_id: 1}` finds a document stored with
 * `_id: 1.0`. Int64 and Decimal128 beyond a double's precision map onto the
 * nearest double: the key stays in order (never out of it), and the filter
 * is always re-checked on the document, so a shared key only widens the
 * candidates.
 *
 * A key is the first field of an index's key pattern; multikey fields (an
 * array on the path) yield one key per element, and a missing field yields
 * the null key, as mongod indexes them.
 */
import { Decimal128 } from 'bson';
import { T, elements, field, subDocument, type RawElement } from '../oplog/bson-raw.js';

/** Canonical type order (bsonTypes.h's canonicalizeBSONType, spaced out). */
const CLASS = {
  minKey: 0x01,
  null: 0x05,
  number: 0x0a,
  string: 0x0f,
  object: 0x14,
  array: 0x19,
  binary: 0x1e,
  objectId: 0x23,
  bool: 0x28,
  date: 0x2d,
  timestamp: 0x32,
  regex: 0x37,
  dbPointer: 0x3c,
  code: 0x41,
  symbol: 0x0f, // compares as a string
  codeWithScope: 0x46,
  maxKey: 0x7f,
} as const;

const TYPE_CLASS: Record<number, number> = {
  0x01: CLASS.number,
  0x02: CLASS.string,
  0x03: CLASS.object,
  0x04: CLASS.array,
  0x05: CLASS.binary,
  0x06: CLASS.null, // undefined sorts with null
  0x07: CLASS.objectId,
  0x08: CLASS.bool,
  0x09: CLASS.date,
  0x0a: CLASS.null,
  0x0b: CLASS.regex,
  0x0c: CLASS.dbPointer,
  0x0d: CLASS.code,
  0x0e: CLASS.symbol,
  0x0f: CLASS.codeWithScope,
  0x10: CLASS.number,
  0x11: CLASS.timestamp,
  0x12: CLASS.number,
  0x13: CLASS.number,
  0xff: CLASS.minKey,
  0x7f: CLASS.maxKey,
};

export const NULL_KEY = Buffer.from([CLASS.null]);

/** The canonical type class of a BSON type (its place in MongoDB's comparison order); unknown types sort last. */
export const typeClass = (type: number): number => TYPE_CLASS[type] ?? CLASS.maxKey;

/** The first key of a type class and the first key after it (half-open bounds of a class). */
export function classBounds(key: Buffer): { lo: Buffer; hi: Buffer } {
  return { lo: Buffer.from([key[0]!]), hi: Buffer.from([key[0]! + 1]) };
}

/** 8 bytes whose unsigned order is the numeric order of `v` (NaN first, as mongod sorts it). */
function sortableDouble(v: number): Buffer {
  const out = Buffer.alloc(9);
  out[0] = CLASS.number;
  if (Number.isNaN(v)) return out; // all zero: below -Infinity
  out.writeDoubleBE(v === 0 ? 0 : v, 1); // -0 and 0 are one key
  if (out[1]! & 0x80) for (let k = 1; k < 9; k++) out[k] = ~out[k]! & 0xff;
  else out[1] = out[1]! | 0x80;
  return out;
}

function numberOf(doc: Buffer, e: RawElement): number {
  switch (e.type) {
    case T.double:
      return doc.readDoubleLE(e.valueStart);
    case T.int32:
      return doc.readInt32LE(e.valueStart);
    case T.int64:
      return Number(doc.readBigInt64LE(e.valueStart));
    default: {
      const d = new Decimal128(Buffer.from(doc.subarray(e.valueStart, e.valueStart + 16)));
      const s = d.toString();
      return s === 'NaN' || s === '-NaN' ? NaN : Number(s.replace(/^(-?)Infinity$/, '$1Infinity'));
    }
  }
}

/** The key of one element's value. */
export function keyOf(doc: Buffer, e: RawElement): Buffer {
  const cls = TYPE_CLASS[e.type];
  if (cls === undefined) return Buffer.from([CLASS.maxKey]);
  const v = doc.subarray(e.valueStart, e.end);
  switch (e.type) {
    case T.double:
    case T.int32:
    case T.int64:
    case 0x13:
      return sortableDouble(numberOf(doc, e));
    case T.string:
    case 0x0e:
    case 0x0d:
      // int32 length, bytes, NUL: the bytes compare as mongod compares strings (binary, no collation).
      return classAnd(cls, doc, e.valueStart + 4, e.end - 1);
    case T.binary: {
      // mongod: length first, then subtype, then bytes.
      const head = Buffer.alloc(6);
      head[0] = cls;
      head.writeUInt32BE(v.readInt32LE(0), 1);
      head[5] = v[4]!;
      return Buffer.concat([head, v.subarray(5)]);
    }
    case T.date: {
      const out = Buffer.alloc(9);
      out[0] = cls;
      out.writeBigInt64BE(v.readBigInt64LE(0), 1);
      out[1] = out[1]! ^ 0x80; // signed to unsigned order
      return out;
    }
    case T.timestamp: {
      const out = Buffer.alloc(9);
      out[0] = cls;
      out.writeUInt32BE(v.readUInt32LE(4), 1); // seconds, then increment
      out.writeUInt32BE(v.readUInt32LE(0), 5);
      return out;
    }
    case T.bool:
      return Buffer.from([cls, v[0] ? 1 : 0]);
    case 0x06:
    case T.null:
    case 0xff:
    case 0x7f:
      return Buffer.from([cls]);
    default:
      // ObjectId (12 bytes in order), regex, objects and arrays: their bytes (equality is what counts).
      return classAnd(cls, doc, e.valueStart, e.end);
  }
}

/** The class byte followed by doc[start, end): one allocation (replay computes a key per write). */
function classAnd(cls: number, doc: Buffer, start: number, end: number): Buffer {
  const out = Buffer.allocUnsafe(1 + end - start);
  out[0] = cls;
  doc.copy(out, 1, start, end);
  return out;
}

/**
 * The keys of a dotted path in a document, as mongod's key generator makes
 * them (btree_key_generator.cpp): one per value reached, arrays on the way
 * (at every level) or at the end contributing each element, and the null key
 * wherever the path stops short: the path reaches nothing, or a document of
 * an array on the way lacks the rest of it (`a.b` of `[{b: 1}, {}]` has the
 * keys 1 and null), or an element there is no document, or an array there is
 * empty.
 */
export function keysAt(doc: Buffer, path: string): Buffer[] {
  const out: Buffer[] = [];
  collect(doc, partsOf(path), 0, out, false);
  if (out.length === 0) out.push(NULL_KEY);
  return dedupe(out);
}

/** A path's parts, split once per path (replay computes keys per write, of a few indexed paths). */
const PARTS = new Map<string, string[]>();
function partsOf(path: string): string[] {
  let parts = PARTS.get(path);
  if (!parts) {
    if (PARTS.size >= 1024) PARTS.clear();
    PARTS.set(path, (parts = path.split('.')));
  }
  return parts;
}

/**
 * `inArray`: `doc` is an array read by position ("a.0"), whose arrays are not entered again;
 * `quiet`: a path stopping short gives no null key there (the documents of an array that a
 * positional part also reads; keysAt adds null when nothing at all is reached).
 */
function collect(
  doc: Buffer,
  parts: string[],
  at: number,
  out: Buffer[],
  inArray: boolean,
  quiet = false,
): void {
  // The first element of that name, found without decoding the others (replay computes keys per write).
  const e = field(doc, parts[at]!);
  if (!e) {
    if (!quiet) out.push(NULL_KEY);
    return;
  }
  if (at === parts.length - 1) {
    if (e.type === T.array) {
      const arr = subDocument(doc, e);
      const items = elements(arr);
      if (items.length === 0) out.push(NULL_KEY); // mongod: undefined; sorts with null
      for (const item of items) out.push(keyOf(arr, item));
    } else out.push(keyOf(doc, e));
  } else if (e.type === T.object) {
    collect(subDocument(doc, e), parts, at + 1, out, false, quiet);
  } else if (e.type === T.array && !inArray) {
    const arr = subDocument(doc, e);
    const items = elements(arr);
    if (/^\d+$/.test(parts[at + 1]!)) {
      // A numeric next part also names an element by position ("a.0.b").
      for (const item of items)
        if (item.type === T.object) collect(subDocument(arr, item), parts, at + 1, out, false, true);
      collect(arr, parts, at + 1, out, true, true);
      return;
    }
    if (items.length === 0 && !quiet) out.push(NULL_KEY);
    for (const item of items) {
      if (item.type === T.object) collect(subDocument(arr, item), parts, at + 1, out, false, quiet);
      else if (!quiet) out.push(NULL_KEY);
    }
  } else if (!quiet) out.push(NULL_KEY);
}

function dedupe(keys: Buffer[]): Buffer[] {
  if (keys.length < 2) return keys;
  const seen = new Set<string>();
  return keys.filter((k) => {
    const s = k.toString('latin1');
    if (seen.has(s)) return false;
    seen.add(s);
    return true;
  });
}

/**
 * The fields a collection's indexes serve: `_id` and the first field of
 * each index key pattern that compares plain values (not text, 2d, 2dsphere
 * or wildcard indexes; a hashed index's field is kept as a plain one, which
 * serves the equality a hashed index serves).
 */
export function indexedFields(indexes: Buffer[]): string[] {
  const out = new Set<string>(['_id']);
  for (const spec of indexes) {
    const key = elements(spec).find((e) => e.name === 'key');
    if (!key || key.type !== T.object) continue;
    const kp = subDocument(spec, key);
    const first = elements(kp)[0];
    if (!first || first.name.includes('$**')) continue;
    if (first.type === T.string) {
      const kind = kp.toString('utf8', first.valueStart + 4, first.end - 1);
      if (kind !== 'hashed') continue;
    }
    out.add(first.name);
  }
  return [...out];
}
