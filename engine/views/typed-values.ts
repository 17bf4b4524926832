/**
 * The JavaScript values an aggregation pipeline runs on, with their BSON
 * number types kept. mingo computes on JavaScript numbers, which cannot tell
 * a Double 2.0 from an Int32 2 nor hold an Int64: decoded as plain numbers,
 * every integral Double and every Int64 came out of a computing stage as an
 * Int32 (an `$unwind` turned `{price: 2.0, qty: NumberLong(5)}` into
 * `{price: 2, qty: 5}`), where mongod keeps what it does not compute on.
 *
 * So a document is decoded with the numbers whose type a JavaScript number
 * would lose as bson's `Double` and `Long` objects (an integral, finite
 * Double; any Int64) and the rest as plain numbers (an Int32, a fractional
 * or non-finite Double: serialized back as they were). mingo passes objects
 * it does not know through untouched (values copied, projected, unwound,
 * grouped); the operators that compute get plain numbers (`plainValue`) and
 * give their result the type mongod's arithmetic gives (`typedResult`):
 * see mingo-context.ts.
 */
import { Decimal128, Double, Int32, Long, deserialize, type Document } from 'bson';

const RAW = { promoteValues: false, promoteLongs: false, bsonRegExp: false } as const;
const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
const LONG_MIN = -(2n ** 63n);
const LONG_MAX = 2n ** 63n - 1n;

/** A BSON document as a pipeline's JavaScript value (see the header). */
export function decodeTyped(raw: Uint8Array): Document {
  return typed(deserialize(raw, RAW)) as Document;
}

function typed(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (v instanceof Int32) return v.value;
  if (v instanceof Double) return keepsType(v.value) ? v : v.value;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) v[i] = typed(v[i]);
    return v;
  }
  if (Object.getPrototypeOf(v) === Object.prototype) {
    const o = v as Record<string, unknown>;
    for (const k of Object.keys(o)) o[k] = typed(o[k]);
  }
  return v;
}

/** Whether a Double needs its object to stay a Double: an integral finite one (not -0, which serializes as a Double). */
function keepsType(x: number): boolean {
  return Number.isInteger(x) && !Object.is(x, -0);
}

/**
 * The value with Double, Int32 and (within 2^53) Long objects as plain numbers, deeply: what
 * mingo's operators compute on. A Long beyond 2^53 stays a Long, as the bson library decodes it.
 */
export function plainValue(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (v instanceof Double || v instanceof Int32) return v.value;
  if (v instanceof Long) {
    const n = v.toNumber();
    return Number.isSafeInteger(n) ? n : v;
  }
  if (Array.isArray(v)) return v.some(needsPlain) ? v.map(plainValue) : v;
  if (Object.getPrototypeOf(v) === Object.prototype) {
    const o = v as Record<string, unknown>;
    if (!Object.values(o).some(needsPlain)) return v;
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(o)) out[k] = plainValue(o[k]);
    return out;
  }
  return v;
}

function needsPlain(v: unknown): boolean {
  if (v === null || typeof v !== 'object') return false;
  if (v instanceof Double || v instanceof Int32 || v instanceof Long) return true;
  if (Array.isArray(v)) return v.some(needsPlain);
  if (Object.getPrototypeOf(v) === Object.prototype) return Object.values(v).some(needsPlain);
  return false;
}

/** mongod's numeric types, narrowest first: arithmetic gives the widest of its operands'. */
export type NumberKind = 'int' | 'long' | 'double' | 'decimal';
const RANK: Record<NumberKind, number> = { int: 0, long: 1, double: 2, decimal: 3 };

/** The BSON number type of a pipeline value (a plain number: Int32 when integral, else Double), or null. */
export function numberKind(v: unknown): NumberKind | null {
  if (typeof v === 'number') return Number.isInteger(v) && !Object.is(v, -0) ? 'int' : 'double';
  if (v instanceof Double) return 'double';
  if (v instanceof Int32) return 'int';
  if (v instanceof Long) return 'long';
  if (v instanceof Decimal128) return 'decimal';
  return null;
}

/** The widest number type among values (arrays looked into one level, as `$sum: [...]`), or null. */
export function widestKind(values: readonly unknown[]): NumberKind | null {
  let best: NumberKind | null = null;
  for (const v of values) {
    const k = numberKind(v);
    if (k && (!best || RANK[k] > RANK[best])) best = k;
  }
  return best;
}

export const wider = (a: NumberKind | null, b: NumberKind | null): NumberKind | null =>
  !a ? b : !b ? a : RANK[a] >= RANK[b] ? a : b;

/**
 * A computed number as the type mongod gives it, from the widest type of its operands: an
 * integral result of Int32 operands stays Int32 while it fits, else becomes an Int64 (mongod
 * promotes an overflowing int), an Int64 that overflows becomes a Double; an integral result of a
 * Double operand stays a Double. Non-numbers and fractional results are left as they are.
 */
export function typedResult(x: unknown, kind: NumberKind | null): unknown {
  if (typeof x !== 'number' || !kind || kind === 'decimal') return x;
  if (!Number.isInteger(x) || Object.is(x, -0)) return x;
  switch (kind) {
    case 'double':
      return new Double(x);
    case 'long':
      return longOrDouble(BigInt(x));
    case 'int':
      return x >= INT32_MIN && x <= INT32_MAX ? x : longOrDouble(BigInt(x));
  }
}

/** An exact integer sum as mongod keeps it: Int32 while `kind` is int and it fits, Int64 while it fits, else Double. */
export function integerResult(n: bigint, kind: 'int' | 'long'): unknown {
  if (kind === 'int' && n >= BigInt(INT32_MIN) && n <= BigInt(INT32_MAX)) return Number(n);
  return longOrDouble(n);
}

function longOrDouble(n: bigint): unknown {
  if (n >= LONG_MIN && n <= LONG_MAX) return Long.fromBigInt(n);
  return new Double(Number(n));
}

/** A Double whatever its value (integral ones as an object: a plain number would come out as an Int32). */
export function asDouble(x: number): unknown {
  return keepsType(x) ? new Double(x) : x;
}

/** mongod's truthiness: false, null, missing and zero of any number type are false, anything else true. */
export function isTrue(v: unknown): boolean {
  if (v === false || v === null || v === undefined) return false;
  if (typeof v === 'number') return v !== 0;
  if (v instanceof Double || v instanceof Int32) return v.value !== 0;
  if (v instanceof Long) return !v.isZero();
  if (v instanceof Decimal128) return Number(v.toString()) !== 0;
  return true;
}

/** One element's value, typed (the element copied into a document of its own, then decoded). */
export function elementTyped(doc: Buffer, e: { start: number; end: number }): unknown {
  const one = Buffer.alloc(5 + e.end - e.start);
  one.writeInt32LE(one.length, 0);
  doc.copy(one, 4, e.start, e.end);
  one[one.length - 1] = 0;
  return Object.values(decodeTyped(one))[0];
}
