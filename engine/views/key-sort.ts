/**
 * A sort served by a view's key table, as mongod serves a sort from an
 * index: documents are read in the order of the first sort field's keys
 * (SQLite walks the key table's primary key, a page at a time), so a sorted
 * cursor over millions of documents holds one run of equal keys, not the
 * whole result.
 *
 * Keys order values exactly for most types (index-keys.ts); where they do
 * not, the run is put in MongoDB's order (bson-order.ts) before it is sent:
 * numbers that share a key (Int64 or Decimal128 beyond a double's
 * precision), and documents, arrays, regexes, DBPointers and code with scope
 * (whose keys are their bytes, good for equality only: the whole type class
 * is one run). A compound sort does the same for every run of equal first
 * keys. A run is sorted by the external sort (external-sort.ts): one beyond
 * the memory budget spills to disk, or is refused without allowDiskUse.
 *
 * Usable when the first sort field is `_id` or the first field of an index,
 * and no document holds an array there (one key per document: a multikey
 * field sorts by its smallest or largest element, which a walk of keys
 * cannot tell without remembering every document seen).
 */
import type { Document } from 'bson';
import type { Matcher } from './bson-match.js';
import { compareSortKeys, sortKeyOf, sortSpec } from './bson-order.js';
import type { SpillOptions } from './blocking-stages.js';
import { ExternalSort } from './external-sort.js';
import {
  countDocs,
  countKeys,
  docByRid,
  keysInOrder,
  type KeyRange,
  type ViewDb,
} from '../catalog/view-store.js';

export interface SortItem {
  js: Document;
  raw: Buffer | null;
}

/** An item read back from a sort: decoded only if asked (answers are written from the bytes). */
export function lazyItem(raw: Buffer, decode: (raw: Buffer) => Document): SortItem {
  let js: Document | null = null;
  return {
    raw,
    get js() {
      return (js ??= decode(raw));
    },
  };
}

/** Key classes whose key bytes order values exactly (index-keys.ts CLASS): runs are equal keys. */
const EXACT_CLASSES = new Set([0x01, 0x05, 0x0f, 0x1e, 0x23, 0x28, 0x2d, 0x32, 0x41, 0x7f]);
const NUMBER_CLASS = 0x0a;

/** Whether a sort can be walked from the key table of a plain collection with these indexed fields. */
export function keySortable(db: ViewDb, cid: number, fields: string[], sort: Document): string | null {
  const first = Object.keys(sort)[0];
  if (first === undefined || !fields.includes(first)) return null;
  return isMultikey(db, cid, first) ? null : first;
}

/**
 * Whether some document of the collection holds more than one key of an indexed field (an array
 * there: mongod's multikey index), as its key count against its document count tells. Counted once
 * per connection: a ready view's file does not change while it is open (a move in place takes it
 * only once every connection is closed), and each count reads a whole index.
 */
export function isMultikey(db: ViewDb, cid: number, field: string): boolean {
  let known = MULTIKEY.get(db);
  if (!known) MULTIKEY.set(db, (known = new Map()));
  const k = `${cid}\u0000${field}`;
  let multikey = known.get(k);
  if (multikey === undefined) known.set(k, (multikey = countKeys(db, cid, field) !== countDocs(db, cid)));
  return multikey;
}
const MULTIKEY = new WeakMap<ViewDb, Map<string, boolean>>();

export function* keyOrdered(
  db: ViewDb,
  cid: number,
  field: string,
  sort: Document,
  matches: Matcher,
  decode: (raw: Buffer) => Document,
  spill: SpillOptions,
  onExamined: () => void,
  range?: KeyRange,
): Generator<SortItem> {
  const descending = Number(sort[field]) < 0;
  const compound = Object.keys(sort).length > 1;
  const spec = sortSpec(sort);
  const get = docByRid(db);
  let run: ExternalSort | null = null;
  let runGroup: Buffer | null = null;
  /** Whether the run's keys order it already (one exact key, one sort field): sent as read. */
  let inOrder = true;
  /** The first document of a run, held until a second one shows the run needs ordering. */
  let single: SortItem | null = null;
  const flush = function* (): Generator<SortItem> {
    if (single) {
      const one = single;
      single = null;
      yield one;
    }
    if (!run) return;
    const r = run;
    run = null;
    for (const { payload } of r.sorted()) yield lazyItem(payload, decode);
  };
  try {
    for (const { key, rid } of keysInOrder(db, cid, field, descending, range)) {
      const cls = key[0]!;
      const group = EXACT_CLASSES.has(cls) || cls === NUMBER_CLASS ? key : key.subarray(0, 1);
      if (runGroup === null || !group.equals(runGroup)) {
        yield* flush();
        runGroup = Buffer.from(group);
        inOrder = EXACT_CLASSES.has(cls) && !compound;
      }
      const raw = get(rid);
      if (!raw) continue;
      onExamined();
      // Matched on the bytes (bson-match.ts): a document is decoded only if it is asked for.
      if (!matches(raw)) continue;
      if (inOrder) {
        yield lazyItem(raw, decode);
        continue;
      }
      // Most runs of a walk hold one document (unique values): no sort for those.
      if (!run && !single) {
        single = lazyItem(raw, decode);
        continue;
      }
      if (!run) {
        run = new ExternalSort((a, b) => compareSortKeys(a, b, spec.dirs), { ...spill, what: 'Sort' });
        run.add(sortKeyOf(single!.raw!, spec), single!.raw!);
        single = null;
      }
      run.add(sortKeyOf(raw, spec), raw);
    }
    yield* flush();
  } finally {
    (run as ExternalSort | null)?.close();
  }
}
