/**
 * MongoDB's comparison order on raw BSON values, for the sorts a view holds
 * in memory or spills to disk (a sort no key table serves, `$sort`, `$group`
 * keys). The type order is the key tables' own (index-keys.ts typeClass:
 * MinKey < null < numbers < strings < objects < arrays < binary < ObjectId
 * < booleans < dates < timestamps < regexes < MaxKey); within a type:
 *
 * - numbers by exact value across Int32, Int64, Double and Decimal128
 *   (Int64 2^53+1 is above Double 2^53, which a double-based key cannot
 *   tell), NaN below every other number;
 * - strings and symbols by their UTF-8 bytes, or by a collation when one is given (collation.ts:
 *   mongod applies a query's collation to strings and symbols, in documents and arrays too);
 * - documents and arrays element by element: type, then field name, then
 *   value, the shorter first when one is a prefix of the other;
 * - binary, ObjectId, booleans, dates and timestamps by their key bytes.
 *
 * A sort key takes, for each sort field, the value at its dotted path; a
 * path that reaches an array takes its smallest element in an ascending
 * sort and its largest in a descending one, an empty array sorts below
 * null (as undefined), a missing field as null: mongod's rules.
 */
import { Decimal128 } from 'bson';
import {
  DocBuilder,
  ElementCursor,
  T,
  docOf,
  elementBytes,
  elements,
  field,
  makeElement,
  subDocument,
  type RawElement,
} from '../oplog/bson-raw.js';
import { keyOf, typeClass } from './index-keys.js';
import type { Collator } from './collation.js';
import { ApiError } from '../errors.js';

const T_UNDEFINED = 0x06;
const T_DECIMAL = 0x13;
const T_SYMBOL = 0x0e;
const T_CODE = 0x0d;
/** undefined below null (mongod's canonical order: MinKey, undefined, null…); index keys fold it into null. */
const UNDEFINED_CLASS = 0x04;

const classOf = (type: number): number => (type === T_UNDEFINED ? UNDEFINED_CLASS : typeClass(type));

/** An exact number: rank (NaN, -Infinity, finite, +Infinity) and, when finite, num / den. */
interface Exact {
  rank: number;
  num: bigint;
  den: bigint;
}

const f64 = new DataView(new ArrayBuffer(8));

function exactDouble(d: number): Exact {
  if (Number.isNaN(d)) return { rank: 0, num: 0n, den: 1n };
  if (!Number.isFinite(d)) return { rank: d < 0 ? 1 : 3, num: 0n, den: 1n };
  if (Number.isSafeInteger(d)) return { rank: 2, num: BigInt(d), den: 1n };
  f64.setFloat64(0, d);
  const hi = f64.getUint32(0);
  const lo = f64.getUint32(4);
  const sign = hi >>> 31 ? -1n : 1n;
  const expBits = (hi >>> 20) & 0x7ff;
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let exp: number;
  if (expBits === 0) exp = -1074;
  else {
    mant |= 1n << 52n;
    exp = expBits - 1075;
  }
  return exp >= 0
    ? { rank: 2, num: sign * (mant << BigInt(exp)), den: 1n }
    : { rank: 2, num: sign * mant, den: 1n << BigInt(-exp) };
}

function exactDecimal(raw: Buffer, at: number): Exact {
  const text = new Decimal128(Buffer.from(raw.subarray(at, at + 16))).toString();
  if (/nan/i.test(text)) return { rank: 0, num: 0n, den: 1n };
  if (/inf/i.test(text)) return { rank: text.startsWith('-') ? 1 : 3, num: 0n, den: 1n };
  const p = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(text);
  if (!p) return { rank: 0, num: 0n, den: 1n };
  const frac = p[3] ?? '';
  const e = Number(p[4] ?? 0) - frac.length;
  const m = BigInt(`${p[1]}${p[2]}${frac}`);
  return e >= 0
    ? { rank: 2, num: m * 10n ** BigInt(e), den: 1n }
    : { rank: 2, num: m, den: 10n ** BigInt(-e) };
}

function exactOf(doc: Buffer, e: RawElement): Exact {
  switch (e.type) {
    case T.int32:
      return { rank: 2, num: BigInt(doc.readInt32LE(e.valueStart)), den: 1n };
    case T.int64:
      return { rank: 2, num: doc.readBigInt64LE(e.valueStart), den: 1n };
    case T.double:
      return exactDouble(doc.readDoubleLE(e.valueStart));
    default:
      return exactDecimal(doc, e.valueStart);
  }
}

