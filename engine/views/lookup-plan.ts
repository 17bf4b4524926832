/**
 * Which of a view's key tables can answer a filter, and with which keys: a
 * superset of the matching documents, never fewer (the filter is always
 * applied to each candidate afterwards, with MongoDB semantics by mingo).
 *
 * Usable conditions on an indexed field, at the top level or inside a
 * top-level `$and`: equality to a plain value (not a document, array or
 * regex), `$eq`, `$in` of plain values, and `$gt`/`$gte`/`$lt`/`$lte`,
 * each bounded to the value's type class as MongoDB compares (`$gt: 5`
 * matches numbers only). A range with both ends uses one end only: on an
 * array field, one element may satisfy `$gt` and another `$lt`. Points beat
 * ranges, and `_id` beats other fields.
 */
import { serialize, type Document } from 'bson';
import { elements } from '../oplog/bson-raw.js';
import { classBounds, keyOf } from './index-keys.js';

export type Lookup =
  | { field: string; kind: 'points'; keys: Buffer[] }
  | { field: string; kind: 'range'; lo: Buffer; loInclusive: boolean; hi: Buffer; hiInclusive: boolean };

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype;

/** A value that compares as a scalar in an index (documents, arrays, regexes and Min/MaxKey do not here). */
function scalarKey(v: unknown): Buffer | null {
  if (v === undefined || Array.isArray(v) || isPlainObject(v) || v instanceof RegExp) return null;
  const t = (v as { _bsontype?: string } | null)?._bsontype;
  if (t === 'BSONRegExp' || t === 'MinKey' || t === 'MaxKey' || t === 'Code') return null;
  const doc = Buffer.from(serialize({ v }));
  const e = elements(doc)[0];
  return e ? keyOf(doc, e) : null;
}

function conditionLookup(field: string, cond: unknown): Lookup | null {
  if (!isPlainObject(cond) || Object.keys(cond).length === 0) {
    const k = scalarKey(cond);
    return k ? { field, kind: 'points', keys: [k] } : null;
  }
  const keys = Object.keys(cond);
  if (!keys.every((k) => k.startsWith('$'))) return null; // equality with an embedded document
  if ('$eq' in cond) {
    const k = scalarKey(cond.$eq);
    if (k) return { field, kind: 'points', keys: [k] };
  }
  if ('$in' in cond && Array.isArray(cond.$in)) {
    const ks = (cond.$in as unknown[]).map(scalarKey);
    if (ks.every((k): k is Buffer => k !== null)) return { field, kind: 'points', keys: ks };
  }
  for (const op of ['$gte', '$gt'] as const) {
    if (!(op in cond)) continue;
    const k = scalarKey(cond[op]);
    if (!k) continue;
    return {
      field,
      kind: 'range',
      lo: k,
      loInclusive: op === '$gte',
      hi: classBounds(k).hi,
      hiInclusive: false,
    };
  }
  for (const op of ['$lte', '$lt'] as const) {
    if (!(op in cond)) continue;
    const k = scalarKey(cond[op]);
    if (!k) continue;
    return {
      field,
      kind: 'range',
      lo: classBounds(k).lo,
      loInclusive: true,
      hi: k,
      hiInclusive: op === '$lte',
    };
  }
  return null;
}

/** The conditions ANDed at the top of a filter: its fields and those of `$and` entries. */
function conjuncts(filter: Document): [string, unknown][] {
  const out: [string, unknown][] = [];
  for (const [k, v] of Object.entries(filter)) {
    if (k === '$and' && Array.isArray(v)) {
      for (const sub of v) if (isPlainObject(sub)) out.push(...conjuncts(sub));
    } else if (!k.startsWith('$')) out.push([k, v]);
  }
  return out;
}

export function planLookup(filter: Document, indexed: readonly string[]): Lookup | null {
  const candidates: Lookup[] = [];
  for (const [field, cond] of conjuncts(filter)) {
    if (!indexed.includes(field)) continue;
    const l = conditionLookup(field, cond);
    if (l) candidates.push(l);
  }
  const rank = (l: Lookup) => (l.kind === 'points' ? 0 : 2) + (l.field === '_id' ? 0 : 1);
  candidates.sort((a, b) => rank(a) - rank(b));
  return candidates[0] ?? null;
}
