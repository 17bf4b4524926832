/**
 * `$facet` and `$setWindowFields` in bounded memory, within mongod's own
 * limits:
 *
 * - `$facet`: its input is spooled (spool.ts: memory up to the budget, then
 *   a temporary file) and read once per sub-pipeline, each run like any
 *   pipeline (a `$group` or `$sort` inside spills as usual). Its output is
 *   one document, which mongod caps at 16 MB (BSONObjectTooLarge): past it,
 *   refused. Stages mongod forbids inside a facet are refused (40600).
 * - `$setWindowFields`: the input sorted by partition then `sortBy` (external
 *   sort, spilling), then one partition at a time handed to mingo's
 *   `$setWindowFields` (window functions stay mingo's). One partition is
 *   held; past the budget it is refused, as mongod refuses a partition past
 *   its 100 MB limit (5414201), never run out of memory.
 */
import { calculateObjectSize, serialize, type Document } from 'bson';
import { decodeTyped, plainValue } from './typed-values.js';
import { isPlainObject } from './lookup-plan.js';
import { ApiError } from '../errors.js';
import { DocBuilder, elements } from '../oplog/bson-raw.js';
import { compareSortKeys, compareValues, sortKeyOf, sortSpec } from './bson-order.js';
import { bcp47, collatorOf, type CollationSpec } from './collation.js';
import { plainSort, type SpillOptions } from './stage-types.js';
import { ExternalSort } from './external-sort.js';
import { MAX_DOCUMENT_BYTES } from './join-stages.js';
import { Aggregator, streamThrough } from './mingo-context.js';
import { Spool } from './spool.js';

type Options = ConstructorParameters<typeof Aggregator>[1];
type Run = (input: Iterable<Document>, pipeline: Document[], options: Options) => Iterable<Document>;

const isObj = (v: unknown): v is Document => typeof v === 'object' && v !== null && !Array.isArray(v);

function bad(message: string): ApiError {
  return new ApiError('INVALID_INPUT', `pipeline: ${message}`, { field: 'pipeline' });
}

/** mongod: these stages cannot be used inside $facet (40600). */
const NOT_IN_FACET = new Set([
  '$collStats',
  '$facet',
  '$geoNear',
  '$indexStats',
  '$out',
  '$merge',
  '$planCacheStats',
  '$search',
  '$searchMeta',
  '$vectorSearch',
  '$changeStream',
]);

export function* facetStage(
  input: Iterable<Document>,
  spec: unknown,
  options: Options,
  spill: SpillOptions,
  run: Run,
): Generator<Document> {
  if (!isObj(spec) || Object.keys(spec).length === 0) throw bad('$facet must be a non-empty object.');
  for (const [name, sub] of Object.entries(spec)) {
    if (name.startsWith('$') || name.includes('.') || name === '')
      throw bad(`$facet: '${name}' is not a valid output field name.`);
    if (!Array.isArray(sub) || sub.length === 0)
      throw bad(`$facet: '${name}' must be a non-empty array of stages.`);
    for (const stage of sub) {
      if (!isObj(stage) || Object.keys(stage).length !== 1)
        throw bad(`$facet: '${name}' has a malformed stage.`);
      const op = Object.keys(stage)[0]!;
      if (NOT_IN_FACET.has(op))
        throw bad(`$facet: ${op} is not allowed to be used within a $facet stage (40600).`);
    }
  }
  const spool = new Spool(spill, '$facet');
  try {
    for (const d of input) spool.add(Buffer.from(serialize(d)));
    const out: Document = {};
    let bytes = 0;
    for (const [name, sub] of Object.entries(spec)) {
      const docs: Document[] = [];
      const source = (function* () {
        for (const raw of spool.read()) yield decodeTyped(raw);
      })();
      for (const d of run(source, sub as Document[], options)) {
        bytes += calculateObjectSize(d);
        if (bytes > MAX_DOCUMENT_BYTES)
          throw new ApiError(
            'UNSUPPORTED',
            `$facet's output document would exceed ${MAX_DOCUMENT_BYTES} bytes (mongod: BSONObjectTooLarge, the 16 MB document limit): narrow its pipelines or add $limit.`,
            { reason: 'memory-limit', limitBytes: MAX_DOCUMENT_BYTES },
          );
        docs.push(d);
      }
      out[name] = docs;
    }
    yield out;
  } finally {
    spool.close();
  }
}