/** A number as a double when that is exact (the common case, compared without BigInt), else null. */
function plainNumber(doc: Buffer, e: RawElement): number | null {
  switch (e.type) {
    case T.int32:
      return doc.readInt32LE(e.valueStart);
    case T.double:
      return doc.readDoubleLE(e.valueStart);
    case T.int64: {
      const v = doc.readBigInt64LE(e.valueStart);
      return v >= -(2n ** 53n) && v <= 2n ** 53n ? Number(v) : null;
    }
    default:
      return null;
  }
}

function compareNumbers(da: Buffer, ea: RawElement, db: Buffer, eb: RawElement): number {
  const x = plainNumber(da, ea);
  const y = plainNumber(db, eb);
  if (x !== null && y !== null) {
    if (Number.isNaN(x) || Number.isNaN(y)) return Number.isNaN(x) ? (Number.isNaN(y) ? 0 : -1) : 1;
    return x < y ? -1 : x > y ? 1 : 0;
  }
  const a = exactOf(da, ea);
  const b = exactOf(db, eb);
  if (a.rank !== 2 || b.rank !== 2) return Math.sign(a.rank - b.rank);
  const l = a.num * b.den;
  const r = b.num * a.den;
  return l < r ? -1 : l > r ? 1 : 0;
}

const sign = (n: number): number => (n < 0 ? -1 : n > 0 ? 1 : 0);

/** Two BSON values (the elements' values; their names do not count), in MongoDB's order. */
export function compareValues(
  da: Buffer,
  ea: RawElement,
  db: Buffer,
  eb: RawElement,
  collator?: Collator,
): number {
  const ca = classOf(ea.type);
  const cb = classOf(eb.type);
  if (ca !== cb) return ca < cb ? -1 : 1;
  switch (ea.type) {
    case T.double:
    case T.int32:
    case T.int64:
    case T_DECIMAL:
      return compareNumbers(da, ea, db, eb);
    case T.string:
    case T_SYMBOL:
    case T_CODE:
      if (collator && ea.type !== T_CODE && eb.type !== T_CODE)
        return sign(
          collator(
            da.toString('utf8', ea.valueStart + 4, ea.end - 1),
            db.toString('utf8', eb.valueStart + 4, eb.end - 1),
          ),
        );
      // The bytes after the length, before the NUL; compared in place (sorts compare millions).
      return da.compare(db, eb.valueStart + 4, eb.end - 1, ea.valueStart + 4, ea.end - 1);
    case T.object:
    case T.array:
      return compareDocuments(subDocument(da, ea), subDocument(db, eb), collator);
    default:
      return sign(Buffer.compare(keyOf(da, ea), keyOf(db, eb)));
  }
}

/** Two documents (or arrays) as mongod compares them: element by element, type, name, then value. */
export function compareDocuments(a: Buffer, b: Buffer, collator?: Collator): number {
  const x = new ElementCursor(a);
  const y = new ElementCursor(b);
  for (;;) {
    const more = x.next();
    if (more !== y.next()) return more ? 1 : -1;
    if (!more) return 0;
    const cx = classOf(x.type);
    const cy = classOf(y.type);
    if (cx !== cy) return cx < cy ? -1 : 1;
    // Field names as bytes (strcmp): between the type byte and the NUL.
    const c = a.compare(b, y.start + 1, y.valueStart - 1, x.start + 1, x.valueStart - 1);
    if (c !== 0) return c;
    const v = compareValues(a, x, b, y, collator);
    if (v !== 0) return v;
  }
}

const gcd = (a: bigint, b: bigint): bigint => {
  let x = a < 0n ? -a : a;
  let y = b;
  while (y) [x, y] = [y, x % y];
  return x || 1n;
};

/**
 * A string equal for equal values (distinct, $addToSet): numbers by exact value whatever their
 * type (Int64 2^53+1 and Double 2^53 differ, Int32 1 and Double 1.0 do not), other values by
 * their key bytes.
 */
