/**
 * Queries on a view's file, with MongoDB semantics from mingo on decoded
 * documents and the raw bytes kept for the answer: a document is decoded to
 * be matched and sorted, and what is returned is Extended JSON written from
 * its stored bytes (field order and types as mongod had them). Derived
 * documents (a projection mingo computes, a MongoDB view's pipeline, an
 * aggregation) are written from their decoded values.
 *
 * Namespaces read as mongod shows them: a collection from its documents
 * (through the view's key tables when the filter allows, lookup-plan.ts), a
 * time-series collection as the measurements of its buckets
 * (timeseries.ts), a MongoDB view as its pipeline over what it is defined
 * on (views of views included).
 *
 * Strings compare by the query's collation: the one the request gives, else
 * the collection's or MongoDB view's own (its options' `collation`), else the
 * simple one (their bytes); a view's is the only one its queries may use, as
 * mongod allows no other (collation.ts, collationOf).
 */
import { EJSON, deserialize, serialize, type Document } from 'bson';
import { decodeTyped, plainValue } from './typed-values.js';
import { retyped } from './typed-operators.js';
import { inMongodOrder, projectionTree } from './project-order.js';
import { Query } from './mingo-context.js';
import { ApiError } from '../errors.js';
import { DocBuilder, T, elements, subDocument, type RawElement } from '../oplog/bson-raw.js';
import {
  countDocs,
  docByRid,
  iterateDocs,
  listCollectionRows,
  keysInOrder,
  ridsWithKey,
  type CollectionRow,
  type KeyRange,
  type ViewDb,
} from '../catalog/view-store.js';
import { ejsonText, valueText } from './ejson-text.js';
import { indexedFields, keysAt } from './index-keys.js';
import { isPlainObject, planLookup, type Lookup } from './lookup-plan.js';
import { isMultikey, keyOrdered, keySortable, lazyItem } from './key-sort.js';
import { compileFilter, type CompiledFilter } from './bson-match.js';
import { timeseriesSpec, unpackBucket } from './timeseries.js';
import { ValueSet, compareSortKeys, sortKeyOf, sortSpec } from './bson-order.js';
import { runPipeline, type IndexedJoin, type SpillOptions } from './blocking-stages.js';
import { ExternalSort, SORT_MEMORY_BYTES } from './external-sort.js';
import { dirname } from 'node:path';
import { decodeList } from './view-sink.js';
import { indexName } from '../restore/index-rules.js';
import { runtimeError } from './query-input.js';
import { checkCollation, collatorOf, sameCollation, type CollationSpec, type Collator } from './collation.js';

type MingoOptions = NonNullable<Parameters<typeof runPipeline>[2]>;

/** A document to match: its decoded value, and its exact bytes when it has them. */
interface Item {
  js: Document;
  raw: Buffer | null;
}

export interface IndexUse {
  index: string | null;
  documentsExamined: number;
}

const DECODE = { promoteValues: true, promoteLongs: true, bsonRegExp: false } as const;
/** MongoDB refuses views defined on views beyond this depth (maxViewDepth). */
const MAX_VIEW_DEPTH = 20;

/** A stored document as queries and pipelines compute on it: its number types kept (typed-values.ts). */
const decode = (raw: Buffer): Document => decodeTyped(raw);

export function notFound(ns: string): ApiError {
  return new ApiError('NOT_FOUND', `Namespace ${ns} does not exist at this point.`, { ns });
}

function collection(db: ViewDb, ns: string): CollectionRow | undefined {
  return listCollectionRows(db).find((r) => r.ns === ns);
}

function splitNs(ns: string): { db: string; coll: string } {
  const dot = ns.indexOf('.');
  return { db: ns.slice(0, dot), coll: ns.slice(dot + 1) };
}

function readStringOption(options: Buffer, name: string): string | null {
  const e = elements(options).find((x) => x.name === name);
  return e && e.type === T.string ? options.toString('utf8', e.valueStart + 4, e.end - 1) : null;
}

/**
 * A collation the request gives: a spec, null for `{locale: "simple"}`, undefined when it gives
 * none (the namespace's own applies).
 */
export type RequestedCollation = CollationSpec | null | undefined;

