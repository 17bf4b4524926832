/**
 * Numbers compared by value whatever their BSON type, as mongod does ("numeric
 * types undergo conversion before comparison", Comparison/Sort Order): an
 * int32 5, a double 5.0 and a NumberLong(5) are one value in a filter, a sort
 * and an index key. The stand-in decodes int32 and double to JavaScript numbers
 * but keeps int64 as `Long` (to keep its exact value), which mingo compares as
 * a different type; these helpers give mingo and the key maps a view where an
 * int64 that a double holds exactly is that number. An int64 no double holds
 * (beyond 2^53 and not a multiple of its spacing) stays a Long: equal only to
 * itself, which is what mongod says too. Decimal128 is left as it is (mongod
 * compares it by value as well; no test needs it yet).
 */
import { Long, serialize, type Document } from 'bson';
import { Query } from 'mingo';

interface Stored {
  js: Document;
}

const isPlain = (v: unknown): v is Document =>
  v !== null && typeof v === 'object' && (v.constructor === Object || v.constructor === undefined);

/** `v` with every exactly representable Long as a number and -0 as 0; the same object when nothing changes. */
export function byValue<T>(v: T): T {
  if (typeof v === 'number') return (Object.is(v, -0) ? 0 : v) as T;
  if (v instanceof Long) {
    const n = v.toNumber();
    return (Long.fromNumber(n).equals(v) ? n : v) as T;
  }
  if (Array.isArray(v)) {
    let out: unknown[] | null = null;
    v.forEach((x, k) => {
      const y = byValue(x);
      if (y !== x) (out ??= v.slice())[k] = y;
    });
    return (out ?? v) as T;
  }
  if (isPlain(v)) {
    let out: Document | null = null;
    for (const [k, x] of Object.entries(v)) {
      const y = byValue(x);
      if (y !== x) (out ??= { ...v })[k] = y;
    }
    return (out ?? v) as T;
  }
  return v;
}

/** Stored documents are not changed in place (an update stores a new one), so each view is computed once. */
const views = new WeakMap<Document, Document>();
export function docByValue(js: Document): Document {
  let v = views.get(js);
  if (!v) views.set(js, (v = byValue(js)));
  return v;
}

/** A key equal for values mongod's index holds as one key: numbers by value, the rest by bytes (order kept). */
export const valueKey = (v: unknown): string => Buffer.from(serialize({ k: byValue(v) })).toString('hex');

/** A filter's test of a stored document, with numbers compared by value. */
export function matcher(filter: Document | undefined): (d: Stored) => boolean {
  const q = new Query(byValue(filter ?? {}));
  return (d) => q.test(docByValue(d.js));
}

/** `docs` in the order of `sort` (mingo's order, numbers by value). */
export function sortedBy<T extends Stored>(docs: T[], sort: Document | undefined): T[] {
  if (!sort || Object.keys(sort).length === 0) return docs;
  const order = new Query({})
    .find(docs.map((d, k) => ({ ...docByValue(d.js), __k: k })))
    .sort(sort)
    .all() as Document[];
  return order.map((o) => docs[o.__k as number]!);
}