export function valueKey(doc: Buffer, e: RawElement): string {
  if (classOf(e.type) !== typeClass(T.double) || e.type === T_UNDEFINED)
    return keyOf(doc, e).toString('latin1');
  const plain = plainNumber(doc, e);
  if (plain !== null && Number.isSafeInteger(plain)) return `n${plain}`;
  const x = exactOf(doc, e);
  if (x.rank !== 2) return `n${x.rank}`;
  const g = gcd(x.num, x.den);
  return x.den === g ? `n${x.num / g}` : `n${x.num / g}/${x.den / g}`;
}

/**
 * Values told apart as distinct and `$addToSet` tell them: by valueKey, or, under a collation, by
 * compareValues with it ("abc" and "ABC" are one at strength 2), kept sorted to be searched. Each
 * value is copied on its own (a one-field document), not held with the document it came from.
 */
export class ValueSet {
  private readonly keys = new Set<string>();
  private readonly sorted: Reached[] = [];
  constructor(private readonly collator?: Collator) {}

  /** Empties the set. */
  clear(): void {
    this.keys.clear();
    this.sorted.length = 0;
  }

  /** Whether an equal value is in the set. */
  has(doc: Buffer, e: RawElement): boolean {
    if (!this.collator) return this.keys.has(valueKey(doc, e));
    return this.place(doc, e).found;
  }

  /** Adds the value: false when an equal one is there already. */
  add(doc: Buffer, e: RawElement): boolean {
    if (!this.collator) {
      const k = valueKey(doc, e);
      if (this.keys.has(k)) return false;
      this.keys.add(k);
      return true;
    }
    const { found, at } = this.place(doc, e);
    if (found) return false;
    const one = docOf(elementBytes(doc, e));
    this.sorted.splice(at, 0, { doc: one, e: elements(one)[0]! });
    return true;
  }

  /** Where the value is, or would go, in the collated values (binary search). */
  private place(doc: Buffer, e: RawElement): { found: boolean; at: number } {
    let lo = 0;
    let hi = this.sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const x = this.sorted[mid]!;
      const c = compareValues(x.doc, x.e, doc, e, this.collator);
      if (c === 0) return { found: true, at: mid };
      if (c < 0) lo = mid + 1;
      else hi = mid;
    }
    return { found: false, at: lo };
  }
}

/** One value reached by a path: the element and the document (or array) holding it. */
export interface Reached {
  doc: Buffer;
  e: RawElement;
}

/** A one-element document `{v: null}` or `{v: undefined}`: the values a path yields where it reaches none. */
function marker(type: number): Reached {
  const doc = Buffer.from([8, 0, 0, 0, type, 0x76, 0, 0]);
  return { doc, e: elements(doc)[0]! };
}
const NULL_REACHED = marker(T.null);
const UNDEFINED_REACHED = marker(T_UNDEFINED);

/**
 * The values a dotted path yields for a sort, as mongod's key generator yields them
 * (btree_key_generator.cpp; jstests/core/sort_dotted_paths.js): each value reached, an array at
 * the end giving each of its elements (an array nested in it is one value), an empty one there
 * undefined; and null wherever the path stops short: a missing field (in a document of an array
 * too, beside the values its siblings give: `a.b` of `[{b: 3}, {}]` yields 3 and null), an
 * element of an array on the way that is no document, an empty array on the way. A numeric
 * part also names an array's element by position ("a.0.b").
 */
export function valuesAtPath(doc: Buffer, parts: string[]): PathValues {
  const out: PathValues = [];
  walk(doc, parts, 0, out, false, false, undefined);
  return out;
}

/**
 * A value a sort path yields, and the elements of the arrays it was reached through (each array by
 * its place in memory: two paths of one document through the same array see the same place), so
 * that the paths of a compound sort through one array take their values from one element of it.
 */
interface Yielded extends Reached {
  trail?: Map<number, number>;
}

/** A path's values, and every array it went through or ended on (by place), when there was one. */
type PathValues = Yielded[] & { arrays?: Set<number> };

const sawArray = (out: PathValues, arr: Buffer) => (out.arrays ??= new Set()).add(arr.byteOffset);

const withTrail = (r: Reached, trail: Map<number, number> | undefined): Yielded =>
  trail ? { doc: r.doc, e: r.e, trail } : r;

function entered(trail: Map<number, number> | undefined, arr: Buffer, k: number): Map<number, number> {
  const t = new Map(trail);
  t.set(arr.byteOffset, k);
  return t;
}