/** A namespace's own collation (its options'), null for none; one this engine cannot apply is refused, typed. */
function ownCollation(row: CollectionRow): CollationSpec | null {
  const e = elements(row.options).find((x) => x.name === 'collation');
  if (!e || e.type !== T.object) return null;
  const value = deserialize(subDocument(row.options, e), DECODE);
  try {
    return checkCollation(value, 'options');
  } catch (err) {
    throw new ApiError(
      'UNSUPPORTED',
      `${row.ns}'s default collation ${EJSON.stringify(value)} cannot be applied here (${(err as Error).message}); give the query a collation, e.g. {"locale": "simple"}.`,
      { ns: row.ns, reason: 'collation' },
    );
  }
}

/**
 * The collation a query on `ns` compares strings by: the request's, else the namespace's own, else
 * simple (null). A MongoDB view's queries take its own only: another is refused, as mongod refuses
 * it (OptionNotSupportedOnView, "Cannot override a view's default collation").
 */
export function collationOf(db: ViewDb, ns: string, requested: RequestedCollation): CollationSpec | null {
  const row = collection(db, ns);
  if (!row) return requested ?? null;
  // The request's own wins on a collection: its default is not even read (one this engine cannot
  // apply is passed by with {"locale": "simple"}).
  if (row.kind !== 'view' && requested !== undefined) return requested;
  const own = ownCollation(row);
  if (row.kind === 'view') {
    if (requested !== undefined && !sameCollation(requested, own))
      throw new ApiError(
        'INVALID_INPUT',
        `collation: ${ns} is a view, whose queries use its own collation (${own ? EJSON.stringify(own) : 'simple'}) and no other, as in mongod.`,
        { field: 'collation', ns },
      );
    return own;
  }
  return own;
}

/**
 * mingo's options for a collation: filters and the stages read it there (bson-match.ts,
 * blocking-stages.ts). mingo itself reads it only in a `$sort` it runs (a `$meta` sort); its type
 * knows strengths 1-3 only, hence the cast.
 */
const withCollation = (c: CollationSpec | null) =>
  c ? ({ collation: c } as unknown as Partial<MingoOptions>) : undefined;

