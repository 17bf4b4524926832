/**
 * What a DBA types (filter, projection, sort, pipeline, an `_id`) parsed from
 * Extended JSON, with typed errors that say which part is wrong and where:
 * INVALID_INPUT with `details.field` and, for a syntax error, the message
 * of the JSON parser (position included), so the browser can show it inline.
 * Operators are checked by mingo itself before any document is read: an
 * unknown `$foo` is refused the same way.
 */
import { Double, EJSON, Int32, Long, serialize, type Document } from 'bson';
import { Query } from './mingo-context.js';
import { runPipeline } from './blocking-stages.js';
import { SORT_MEMORY_BYTES } from './external-sort.js';
import { tmpdir } from 'node:os';
import { ApiError } from '../errors.js';
import { elements } from '../oplog/bson-raw.js';
import { compileFilter } from './bson-match.js';
import { checkCollation, type CollationSpec } from './collation.js';

export type QueryPart = 'filter' | 'projection' | 'sort' | 'pipeline' | 'id' | 'collation';

function bad(part: QueryPart, message: string): ApiError {
  return new ApiError('INVALID_INPUT', `${part}: ${message}`, { field: part });
}

/**
 * An error raised while a query runs: one of mingo's (an expression given a value it cannot take,
 * `$toDate` of a string that is no date, `$add` of a string) is the query's fault, typed as the
 * part it came from; one with a code (SQLite's, ours) is passed on as it is (a damaged view is
 * rebuilt by its code).
 */
export function runtimeError(part: QueryPart, err: unknown): unknown {
  if (err instanceof ApiError || (err as { code?: unknown }).code !== undefined || !(err instanceof Error))
    return err;
  return bad(part, `${err.message} (while running it)`);
}

/**
 * Extended JSON text to a value, relaxed (plain JSON numbers are numbers, `$oid`, `$date`… are
 * BSON values) but exact: an Int64 beyond 2^53 (`{"$numberLong": "9007199254740993"}`) stays an
 * Int64, where the bson library's relaxed parse would round it to the nearest double and a
 * filter by that `_id` would find its neighbour.
 */
export function parseEjson(part: QueryPart, text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return relaxedExact(EJSON.parse(text, { relaxed: false }));
  } catch (err) {
    throw bad(part, `not valid Extended JSON (${(err as Error).message}).`);
  }
}

const MAX_PROMOTED = Long.fromNumber(2 ** 53);
const MIN_PROMOTED = Long.fromNumber(-(2 ** 53));

/** What the relaxed parse gives (Int32, Double and safe Int64 as numbers), keeping unsafe Int64 exact. */
function relaxedExact(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(relaxedExact);
  if (v instanceof Int32 || v instanceof Double) return v.valueOf();
  // As the bson library promotes a stored Int64 when it decodes a document (|v| <= 2^53), so that
  // the filter's value and the document's compare as the same JavaScript type.
  if (v instanceof Long)
    return v.lessThanOrEqual(MAX_PROMOTED) && v.greaterThanOrEqual(MIN_PROMOTED) ? v.toNumber() : v;
  if (isPlain(v)) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = relaxedExact(x);
    return out;
  }
  return v;
}

const isPlain = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype;

function object(part: QueryPart, text: string | undefined): Document | undefined {
  const v = parseEjson(part, text);
  if (v === undefined) return undefined;
  if (!isPlain(v)) throw bad(part, 'must be a JSON object, e.g. {"status": "A"}.');
  return v;
}

/** A filter, checked by compiling it (bson-match.ts refuses unknown operators and malformed operands). */
export function parseFilter(text: string | undefined): Document {
  const f = object('filter', text) ?? {};
  compileFilter(f);
  return f;
}

export function parseProjection(text: string | undefined): Document | undefined {
  const p = object('projection', text);
  if (p === undefined || Object.keys(p).length === 0) return undefined;
  try {
    new Query({}).find([{}], p).all();
  } catch (err) {
    throw bad('projection', (err as Error).message);
  }
  return p;
}

export function parseSort(text: string | undefined): Document | undefined {
  const s = object('sort', text);
  if (s === undefined || Object.keys(s).length === 0) return undefined;
  for (const [k, v] of Object.entries(s)) if (v !== 1 && v !== -1) throw bad('sort', `${k} must be 1 or -1.`);
  // The order the documents were written in, or by fields: not both (mongod refuses it too).
  if ('$natural' in s && Object.keys(s).length > 1)
    throw bad(
      'sort',
      '$natural sorts by the order documents were written in; it cannot be combined with fields.',
    );
  return s;
}

export function parsePipeline(text: string): Document[] {
  const p = parseEjson('pipeline', text);
  if (!Array.isArray(p) || p.some((s) => !isPlain(s)))
    throw bad('pipeline', 'must be a JSON array of stages, e.g. [{"$match": {"qty": {"$gt": 5}}}].');
  for (const [k, stage] of (p as Document[]).entries()) {
    const keys = Object.keys(stage);
    if (keys.length !== 1 || !keys[0]!.startsWith('$'))
      throw bad('pipeline', `stage ${k} must have exactly one $stage field.`);
  }
  // Run once on no documents, as the views run it (runPipeline: its own stages check their
  // specifications, mingo the rest): an unknown stage or a malformed one is refused here.
  try {
    const none = { indexed: () => false, matching: () => [], scan: () => [] };
    const spill = { memoryBytes: SORT_MEMORY_BYTES, allowDiskUse: true, dir: tmpdir() };
    for (const d of runPipeline([], p as Document[], { collectionResolver: () => [] }, spill, none)) void d;
  } catch (err) {
    if (err instanceof ApiError) throw err;
    throw bad('pipeline', (err as Error).message);
  }
  return p as Document[];
}

/**
 * A request's collation, e.g. `{"locale": "en", "strength": 2}`, checked with mongod's rules
 * (collation.ts): undefined when none is given (the namespace's own applies), null for
 * `{"locale": "simple"}` (bytes, whatever the namespace's own).
 */
export function parseCollation(text: string | undefined): CollationSpec | null | undefined {
  const c = object('collation', text);
  if (c === undefined) return undefined;
  return checkCollation(c, 'collation');
}

/** An `_id` given as Extended JSON, as the bytes of a one-field document `{_id: value}`. */
export function parseId(text: string): Buffer {
  const v = parseEjson('id', text);
  if (v === undefined || (v === null && text.trim() !== 'null'))
    throw bad('id', 'give the _id as Extended JSON.');
  const doc = Buffer.from(serialize({ _id: v }));
  if (elements(doc).length !== 1) throw bad('id', 'not a single value.');
  return doc;
}
