/**
 * A sort served by a view's key table, as mongod serves a sort from an
 * index: documents are read in the order of the first sort field's keys
 * (SQLite walks the key table's primary key, a page at a time), so a sorted
 * cursor over millions of documents holds one run of equal keys, not the
 * whole result.
 *
 * Keys order values exactly for most types (index-keys.ts); where they do
 * not, the run is put in order in memory with mingo before it is sent:
 * numbers that share a key (Int64 or Decimal128 beyond a double's
 * precision), and documents, arrays, regexes, DBPointers and code with scope
 * (whose keys are their bytes, good for equality only: the whole type class
 * is one run). A compound sort does the same for every run of equal first
 * keys. A run beyond the in-memory sort limit is refused as mongod refuses a
 * blocking sort without allowDiskUse.
 *
 * Usable when the first sort field is `_id` or the first field of an index,
 * and no document holds an array there (one key per document: a multikey
 * field sorts by its smallest or largest element, which a walk of keys
 * cannot tell without remembering every document seen).
 */
import type { Document } from 'bson';
import { Query } from 'mingo';
import { ApiError } from '../errors.js';
import { countDocs, countKeys, docByRid, keysInOrder, type ViewDb } from '../catalog/view-store.js';

export interface SortItem {
  js: Document;
  raw: Buffer | null;
}

/** Key classes whose key bytes order values exactly (index-keys.ts CLASS): runs are equal keys. */
const EXACT_CLASSES = new Set([0x01, 0x05, 0x0f, 0x1e, 0x23, 0x28, 0x2d, 0x32, 0x41, 0x7f]);
const NUMBER_CLASS = 0x0a;

/** Whether a sort can be walked from the key table of a plain collection with these indexed fields. */
export function keySortable(db: ViewDb, cid: number, fields: string[], sort: Document): string | null {
  const first = Object.keys(sort)[0];
  if (first === undefined || !fields.includes(first)) return null;
  return countKeys(db, cid, first) === countDocs(db, cid) ? first : null;
}

export function* keyOrdered(
  db: ViewDb,
  cid: number,
  field: string,
  sort: Document,
  q: Query,
  decode: (raw: Buffer) => Document,
  memoryLimit: number,
  onExamined: () => void,
): Generator<SortItem> {
  const descending = Number(sort[field]) < 0;
  const compound = Object.keys(sort).length > 1;
  const get = docByRid(db);
  let run: SortItem[] = [];
  let runGroup: Buffer | null = null;
  let runBytes = 0;
  let runExact = true;
  const flush = function* (): Generator<SortItem> {
    if (run.length > 1 && (compound || !runExact)) {
      const byJs = new Map(run.map((it) => [it.js, it]));
      const sorted = new Query({})
        .find(run.map((it) => it.js))
        .sort(sort)
        .all() as Document[];
      run = sorted.map((js) => byJs.get(js)!);
    }
    yield* run;
    run = [];
    runBytes = 0;
  };
  for (const { key, rid } of keysInOrder(db, cid, field, descending)) {
    const cls = key[0]!;
    const group = EXACT_CLASSES.has(cls) || cls === NUMBER_CLASS ? key : key.subarray(0, 1);
    if (runGroup === null || !group.equals(runGroup)) {
      yield* flush();
      runGroup = Buffer.from(group);
      runExact = EXACT_CLASSES.has(cls);
    }
    const raw = get(rid);
    if (!raw) continue;
    onExamined();
    const js = decode(raw);
    if (!q.test(js)) continue;
    run.push({ js, raw });
    runBytes += raw.length;
    if (runBytes > memoryLimit)
      throw new ApiError(
        'UNSUPPORTED',
        `Sort exceeded the ${memoryLimit / 1024 / 1024} MB memory limit among documents with equal ${field} (as mongod without allowDiskUse): narrow the filter or sort on a field with fewer equal values.`,
      );
  }
  yield* flush();
}