/** Plain objects and arrays only: a decoded Binary or ObjectId is a value, not a stage to walk. */
function isWalkable(v: unknown): v is Document | unknown[] {
  if (Array.isArray(v)) return true;
  if (v === null || typeof v !== 'object') return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

/** The namespaces (names in the view's database) a pipeline reads besides its input, nested pipelines included. */
function namesRead(v: unknown, out: Set<string>): Set<string> {
  if (!isWalkable(v)) return out;
  for (const [k, x] of Object.entries(v)) {
    if (
      (k === '$lookup' || k === '$graphLookup') &&
      isWalkable(x) &&
      typeof (x as Document).from === 'string'
    )
      out.add((x as Document).from as string);
    if (k === '$unionWith') {
      if (typeof x === 'string') out.add(x);
      else if (isWalkable(x) && typeof (x as Document).coll === 'string')
        out.add((x as Document).coll as string);
    }
    namesRead(x, out);
  }
  return out;
}

function viewPipeline(options: Buffer): Document[] {
  const pe = elements(options).find((x) => x.name === 'pipeline');
  return pe && pe.type === T.array
    ? (Object.values(deserialize(subDocument(options, pe), DECODE)) as Document[])
    : [];
}

/**
 * Refuses a view that reads itself, through `viewOn` or a `$lookup`, `$graphLookup` or `$unionWith`
 * (directly or through other views). mongod refuses such a definition when it is created
 * (GraphContainsCycle), but a crafted dump or a repository written elsewhere can hold one, and
 * its cursor would recurse until the stack gave out (or, streamed, never end). Checked before the
 * first document is read; each view is walked once (`done`), whatever the shape of the graph.
 */
function refuseViewCycle(db: ViewDb, dbName: string, name: string, path: string[], done: Set<string>): void {
  if (done.has(name)) return;
  if (path.includes(name)) {
    const names = [...path.slice(path.indexOf(name)), name].map((n) => `${dbName}.${n}`);
    throw new ApiError('INVALID_INPUT', `View cycle detected: ${names.join(' -> ')}.`, {
      reason: 'view-cycle',
    });
  }
  if (path.length > MAX_VIEW_DEPTH)
    throw new ApiError(
      'INVALID_INPUT',
      `View ${dbName}.${path[0]} is nested deeper than ${MAX_VIEW_DEPTH} views.`,
    );
  const row = collection(db, `${dbName}.${name}`);
  if (row?.kind === 'view') {
    const viewOn = readStringOption(row.options, 'viewOn');
    const next = namesRead(viewPipeline(row.options), new Set(viewOn ? [viewOn] : []));
    for (const n of next) refuseViewCycle(db, dbName, n, [...path, name], done);
  }
  done.add(name);
}

/** The documents of a namespace, possibly narrowed by a lookup, and how they were found. */
function source(
  db: ViewDb,
  ns: string,
  filter: Document,
  depth = 0,
  collated = false,
): { items: Iterable<Item>; use: IndexUse } {
  if (depth > MAX_VIEW_DEPTH)
    throw new ApiError('INVALID_INPUT', `View ${ns} is nested deeper than ${MAX_VIEW_DEPTH} views.`);
  const row = collection(db, ns);
  const { db: dbName, coll } = splitNs(ns);
  const bucketsNs = `${dbName}.system.buckets.${coll}`;
  if (!row) throw notFound(ns);
  const use: IndexUse = { index: null, documentsExamined: 0 };
  if (row.kind === 'timeseries') {
    const spec = timeseriesSpec(row.options);
    const buckets = collection(db, bucketsNs);
    if (!spec) throw new ApiError('CORRUPT', `${ns} has no timeField in its options.`);
    function* measurements(): Generator<Item> {
      if (!buckets) return;
      for (const { doc } of iterateDocs(db, buckets.cid)) {
        for (const m of unpackBucket(doc, spec!)) {
          use.documentsExamined++;
          yield lazyItem(m, decode);
        }
      }
    }
    return { items: measurements(), use };
  }
  if (row.kind === 'view') {
    const viewOn = readStringOption(row.options, 'viewOn');
    if (!viewOn) throw new ApiError('CORRUPT', `View ${ns} has no viewOn.`);
    refuseViewCycle(db, dbName, coll, [], new Set()); // a few catalog rows, before any document
    const pipeline = viewPipeline(row.options);
    // The view's pipeline runs with the view's own collation, whatever its base collection's.
    const own = ownCollation(row);
    const base = source(db, `${dbName}.${viewOn}`, {}, depth + 1);
    function* baseDocs(): Generator<Document> {
      for (const it of base.items) yield it.js;
    }
    // Streamed like an aggregation: a view over a large collection is not held in memory.
    const out = runPipeline(
      baseDocs(),
      pipeline,
      { collectionResolver: resolver(db, dbName, depth, own), ...withCollation(own) },
      spillOptions(db, true),
      joins(db, dbName, depth, own),
    );
    function* derived(): Generator<Item> {
      for (const js of out) yield { js: idFirst(js), raw: null };
    }
    return { items: derived(), use: base.use };
  }
  const fields = indexedFields(decodeList(row.indexes));
  const lookup = planLookup(filter, fields, (f) => isMultikey(db, row.cid, f), collated);
  if (lookup) {
    const get = docByRid(db);
    use.index = indexFor(row, lookup.field);
    function* found(): Generator<Item> {
      // A document with several keys of the field (an array there) may be reached once per key:
      // only those documents are remembered, to be sent once.
      const multikey = new Set<number>();
      for (const rid of lookupRids(db, row!.cid, lookup!)) {
        const raw = get(rid);
        if (!raw) continue;
        if (keysAt(raw, lookup!.field).length > 1) {
          if (multikey.has(rid)) continue;
          multikey.add(rid);
        }
        use.documentsExamined++;
        yield lazyItem(raw, decode);
      }
    }
    return { items: found(), use };
  }
  function* scan(): Generator<Item> {
    for (const { doc } of iterateDocs(db, row!.cid)) {
      use.documentsExamined++;
      yield lazyItem(doc, decode);
    }
  }
  return { items: scan(), use };
}

/** `$lookup` on an indexed foreign field: the foreign documents read through its key table. */
/**
 * A stage of a pipeline under `coll` reading the namespace `ns`: a MongoDB view there must have that
 * same collation, as mongod requires of `$lookup`, `$graphLookup` and `$unionWith`
 * (OptionNotSupportedOnView: jstests/core/views/views_collation.js).
 */
function checkJoined(db: ViewDb, ns: string, coll: CollationSpec | null): void {
  const row = collection(db, ns);
  if (row?.kind !== 'view') return;
  const own = ownCollation(row);
  if (!sameCollation(coll, own))
    throw new ApiError(
      'INVALID_INPUT',
      `pipeline: ${ns} is a view whose collation (${own ? EJSON.stringify(own) : 'simple'}) is not the pipeline's (${coll ? EJSON.stringify(coll) : 'simple'}): mongod refuses to join a view under another collation.`,
      { field: 'pipeline', ns, reason: 'collation' },
    );
}

function joins(db: ViewDb, dbName: string, depth = 0, coll: CollationSpec | null = null): IndexedJoin {
  return {
    indexed: (from, field) => {
      const row = collection(db, `${dbName}.${from}`);
      return row?.kind === 'collection' && indexedFields(decodeList(row.indexes)).includes(field);
    },
    *matching(from, field, values) {
      checkJoined(db, `${dbName}.${from}`, coll);
      const filter = { [field]: { $in: values } };
      const q = compileFilter(filter, withCollation(coll));
      for (const it of source(db, `${dbName}.${from}`, filter, depth + 1, coll !== null).items)
        if (q.item(it)) yield idFirst(it.js);
    },
    *scan(from) {
      const ns = `${dbName}.${from}`;
      if (!collection(db, ns)) return; // mongod: a missing collection is empty
      checkJoined(db, ns, coll);
      // Matched on their bytes by the caller, decoded only when joined.
      for (const it of source(db, ns, {}, depth + 1).items)
        yield {
          raw: it.raw,
          get js() {
            return idFirst(it.js);
          },
        };
    },
  };
}

/** `$lookup` / `$graphLookup` / `$unionWith` read other namespaces of the same database in the view. */
function resolver(
  db: ViewDb,
  dbName: string,
  depth: number,
  coll: CollationSpec | null,
): (name: string) => Document[] {
  return (name) => {
    const ns = `${dbName}.${name}`;
    if (!collection(db, ns)) return []; // mongod: a missing collection is empty
    checkJoined(db, ns, coll);
    return [...source(db, ns, {}, depth + 1).items].map((i) => i.js);
  };
}

/**
 * Row ids of a lookup, read lazily in key order from the key table (a page at a time): a lookup
 * matching most of a large collection holds no list of its ids.
 */
function* lookupRids(db: ViewDb, cid: number, l: Lookup): Generator<number> {
  const ranges: KeyRange[] =
    l.kind === 'points'
      ? [...new Map(l.keys.map((k) => [k.toString('latin1'), k])).values()].map((k) => ({
          lo: k,
          loInclusive: true,
          hi: k,
          hiInclusive: true,
        }))
      : [l];
  for (const r of ranges) for (const { rid } of keysInOrder(db, cid, l.field, false, r)) yield rid;
}

/** The name of the index whose first field the lookup used. */
function indexFor(row: CollectionRow, field: string): string {
  if (field === '_id') return '_id_';
  for (const spec of decodeList(row.indexes)) {
    const key = elements(spec).find((e) => e.name === 'key');
    if (key?.type !== T.object) continue;
    const first = elements(subDocument(spec, key))[0];
    if (first?.name === field) return indexName(spec) ?? field;
  }
  return field;
}

/** Where a sort spills and how much it holds: the view's own directory in the data dir. */
function spillOptions(db: ViewDb, allowDiskUse: boolean): SpillOptions {
  return { memoryBytes: SORT_MEMORY_BYTES, allowDiskUse, dir: dirname(db.name) };
}

/**
 * The first `keep` matching items in MongoDB's sort order (bson-order.ts), through an external
 * sort: the sort keys and document bytes are held up to the memory budget and spilled to
 * temporary runs beyond it (mongod's allowDiskUse, its default since 6.0); with allowDiskUse
 * false, past the budget is refused as mongod refuses it.
 */
function* topSorted(
  db: ViewDb,
  items: Iterable<Item>,
  q: CompiledFilter,
  sort: Document,
  keep: number | undefined,
  allowDiskUse: boolean,
  collator: Collator | undefined,
): Generator<Item> {
  const spec = sortSpec(sort);
  const sorter = new ExternalSort((a, b) => compareSortKeys(a, b, spec.dirs, collator), {
    ...spillOptions(db, allowDiskUse),
    keep,
    what: 'Sort',
  });
  // Derived documents (a MongoDB view's pipeline) have no stored bytes: encoded to be sorted.
  let derived = false;
  try {
    for (const it of items) {
      if (!q.item(it)) continue;
      derived = it.raw === null;
      const raw = it.raw ?? Buffer.from(serialize(it.js));
      sorter.add(sortKeyOf(raw, spec, collator), raw);
    }
  } catch (err) {
    sorter.close();
    throw err;
  }
  for (const r of sorter.sorted())
    yield derived ? { js: decode(r.payload), raw: null } : lazyItem(r.payload, decode);
}

export interface FindOptions {
  filter: Document;
  projection?: Document | undefined;
  sort?: Document | undefined;
  skip: number;
  limit: number;
  canonical: boolean;
  /** Whether a sort no index serves may spill to disk past its memory budget (mongod's default: true). */
  allowDiskUse?: boolean | undefined;
  /** The request's collation (undefined: the namespace's own). */
  collation?: RequestedCollation;
}

/** A projection that only includes or excludes top-level fields: applied to the bytes. */
function rawProjection(p: Document): ((raw: Buffer) => Buffer) | null {
  const entries = Object.entries(p);
  if (
    entries.some(
      ([k, v]) => k.includes('.') || k.startsWith('$') || ![0, 1, true, false].includes(v as never),
    )
  )
    return null;
  const on = (v: unknown) => v === 1 || v === true;
  const rest = entries.filter(([k]) => k !== '_id');
  // `{_id: 1}` alone includes `_id` only; `{_id: 0}` alone excludes it (mongod's projection parser).
  const inclusive = rest.length > 0 ? on(rest[0]![1]) : entries.some(([k, v]) => k === '_id' && on(v));
  if (rest.some(([, v]) => on(v) !== inclusive)) return null; // mixed: mingo says why
  const named = new Set(rest.map(([k]) => k));
  const idEntry = entries.find(([k]) => k === '_id');
  const keepId = idEntry ? on(idEntry[1]) : true;
  return (raw) => {
    const b = new DocBuilder();
    for (const e of elements(raw)) {
      const keep = e.name === '_id' ? keepId : inclusive ? named.has(e.name) : !named.has(e.name);
      if (keep) b.appendRange(raw, e.start, e.end);
    }
    return b.finish();
  };
}

/**
 * A pipeline that is a find: `$match` stages, then at most one `$sort`, `$skip`, `$limit` and a
 * last `$project` of top-level fields kept or left out, in that order (the order a find applies
 * them); null for anything else, which runs as a pipeline.
 */
function findShaped(
  pipeline: Document[],
): { filter: Document; sort?: Document; skip: number; limit?: number; projection?: Document } | null {
  const order = ['$match', '$sort', '$skip', '$limit', '$project'];
  const matches: Document[] = [];
  const out: { filter: Document; sort?: Document; skip: number; limit?: number; projection?: Document } = {
    filter: {},
    skip: 0,
  };
  let at = -1;
  for (const stage of pipeline) {
    const keys = Object.keys(stage);
    if (keys.length !== 1) return null;
    const name = keys[0]!;
    const value = stage[name] as unknown;
    const k = order.indexOf(name);
    // In that order; only $match repeats (the stages after it would each need their own pass).
    if (k < 0 || (name === '$match' ? at > 0 : k <= at)) return null;
    at = Math.max(at, k);
    if (name === '$match') {
      if (!isPlainObject(value)) return null;
      matches.push(value);
    } else if (name === '$sort') {
      if (!isPlainObject(value) || Object.keys(value).length === 0) return null;
      out.sort = value;
    } else if (name === '$skip' || name === '$limit') {
      if (!Number.isSafeInteger(value) || (value as number) < (name === '$limit' ? 1 : 0)) return null;
      if (name === '$skip') out.skip = value as number;
      else out.limit = value as number;
    } else {
      if (!isPlainObject(value) || Object.keys(value).length === 0 || !rawProjection(value)) return null;
      out.projection = value;
    }
  }
  out.filter = matches.length === 1 ? matches[0]! : matches.length > 1 ? { $and: matches } : {};
  return out;
}

/**
 * mongod's pipeline stages ($project, $group, $addFields…) put `_id` first; mingo's inclusion
 * projection appends it after the other fields. Put it back where mongod has it.
 */
function idFirst(js: Document): Document {
  if (!('_id' in js) || Object.keys(js)[0] === '_id') return js;
  const { _id, ...rest } = js;
  return { _id, ...rest };
}

const jsText = (js: Document, canonical: boolean) => EJSON.stringify(js, { relaxed: !canonical });

/**
 * The matching documents of a query in order, skip and limit applied, read lazily: a sort is
 * walked from the view's key table when its first field is indexed (key-sort.ts), and held in
 * memory up to mongod's 100 MB limit otherwise.
 */
function matching(
  db: ViewDb,
  ns: string,
  o: Pick<FindOptions, 'filter' | 'sort' | 'skip' | 'allowDiskUse' | 'collation'> & {
    limit?: number | undefined;
  },
): { items: Iterable<Item>; use: IndexUse } {
  const coll = collationOf(db, ns, o.collation);
  const collator = collatorOf(coll);
  const q = compileFilter(o.filter, withCollation(coll));
  const allowDiskUse = o.allowDiskUse ?? true;
  const row = collection(db, ns);
  const natural = naturalOrder(o.sort);
  if (natural && row?.kind === 'collection') {
    // `{$natural: ±1}`: the collection scanned in the order its documents were written (a row id
    // is taken at insert and kept by updates, as mongod's record ids are), no index: as mongod.
    const use: IndexUse = { index: null, documentsExamined: 0 };
    function* scanned(): Generator<Item> {
      for (const { doc } of iterateDocs(db, row!.cid, 1000, natural === -1)) {
        use.documentsExamined++;
        const it = lazyItem(doc, decode);
        if (q.item(it)) yield it;
      }
    }
    return { items: window(scanned(), o.skip, o.limit), use };
  }
  // A key table orders strings by their bytes: under a collation the sort is done in memory.
  if (o.sort && row?.kind === 'collection' && !collator) {
    const fields = indexedFields(decodeList(row.indexes));
    const lookup = planLookup(o.filter, fields, (f) => isMultikey(db, row.cid, f));
    // A lookup of a few points, or a range on another field, narrows more than walking the sort
    // field's whole key table would (then sorted in memory, within the limit); a range on the sort
    // field bounds the walk.
    const walk = keySortable(db, row.cid, fields, o.sort);
    const field = !lookup || (lookup.kind === 'range' && lookup.field === walk) ? walk : null;
    if (field) {
      const use: IndexUse = { index: indexFor(row, field), documentsExamined: 0 };
      const range = lookup?.kind === 'range' ? lookup : undefined;
      const items = keyOrdered(
        db,
        row.cid,
        field,
        o.sort,
        q,
        decode,
        spillOptions(db, allowDiskUse),
        () => {
          use.documentsExamined++;
        },
        range,
      );
      return { items: window(items, o.skip, o.limit), use };
    }
  }
  const { items, use } = source(db, ns, o.filter, 0, collator !== undefined);
  if (o.sort) {
    const sort = o.sort;
    const keep = o.limit === undefined ? undefined : o.skip + o.limit;
    return {
      items: window(topSorted(db, items, q, sort, keep, allowDiskUse, collator), o.skip, o.limit),
      use,
    };
  }
  function* filtered(): Generator<Item> {
    for (const it of items) if (q.item(it)) yield it;
  }
  return { items: window(filtered(), o.skip, o.limit), use };
}

/** 1 or -1 for a sort that is `{$natural: 1}` or `{$natural: -1}` alone; null otherwise. */
function naturalOrder(sort: Document | undefined): 1 | -1 | null {
  if (!sort) return null;
  const keys = Object.keys(sort);
  if (keys.length !== 1 || keys[0] !== '$natural') return null;
  return Number(sort.$natural) < 0 ? -1 : 1;
}

function* window<X>(items: Iterable<X>, skip: number, limit: number | undefined): Generator<X> {
  let skipped = 0;
  let sent = 0;
  if (limit === 0) return;
  for (const it of items) {
    if (skipped < skip) {
      skipped++;
      continue;
    }
    yield it;
    if (limit !== undefined && ++sent >= limit) return;
  }
}

/**
 * The documents of a find as Extended JSON text, one at a time (a cursor's source): nothing is
 * read before the first is asked for, and no more than the one being written is held.
 */
export function findCursor(
  db: ViewDb,
  ns: string,
  o: Omit<FindOptions, 'limit'> & { limit?: number | undefined },
): { documents: Generator<string>; plan: IndexUse } {
  const { items, use } = matching(db, ns, o);
  const raw = o.projection ? rawProjection(o.projection) : (b: Buffer) => b;
  const project = computedProjection(db, ns, o);
  function* texts(): Generator<string> {
    for (const it of items) {
      if (it.raw && raw) yield ejsonText(raw(it.raw), !o.canonical);
      else {
        let js = it.js;
        try {
          // A computed projection builds a new document: `_id` first, as mongod writes it.
          if (project) js = idFirst(project(it.js));
        } catch (err) {
          throw runtimeError('projection', err);
        }
        yield jsText(js, o.canonical);
      }
    }
  }
  return { documents: texts(), plan: use };
}

/** One page of a find: `limit` documents and whether more match. */
export function find(
  db: ViewDb,
  ns: string,
  o: FindOptions,
): { documents: string[]; more: boolean; plan: IndexUse } {
  const { documents: all, plan } = findCursor(db, ns, { ...o, limit: o.limit + 1 });
  const documents = [...all];
  const more = documents.length > o.limit;
  return { documents: documents.slice(0, o.limit), more, plan };
}

/** Matching documents as raw BSON (export, selective restore): bytes as stored, or encoded from derived values. */
export function* matchingRaw(
  db: ViewDb,
  ns: string,
  o: Pick<FindOptions, 'filter' | 'projection' | 'sort' | 'skip' | 'allowDiskUse' | 'collation'> & {
    limit?: number | undefined;
  },
): Generator<{ raw: Buffer | null; js: Document }> {
  const { items } = matching(db, ns, o);
  const proj = o.projection ? rawProjection(o.projection) : (b: Buffer) => b;
  const project = computedProjection(db, ns, o);
  for (const it of items) {
    if (it.raw && proj) yield { raw: proj(it.raw), js: it.js };
    else yield { raw: null, js: project ? project(it.js) : it.js };
  }
}

/**
 * A find's projection computed by mingo, with the query's collation (its `$eq`… compare strings
 * by it, as mongod's projection inherits the query's: jstests project_with_collation.js) and the
 * fields in mongod's order (project-order.ts); null without a projection.
 */
function computedProjection(
  db: ViewDb,
  ns: string,
  o: Pick<FindOptions, 'projection' | 'collation' | 'filter'>,
): ((js: Document) => Document) | null {
  const projection = o.projection;
  if (!projection) return null;
  const options = withCollation(collationOf(db, ns, o.collation));
  const order = projectionTree(projection);
  // A positional projection (`"a.$": 1`) takes the first element the query's condition on `a`
  // matched: mingo reads that condition from its options, which a Query({}) leaves empty.
  // A document our matcher took and mingo's would not (it knows fewer operators) is projected
  // without the condition, as before.
  let conditioned: Query | null = null;
  if (Object.keys(projection).some((k) => k.endsWith('.$')))
    try {
      conditioned = new Query(o.filter ?? {}, options);
    } catch {
      conditioned = null;
    }
  const plain = new Query({}, options);
  return (js) => {
    // The positional element is found by mingo's matching, on plain numbers, then given back typed.
    const pjs = conditioned ? (plainValue(js) as Document) : js;
    const found = conditioned?.find([pjs], projection).all()[0] as Document | undefined;
    const out = (found ? retyped(found, js, pjs) : plain.find([js], projection).all()[0]) as Document;
    return order ? (inMongodOrder(out, js, order) as Document) : out;
  };
}

export function count(db: ViewDb, ns: string, filter: Document, collation?: RequestedCollation): number {
  const coll = collationOf(db, ns, collation);
  if (Object.keys(filter).length === 0) {
    const row = collection(db, ns);
    if (row?.kind === 'collection') return countDocs(db, row.cid);
  }
  const { items } = source(db, ns, filter, 0, coll !== null);
  const q = compileFilter(filter, withCollation(coll));
  let n = 0;
  for (const it of items) if (q.item(it)) n++;
  return n;
}

/** Values reached by a dotted path, arrays unwound one level, as distinct counts them. */
function valuesAt(doc: Buffer, parts: string[], at: number, out: { doc: Buffer; e: RawElement }[]): void {
  for (const e of elements(doc)) {
    if (e.name !== parts[at]) continue;
    if (at === parts.length - 1) {
      if (e.type === T.array) {
        const arr = subDocument(doc, e);
        for (const x of elements(arr)) out.push({ doc: arr, e: x });
      } else out.push({ doc, e });
    } else if (e.type === T.object) valuesAt(subDocument(doc, e), parts, at + 1, out);
    else if (e.type === T.array) {
      const arr = subDocument(doc, e);
      for (const x of elements(arr))
        if (x.type === T.object) valuesAt(subDocument(arr, x), parts, at + 1, out);
    }
    return;
  }
}

export function distinct(
  db: ViewDb,
  ns: string,
  key: string,
  filter: Document,
  canonical: boolean,
  collation?: RequestedCollation,
): string[] {
  const coll = collationOf(db, ns, collation);
  const { items } = source(db, ns, filter, 0, coll !== null);
  const q = compileFilter(filter, withCollation(coll));
  // Values equal by the collation are one ("abc" and "ABC" at strength 2): the first seen is kept.
  const seen = new ValueSet(collatorOf(coll));
  const values: string[] = [];
  const parts = key.split('.');
  for (const it of items) {
    if (!q.item(it)) continue;
    const raw = it.raw ?? Buffer.from(serialize(it.js));
    const vals: { doc: Buffer; e: RawElement }[] = [];
    valuesAt(raw, parts, 0, vals);
    for (const v of vals) if (seen.add(v.doc, v.e)) values.push(valueText(v.doc, v.e, !canonical));
  }
  return values;
}

/**
 * An aggregation's results as Extended JSON text, one at a time: the input is read lazily (a
 * leading $match narrowed by the view's keys) and the pipeline runs in bounded memory
 * (runPipeline).
 */
export function aggregateCursor(
  db: ViewDb,
  ns: string,
  pipeline: Document[],
  canonical: boolean,
  allowDiskUse = true,
  collation?: RequestedCollation,
): Generator<string> {
  // Stages a find does alike run as one, on the stored bytes: the documents come out with their
  // types as stored (Double 2.0, Int64 beyond 2^53), which a pipeline's JavaScript values lose.
  const asFind = findShaped(pipeline);
  if (asFind) return findCursor(db, ns, { ...asFind, canonical, allowDiskUse, collation }).documents;
  const coll = collationOf(db, ns, collation);
  const first = pipeline[0];
  const match = first && '$match' in first ? (first.$match as Document) : {};
  const { items } = source(db, ns, match, 0, coll !== null);
  const q = compileFilter(match, withCollation(coll));
  function* input(): Generator<Document> {
    for (const it of items) if (q.item(it)) yield it.js;
  }
  const rest = first && '$match' in first ? pipeline.slice(1) : pipeline;
  const out = runPipeline(
    input(),
    rest,
    { collectionResolver: resolver(db, splitNs(ns).db, 0, coll), ...withCollation(coll) },
    spillOptions(db, allowDiskUse),
    joins(db, splitNs(ns).db, 0, coll),
  );
  function* texts(): Generator<string> {
    try {
      for (const d of out) yield jsText(idFirst(d), canonical);
    } catch (err) {
      throw runtimeError('pipeline', err);
    }
  }
  return texts();
}

export function aggregate(
  db: ViewDb,
  ns: string,
  pipeline: Document[],
  limit: number,
  canonical: boolean,
  collation?: RequestedCollation,
): { documents: string[]; more: boolean } {
  const documents: string[] = [];
  for (const d of aggregateCursor(db, ns, pipeline, canonical, true, collation)) {
    documents.push(d);
    if (documents.length > limit) break;
  }
  return { documents: documents.slice(0, limit), more: documents.length > limit };
}

/** The document with this `_id` key in the first of the namespaces that has it (history's starting version). */
export function documentByIdKey(
  db: ViewDb,
  namespaces: Set<string>,
  key: Buffer,
): { ns: string; doc: Buffer } | null {
  const get = docByRid(db);
  const find = ridsWithKey(db);
  for (const row of listCollectionRows(db)) {
    if (!namespaces.has(row.ns) || row.kind !== 'collection') continue;
    for (const rid of find(row.cid, '_id', key)) {
      const doc = get(rid);
      if (doc) return { ns: row.ns, doc: Buffer.from(doc) };
    }
  }
  return null;
}
