/**
 * Which of a view's key tables can answer a filter, and with which keys: a
 * superset of the matching documents, never fewer (the filter is always
 * applied to each candidate afterwards, with MongoDB semantics by mingo).
 *
 * Usable conditions on an indexed field, at the top level or inside a
 * top-level `$and`: equality to a plain value (not a document, array or
 * regex), `$eq`, `$in` of plain values, `$gt`/`$gte`/`$lt`/`$lte`, each
 * bounded to the value's type class as MongoDB compares (`$gt: 5` matches
 * numbers only), and a `$or` whose every branch is a lookup of points on one
 * field (their union). The bounds on one field (of one condition or of
 * several `$and` entries) are intersected, as mongod intersects them, unless
 * the field is multikey (some document has several keys of it): there one
 * element may satisfy `$gt` and another `$lt` (`[3, 12]` matches
 * `{$gt: 5, $lt: 10}`), so one bound is used alone, as mongod does on a
 * multikey index. Elsewhere bounds of different type classes
 * (`{$gte: "a", $lt: 5}`) match nothing: no key is read. With a null end,
 * one end is used alone. A number's
 * end is kept in the key range even when exclusive (a number's key is its
 * nearest double: `Decimal128("1.000000000000000001")` has the key of 1 and
 * is `$gt: 1`). Points beat ranges, and `_id` beats other fields.
 *
 * Under a collation (a query's, or its collection's default) a string is no
 * key: the key tables hold strings by their bytes, and a collation's equal
 * strings ("abc", "ABC" at strength 2) have different bytes, so a condition
 * on a string is left to the filter, as mongod leaves string bounds to the
 * filter on an index of another collation. Other values are looked up.
 */
import { serialize, type Document } from 'bson';
import { elements } from '../oplog/bson-raw.js';
import { NULL_KEY, classBounds, keyOf } from './index-keys.js';

export type Lookup =
  | { field: string; kind: 'points'; keys: Buffer[] }
  | { field: string; kind: 'range'; lo: Buffer; loInclusive: boolean; hi: Buffer; hiInclusive: boolean };

/**
 * Whether some document holds more than one key of the field (an array there: mongod's multikey
 * index). Asked only of a field with two or more range bounds; `_id` is never asked (never an array).
 */
export type IsMultikey = (field: string) => boolean;

type Range = Extract<Lookup, { kind: 'range' }>;

/** One `$gt`/`$gte` (a lower end) or `$lt`/`$lte` (an upper end). */
interface Bound {
  key: Buffer;
  inclusive: boolean;
  lower: boolean;
}

/** A plain object (a filter, an operator's arguments), not an array or a BSON value. */
export const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype;

/** A value that compares as a scalar in an index (documents, arrays, regexes and Min/MaxKey do not here). */
function scalarKey(v: unknown, collated: boolean): Buffer | null {
  if (v === undefined || Array.isArray(v) || isPlainObject(v) || v instanceof RegExp) return null;
  const t = (v as { _bsontype?: string } | null)?._bsontype;
  if (t === 'BSONRegExp' || t === 'MinKey' || t === 'MaxKey' || t === 'Code') return null;
  if (collated && (typeof v === 'string' || t === 'BSONSymbol')) return null;
  const doc = Buffer.from(serialize({ v }));
  const e = elements(doc)[0];
  return e ? keyOf(doc, e) : null;
}

/** The type class byte of numbers' keys. */
const NUMBER_CLASS = scalarKey(0, false)![0]!;

/** The condition's operators, or null when it is an equality (to a value or an embedded document). */
function operators(cond: unknown): Record<string, unknown> | null {
  if (!isPlainObject(cond) || Object.keys(cond).length === 0) return null;
  return Object.keys(cond).every((k) => k.startsWith('$')) ? cond : null;
}

/** Equality, `$eq` or `$in` of plain values: the keys to look up. */
function pointKeys(cond: unknown, collated: boolean): Buffer[] | null {
  if (!isPlainObject(cond) || Object.keys(cond).length === 0) {
    const k = scalarKey(cond, collated);
    return k ? [k] : null;
  }
  const ops = operators(cond);
  if (!ops) return null;
  if ('$eq' in ops) {
    const k = scalarKey(ops.$eq, collated);
    if (k) return [k];
  }
  if ('$in' in ops && Array.isArray(ops.$in)) {
    const ks = (ops.$in as unknown[]).map((x) => scalarKey(x, collated));
    if (ks.every((k): k is Buffer => k !== null)) return ks;
  }
  return null;
}

/** The condition's range ends with a plain value, lower ends first (`$gte` before `$gt`). */
function rangeBounds(cond: unknown, collated: boolean): Bound[] {
  const ops = operators(cond);
  if (!ops) return [];
  const out: Bound[] = [];
  for (const op of ['$gte', '$gt', '$lte', '$lt'] as const) {
    if (!(op in ops)) continue;
    const key = scalarKey(ops[op], collated);
    // A number's key is the nearest double: a Decimal128 or an Int64 beyond a double's precision
    // shares the key of a bound it is above or below, so the key range keeps that key.
    if (key)
      out.push({ key, inclusive: op.endsWith('e') || key[0] === NUMBER_CLASS, lower: op.startsWith('$g') });
  }
  return out;
}