/** The field that carries a document's place in the stage's order to mingo (see setWindowFieldsStage). */
const PLACE = '__viewsPlace';
/** The sortBy value, plain (a number or a date), that mingo's range windows read (see setWindowFieldsStage). */
const SORT_VALUE = '__viewsSortValue';

/** Removes PLACE and SORT_VALUE from the documents inside a window's output value (its copies of $$ROOT). */
function stripBookkeeping(v: unknown): void {
  if (Array.isArray(v)) for (const x of v) stripBookkeeping(x);
  else if (isPlainObject(v)) {
    delete (v as Document)[PLACE];
    delete (v as Document)[SORT_VALUE];
    for (const x of Object.values(v)) stripBookkeeping(x);
  }
}

/** The value at a dotted path of plain documents (undefined where it stops). */
function getPath(d: Document, path: string): unknown {
  let v: unknown = d;
  for (const p of path.split('.')) v = isObj(v) ? (v as Document)[p] : undefined;
  return v;
}

/** The one sortBy field whose values a range window, $derivative, $integral or $linearFill read. */
function sortValuePath(sortBy: Document): string {
  const paths = Object.keys(sortBy);
  if (paths.length !== 1)
    throw bad(
      '$setWindowFields: a range window, $derivative, $integral and $linearFill need a sortBy of exactly one field, as in mongod.',
    );
  return paths[0]!;
}

/** A document's sortBy value for those windows: a number or a date, else refused as mongod refuses it (5429414). */
function sortValueOf(d: Document, path: string): unknown {
  const v = plainValue(getPath(d, path));
  if (typeof v === 'number' || v instanceof Date) return v;
  throw bad(
    `$setWindowFields: Invalid range: Expected the sortBy field '${path}' to be a number or a date, but it was ${v === undefined ? 'missing' : v === null ? 'null' : typeof v} (mongod: 5429414).`,
  );
}

/** Whether any output reads its sortBy field's values: a range window, or an operator that computes on them. */
function readsSortValues(output: unknown): boolean {
  return Object.values(output as Document).some((o) => {
    if (!isObj(o)) return false;
    if (isObj(o.window) && ('range' in o.window || 'unit' in o.window)) return true;
    return Object.keys(o).some((k) => ['$derivative', '$integral', '$linearFill'].includes(k));
  });
}