/**
 * `inArray`: `doc` is an array reached by position ("a.0"), whose arrays are not entered again;
 * `quiet`: a missing field yields nothing (the documents of an array a positional part also reads).
 */
function walk(
  doc: Buffer,
  parts: string[],
  at: number,
  out: PathValues,
  inArray: boolean,
  quiet: boolean,
  trail: Map<number, number> | undefined,
): void {
  // The first element of that name, found without decoding the others (as index keys are).
  const e = field(doc, parts[at]!);
  if (!e) {
    if (!quiet) out.push(withTrail(NULL_REACHED, trail));
    return;
  }
  if (at === parts.length - 1) {
    if (e.type === T.array) {
      const arr = subDocument(doc, e);
      sawArray(out, arr);
      const items = elements(arr);
      if (items.length === 0) out.push(withTrail(UNDEFINED_REACHED, trail));
      items.forEach((x, k) => out.push(withTrail({ doc: arr, e: x }, entered(trail, arr, k))));
    } else out.push(withTrail({ doc, e }, trail));
  } else if (e.type === T.object) walk(subDocument(doc, e), parts, at + 1, out, false, false, trail);
  else if (e.type === T.array && !inArray) {
    const arr = subDocument(doc, e);
    sawArray(out, arr);
    const items = elements(arr);
    if (/^\d+$/.test(parts[at + 1]!)) {
      // By position as well as through each document that has such a field.
      items.forEach((x, k) => {
        if (x.type === T.object)
          walk(subDocument(arr, x), parts, at + 1, out, false, true, entered(trail, arr, k));
      });
      walk(arr, parts, at + 1, out, true, true, trail);
      if (out.length === 0) out.push(withTrail(NULL_REACHED, trail));
      return;
    }
    if (items.length === 0) out.push(withTrail(NULL_REACHED, trail));
    items.forEach((x, k) => {
      // Each document goes on by name (an array there is entered in turn: `a.b.c` through
      // `a: [{b: [{c: 1}]}]`); an array in the array is not (no name leads into it).
      const t = entered(trail, arr, k);
      if (x.type === T.object) walk(subDocument(arr, x), parts, at + 1, out, false, false, t);
      else out.push(withTrail(NULL_REACHED, t));
    });
  } else if (!quiet) out.push(withTrail(NULL_REACHED, trail)); // no field to go on into, or an array in an array
}

/**
 * Two paths of a compound sort that each go through an array the other does not (`{a: 1, b: 1}`
 * of `{a: [], b: []}`, `{"a.b": 1, "a.c": 1}` of `{a: {b: [1], c: [2]}}`) give no order: mongod
 * refuses the sort ("cannot sort with keys that are parallel arrays", BadValue), and so does this.
 */
function refuseParallelArrays(per: PathValues[]): void {
  for (let i = 0; i < per.length; i++) {
    const a = per[i]!.arrays;
    if (!a) continue;
    for (let j = i + 1; j < per.length; j++) {
      const b = per[j]!.arrays;
      if (b && [...a].some((x) => !b.has(x)) && [...b].some((x) => !a.has(x)))
        throw new ApiError(
          'INVALID_INPUT',
          'sort: cannot sort with keys that are parallel arrays (as mongod).',
          {
            field: 'sort',
            reason: 'parallel-arrays',
          },
        );
    }
  }
}

/** Combinations of one value per path tried at most when paths share an array; past it, each path alone. */
const MAX_COMBINATIONS = 10_000;

/**
 * The values of a compound sort's paths that order a document: the best combination (the
 * smallest by the sort's directions) of one value per path, where paths through one array take
 * theirs from the same element (mongod's key generator: `{"a.c": 1, "a.b": 1}` of
 * `a: [{b: 4, c: 1}, {b: 1, c: 2}]` is (1, 4), not (1, 1)); paths through different arrays, or
 * none, each take their own best.
 */