/** A bound alone: from it to the end of its type class, or from the start of the class to it. */
function alone(field: string, b: Bound): Range {
  const cls = classBounds(b.key);
  return b.lower
    ? { field, kind: 'range', lo: b.key, loInclusive: b.inclusive, hi: cls.hi, hiInclusive: false }
    : { field, kind: 'range', lo: cls.lo, loInclusive: true, hi: b.key, hiInclusive: b.inclusive };
}

/** Every bound at once (a field that is not multikey): their intersection, or no key when it is empty. */
function intersected(field: string, bounds: Bound[]): Lookup {
  let r = alone(field, bounds[0]!);
  for (const b of bounds.slice(1)) {
    const s = alone(field, b);
    const lo = Buffer.compare(s.lo, r.lo);
    const hi = Buffer.compare(s.hi, r.hi);
    r = {
      field,
      kind: 'range',
      lo: lo > 0 ? s.lo : r.lo,
      loInclusive: lo > 0 ? s.loInclusive : lo < 0 ? r.loInclusive : r.loInclusive && s.loInclusive,
      hi: hi < 0 ? s.hi : r.hi,
      hiInclusive: hi < 0 ? s.hiInclusive : hi > 0 ? r.hiInclusive : r.hiInclusive && s.hiInclusive,
    };
  }
  const c = Buffer.compare(r.lo, r.hi);
  if (c > 0 || (c === 0 && !(r.loInclusive && r.hiInclusive))) return { field, kind: 'points', keys: [] };
  return r;
}

/** The conditions ANDed at the top of a filter (its fields and those of `$and` entries), and its `$or`s. */
function conjuncts(filter: Document, out: { fields: [string, unknown][]; ors: unknown[][] }): void {
  for (const [k, v] of Object.entries(filter)) {
    if (k === '$and' && Array.isArray(v)) {
      for (const sub of v) if (isPlainObject(sub)) conjuncts(sub, out);
    } else if (k === '$or' && Array.isArray(v)) out.ors.push(v);
    else if (!k.startsWith('$')) out.fields.push([k, v]);
  }
}

/** A `$or` whose every branch looks up points of one field: the union of those points. */
function unionOfPoints(branches: unknown[], indexed: readonly string[], collated: boolean): Lookup | null {
  if (branches.length === 0) return null;
  let field: string | null = null;
  const keys: Buffer[] = [];
  for (const b of branches) {
    if (!isPlainObject(b)) return null;
    // Ranges in a branch are not used here: no multikey question is asked for them.
    const l = planLookup(b, indexed, () => true, collated);
    if (!l || l.kind !== 'points' || (field !== null && l.field !== field)) return null;
    field = l.field;
    keys.push(...l.keys);
  }
  return { field: field!, kind: 'points', keys };
}

/**
 * The lookup that narrows a filter on these indexed fields, or null (a collection scan).
 * `multikey` is asked only when a range with two or more ends is chosen; without it, one end is used.
 * `collated`: the query compares strings by a collation (no string is looked up).
 */
export function planLookup(
  filter: Document,
  indexed: readonly string[],
  multikey: IsMultikey = () => true,
  collated = false,
): Lookup | null {
  const parts: { fields: [string, unknown][]; ors: unknown[][] } = { fields: [], ors: [] };
  conjuncts(filter, parts);
  const points: Lookup[] = [];
  const bounds = new Map<string, Bound[]>();
  for (const [field, cond] of parts.fields) {
    if (!indexed.includes(field)) continue;
    // A dotted path through an array of documents has the null key of each element without the
    // field (keysAt, view format 3), so null is looked up there too.
    const keys = pointKeys(cond, collated);
    if (keys) points.push({ field, kind: 'points', keys });
    else {
      const bs = rangeBounds(cond, collated);
      if (bs.length) bounds.set(field, [...(bounds.get(field) ?? []), ...bs]);
    }
  }
  for (const branches of parts.ors) {
    const u = unionOfPoints(branches, indexed, collated);
    if (u) points.push(u);
  }
  if (points.length) return points.find((p) => p.field === '_id') ?? points[0]!;
  const field = bounds.has('_id') ? '_id' : [...bounds.keys()][0];
  if (field === undefined) return null;
  const bs = bounds.get(field)!;
  // Lower ends first (`$gte` before `$gt`), as one end alone has always been chosen.
  const first = bs.find((b) => b.lower) ?? bs[0]!;
  // With a null end, one end alone: null's class holds one key, so other ends narrow it only to
  // nothing, and how null, missing fields and empty arrays meet other types is left to the filter.
  const single = bs.length === 1 || bs.some((b) => b.key[0] === NULL_KEY[0]);
  if (single || (field !== '_id' && multikey(field))) return alone(field, first);
  return intersected(field, bs);
}