export function* setWindowFieldsStage(
  input: Iterable<Document>,
  spec: unknown,
  options: Options,
  spill: SpillOptions,
): Generator<Document> {
  if (!isObj(spec)) throw bad('$setWindowFields must be an object.');
  for (const k of Object.keys(spec))
    if (!['partitionBy', 'sortBy', 'output'].includes(k))
      throw bad(`$setWindowFields: unknown field '${k}'.`);
  if (!isObj(spec.output)) throw bad("$setWindowFields: 'output' must be an object.");
  const sortBy = spec.sortBy as Document | undefined;
  if (sortBy !== undefined && (!isObj(sortBy) || !plainSort(sortBy)))
    throw bad("$setWindowFields: 'sortBy' must be a sort document of 1 / -1.");
  const sort = sortSpec(sortBy ?? {});
  const dirs = [1, ...sort.dirs];
  const evaluated = streamThrough(
    [{ $replaceWith: { p: spec.partitionBy === undefined ? null : spec.partitionBy, d: '$$ROOT' } }],
    options,
    input,
  );
  // Partitions and order by the pipeline's collation, as mongod's.
  const collator = collatorOf(options?.collation as CollationSpec | undefined);
  const sorter = new ExternalSort((a, b) => compareSortKeys(a, b, dirs, collator), {
    ...spill,
    what: '$setWindowFields',
  });
  try {
    for (;;) {
      const r = evaluated.next();
      if (r.done) break;
      const x = r.value as { p?: unknown; d: Document };
      const raw = Buffer.from(serialize(x.d));
      const p = Buffer.from(serialize({ p: x.p ?? null }));
      const key = new DocBuilder();
      const pe = elements(p)[0]!;
      key.appendRange(p, pe.start, pe.end);
      const sk = sortKeyOf(raw, sort, collator);
      for (const e of elements(sk)) key.appendRange(sk, e.start, e.end);
      sorter.add(key.finish(), raw);
    }
  } catch (err) {
    sorter.close();
    evaluated.return(undefined);
    throw err;
  }
  // mingo sorts the partition again, by its own order (JavaScript's, bson objects by their text):
  // it gets each document's place in this stage's order instead of the sortBy values (equal keys,
  // by MongoDB's order and the collation, the same place), so that its sort and its ties ($rank,
  // $denseRank) follow mongod's. Windows that read the values (range windows, $derivative,
  // $integral, $linearFill) sort by one field, whose value they get plain in a field of its own
  // (mingo's ranges read neither bson objects nor dotted paths); the document keeps its own.
  const valuePath = sortBy !== undefined && readsSortValues(spec.output) ? sortValuePath(sortBy) : null;
  const byPlace = sortBy !== undefined && valuePath === null;
  const outputs = Object.keys(spec.output);
  const stage = {
    $setWindowFields: {
      ...(sortBy
        ? { sortBy: byPlace ? { [PLACE]: 1 } : { [SORT_VALUE]: sortBy[valuePath!] as number } }
        : {}),
      output: spec.output,
    },
  };
  // mingo sorts the partition again by sortBy with its own collator, built from options' collation
  // with Intl.Collator, which takes a BCP 47 tag: mongod's 'en_US' threw there (RangeError).
  const mingoOptions = (
    options?.collation
      ? {
          ...options,
          collation: {
            ...(options.collation as CollationSpec),
            locale: bcp47((options.collation as CollationSpec).locale),
          },
        }
      : options
  ) as Options;
  let partition: Document[] = [];
  let place = 0;
  let previous: Buffer | null = null;
  let bytes = 0;
  let current: Buffer | null = null;
  const samePartition = (a: Buffer, b: Buffer) => {
    const ea = elements(a)[0]!;
    const eb = elements(b)[0]!;
    return compareValues(a, ea, b, eb, collator) === 0;
  };
  const flush = function* (): Generator<Document> {
    if (!partition.length) return;
    const docs = partition;
    partition = [];
    bytes = 0;
    const out = new Aggregator([stage], mingoOptions).run(docs) as Document[];
    for (const d of out) {
      delete d[PLACE];
      delete d[SORT_VALUE];
      // An output that reads $$ROOT ($push of it…) copied the bookkeeping fields too.
      for (const f of outputs) stripBookkeeping(d[f]);
    }
    yield* out;
  };
  for (const r of sorter.sorted()) {
    if (current !== null && !samePartition(current, r.key)) yield* flush();
    current = r.key;
    bytes += r.payload.length * 3 + 64; // decoded, a document takes a few times its bytes
    if (bytes > spill.memoryBytes)
      throw new ApiError(
        'UNSUPPORTED',
        `$setWindowFields: one partition exceeded the memory limit of ${spill.memoryBytes} bytes (mongod refuses a partition past its limit: 5414201): partition more finely or filter first.`,
        { reason: 'memory-limit', limitBytes: spill.memoryBytes },
      );
    const d = decodeTyped(r.payload);
    if (byPlace) {
      if (previous !== null && compareSortKeys(previous, r.key, dirs, collator) !== 0) place++;
      previous = r.key;
      d[PLACE] = place;
    }
    if (valuePath !== null) d[SORT_VALUE] = sortValueOf(d, valuePath);
    partition.push(d);
  }
  yield* flush();
}