function bestValues(per: PathValues[], dirs: number[], collator: Collator | undefined): Reached[] {
  refuseParallelArrays(per);
  const alone = per.map((values, k) => {
    let best = values[0]!;
    for (let j = 1; j < values.length; j++) {
      const c = compareValues(values[j]!.doc, values[j]!.e, best.doc, best.e, collator);
      if (dirs[k]! > 0 ? c < 0 : c > 0) best = values[j]!;
    }
    return best;
  });
  if (per.length < 2 || per.filter((v) => v.length > 1).length < 2) return alone;
  // Only paths sharing an array need combining.
  const arrays = per.map((values) => new Set(values.flatMap((v) => (v.trail ? [...v.trail.keys()] : []))));
  const shared = arrays.some((a, i) => arrays.some((b, j) => j > i && [...a].some((x) => b.has(x))));
  if (!shared) return alone;
  let combos = 1;
  for (const v of per) combos *= v.length;
  if (combos > MAX_COMBINATIONS) return alone;
  let best: Yielded[] | null = null;
  const pick: Yielded[] = [];
  const better = (x: Yielded[], y: Yielded[]) => {
    for (let k = 0; k < x.length; k++) {
      const c = compareValues(x[k]!.doc, x[k]!.e, y[k]!.doc, y[k]!.e, collator) * dirs[k]!;
      if (c !== 0) return c < 0;
    }
    return false;
  };
  const fits = (v: Yielded) =>
    !v.trail ||
    pick.every(
      (p) => !p.trail || [...v.trail!].every(([arr, k]) => !p.trail!.has(arr) || p.trail!.get(arr) === k),
    );
  const choose = (k: number) => {
    if (k === per.length) {
      if (!best || better(pick, best)) best = [...pick];
      return;
    }
    for (const v of per[k]!) {
      if (!fits(v)) continue;
      pick.push(v);
      choose(k + 1);
      pick.pop();
    }
  };
  choose(0);
  return best ?? alone;
}

/** A sort specification as paths and directions. */
export interface SortSpec {
  paths: string[][];
  dirs: number[];
}

export function sortSpec(sort: Record<string, unknown>): SortSpec {
  const entries = Object.entries(sort);
  return {
    paths: entries.map(([k]) => k.split('.')),
    dirs: entries.map(([, v]) => (Number(v) < 0 ? -1 : 1)),
  };
}

/**
 * A document's sort key: a small document holding, per sort field, the value that orders it
 * among those its path yields (valuesAtPath): the smallest ascending, the largest descending.
 * Compared with compareSortKeys.
 */
export function sortKeyOf(doc: Buffer, spec: SortSpec, collator?: Collator): Buffer {
  const b = new DocBuilder();
  const best = bestValues(
    spec.paths.map((p) => valuesAtPath(doc, p)),
    spec.dirs,
    collator,
  );
  best.forEach((v, k) => b.append(makeElement(v.e.type, String(k), v.doc.subarray(v.e.valueStart, v.e.end))));
  return b.finish();
}

/**
 * The first values of two sort keys when both are strings, or both Int32 / Double (most sorts and
 * group keys): compared in place, without walking the documents; null for any other pair.
 */
function compareFirstPlain(a: Buffer, b: Buffer): number | null {
  const ta = a[4];
  const tb = b[4];
  const va = a.indexOf(0, 5) + 1;
  const vb = b.indexOf(0, 5) + 1;
  if (ta === T.string && tb === T.string) {
    const la = a.readInt32LE(va);
    const lb = b.readInt32LE(vb);
    return a.compare(b, vb + 4, vb + 3 + lb, va + 4, va + 3 + la);
  }
  const plain = (t: number | undefined) => t === T.double || t === T.int32;
  if (!plain(ta) || !plain(tb)) return null;
  const x = ta === T.double ? a.readDoubleLE(va) : a.readInt32LE(va);
  const y = tb === T.double ? b.readDoubleLE(vb) : b.readInt32LE(vb);
  if (Number.isNaN(x) || Number.isNaN(y)) return Number.isNaN(x) ? (Number.isNaN(y) ? 0 : -1) : 1;
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Two sort keys of one specification, each field in its direction (strings by the collation, if any). */
export function compareSortKeys(a: Buffer, b: Buffer, dirs: number[], collator?: Collator): number {
  const first = collator ? null : compareFirstPlain(a, b);
  if (first !== null) {
    if (first !== 0 || dirs.length === 1) return first * dirs[0]!;
  }
  const x = new ElementCursor(a);
  const y = new ElementCursor(b);
  for (let k = 0; x.next() && y.next(); k++) {
    const c = compareValues(a, x, b, y, collator);
    if (c !== 0) return c * dirs[k]!;
  }
  return 0;
}
