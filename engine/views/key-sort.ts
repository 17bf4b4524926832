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
import { Decimal128, type Document } from 'bson';
import { Query } from 'mingo';
import { ApiError } from '../errors.js';
import { T, elements, subDocument } from '../oplog/bson-raw.js';
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

/** Key classes whose key bytes order values exactly (index-keys.ts CLASS): runs are equal keys. */
const EXACT_CLASSES = new Set([0x01, 0x05, 0x0f, 0x1e, 0x23, 0x28, 0x2d, 0x32, 0x41, 0x7f]);
const NUMBER_CLASS = 0x0a;

/** Whether a sort can be walked from the key table of a plain collection with these indexed fields. */
export function keySortable(db: ViewDb, cid: number, fields: string[], sort: Document): string | null {
  const first = Object.keys(sort)[0];
  if (first === undefined || !fields.includes(first)) return null;
  return countKeys(db, cid, first) === countDocs(db, cid) ? first : null;
}

function mingoSorted(items: SortItem[], sort: Document): SortItem[] {
  const byJs = new Map(items.map((it) => [it.js, it]));
  return (
    new Query({})
      .find(items.map((it) => it.js))
      .sort(sort)
      .all() as Document[]
  ).map((js) => byJs.get(js)!);
}

/** A number as an exact decimal: rank (NaN, -Infinity, finite, +Infinity), then mantissa × 10^exp. */
interface Exact {
  rank: number;
  m: bigint;
  e: number;
}

const NOT_A_NUMBER: Exact = { rank: -1, m: 0n, e: 0 };

function decimalText(text: string): Exact {
  if (/nan/i.test(text)) return { rank: 0, m: 0n, e: 0 };
  if (/inf/i.test(text)) return { rank: text.startsWith('-') ? 1 : 3, m: 0n, e: 0 };
  const p = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(text);
  if (!p) return NOT_A_NUMBER;
  const frac = p[3] ?? '';
  return { rank: 2, m: BigInt(`${p[1]}${p[2]}${frac}`), e: Number(p[4] ?? 0) - frac.length };
}

/** The exact value of the number at a dotted path of a raw document (Int64, Decimal128 beyond a double's precision). */
function exactNumberAt(raw: Buffer, path: string[]): Exact {
  let doc = raw;
  for (let k = 0; k < path.length; k++) {
    const e = elements(doc).find((x) => x.name === path[k]);
    if (!e) return NOT_A_NUMBER;
    if (k < path.length - 1) {
      if (e.type !== T.object) return NOT_A_NUMBER;
      doc = subDocument(doc, e);
      continue;
    }
    switch (e.type) {
      case T.int32:
        return { rank: 2, m: BigInt(doc.readInt32LE(e.valueStart)), e: 0 };
      case T.int64:
        return { rank: 2, m: doc.readBigInt64LE(e.valueStart), e: 0 };
      case T.double: {
        const d = doc.readDoubleLE(e.valueStart);
        return Number.isInteger(d) ? { rank: 2, m: BigInt(d), e: 0 } : decimalText(String(d));
      }
      case 0x13:
        return decimalText(
          new Decimal128(Buffer.from(doc.subarray(e.valueStart, e.valueStart + 16))).toString(),
        );
      default:
        return NOT_A_NUMBER;
    }
  }
  return NOT_A_NUMBER;
}

function compareExact(a: Exact, b: Exact): number {
  if (a.rank !== b.rank || a.rank !== 2) return Math.sign(a.rank - b.rank);
  const [x, y] = a.e >= b.e ? [a.m * 10n ** BigInt(a.e - b.e), b.m] : [a.m, b.m * 10n ** BigInt(b.e - a.e)];
  return x < y ? -1 : x > y ? 1 : 0;
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
  range?: KeyRange,
): Generator<SortItem> {
  const descending = Number(sort[field]) < 0;
  const compound = Object.keys(sort).length > 1;
  const get = docByRid(db);
  let run: SortItem[] = [];
  let runGroup: Buffer | null = null;
  let runBytes = 0;
  let runExact = true;
  let runNumbers = false;
  const path = field.split('.');
  const rest = Object.fromEntries(Object.entries(sort).slice(1)) as Document;
  const flush = function* (): Generator<SortItem> {
    if (run.length > 1 && runNumbers) {
      // Numbers sharing a key: in exact order of their values, then the rest of the sort per value.
      const dir = descending ? -1 : 1;
      const exact = run.map((it) => ({ it, n: exactNumberAt(it.raw!, path) }));
      exact.sort((a, b) => dir * compareExact(a.n, b.n));
      const groups: SortItem[][] = [];
      for (let k = 0; k < exact.length; k++) {
        if (k === 0 || compareExact(exact[k - 1]!.n, exact[k]!.n) !== 0) groups.push([]);
        groups[groups.length - 1]!.push(exact[k]!.it);
      }
      run = groups.flatMap((g) => (compound ? mingoSorted(g, rest) : g));
    } else if (run.length > 1 && (compound || !runExact)) run = mingoSorted(run, sort);
    yield* run;
    run = [];
    runBytes = 0;
  };
  for (const { key, rid } of keysInOrder(db, cid, field, descending, range)) {
    const cls = key[0]!;
    const group = EXACT_CLASSES.has(cls) || cls === NUMBER_CLASS ? key : key.subarray(0, 1);
    if (runGroup === null || !group.equals(runGroup)) {
      yield* flush();
      runGroup = Buffer.from(group);
      runExact = EXACT_CLASSES.has(cls);
      runNumbers = cls === NUMBER_CLASS;
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
