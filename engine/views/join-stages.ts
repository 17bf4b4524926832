/**
 * The stages that read another collection, streamed as mongod runs them
 * instead of mingo's way (which resolves the other collection into one
 * array, held whole):
 *
 * - `$lookup` on a foreign field no index serves, or with a pipeline (and
 *   `let`): mongod's nested-loop join, the foreign collection read again for
 *   each input document (through its key table when `foreignField` is
 *   indexed), its matches run through the sub-pipeline. Memory holds one
 *   input document's joined array, which mongod caps at the 16 MB document
 *   limit (BSONObjectTooLarge): past it, refused.
 * - `$unionWith`: the input, then the other collection through its pipeline.
 * - `$graphLookup`: a breadth-first search per input document, each round
 *   one read of the foreign collection for the values of the frontier. Its
 *   visited documents and frontier are held, within the stage's memory
 *   budget, as mongod holds them within 100 MB without spilling
 *   ("$graphLookup reached maximum memory consumption", code 40099): past the
 *   budget, refused.
 */
import { Long, calculateObjectSize, serialize, type Document } from 'bson';
import { elementTyped } from './typed-values.js';
import { resolve } from 'mingo/util';
import { ApiError } from '../errors.js';
import { elements, subDocument, T } from '../oplog/bson-raw.js';
import { compileFilter } from './bson-match.js';
import { ValueSet } from './bson-order.js';
import { collatorOf, type CollationSpec } from './collation.js';
import { streamThrough, type Aggregator } from './mingo-context.js';
import type { IndexedJoin, SpillOptions } from './stage-types.js';

type Options = ConstructorParameters<typeof Aggregator>[1];
type Run = (input: Iterable<Document>, pipeline: Document[], options: Options) => Iterable<Document>;

/** mongod's BSONObjMaxUserSize: one result document, the `as` array included. */
export const MAX_DOCUMENT_BYTES = 16 * 1024 * 1024;

const isPlain = (v: unknown): v is Document =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype;

function badStage(stage: string, message: string): ApiError {
  return new ApiError('INVALID_INPUT', `pipeline: ${stage}: ${message}`, { field: 'pipeline' });
}

function tooLarge(stage: string, bytes: number): ApiError {
  return new ApiError(
    'UNSUPPORTED',
    `${stage} made a document of more than ${bytes} bytes (mongod: BSONObjectTooLarge, the 16 MB document limit); add $unwind after it or narrow the join.`,
    { reason: 'memory-limit', limitBytes: bytes },
  );
}

/** Documents of `input` with the results of `lets` (mingo expressions on each), streamed. */
function withLets(
  input: Iterable<Document>,
  lets: Document,
  options: Options,
): Iterable<{ doc: Document; vars: Document }> {
  if (Object.keys(lets).length === 0) {
    return (function* () {
      for (const doc of input) yield { doc, vars: {} };
    })();
  }
  return (function* () {
    for (const r of streamThrough([{ $replaceWith: { d: '$$ROOT', v: lets } }], options, input)) {
      const x = r as { d: Document; v?: Document };
      yield { doc: x.d, vars: x.v ?? {} };
    }
  })();
}

function* docsOf(items: Iterable<{ js: Document }>): Generator<Document> {
  for (const it of items) yield it.js;
}

/** The values a local field names ($lookup): an array's elements, missing as null. */
function localValues(doc: Document, path: string): unknown[] {
  const v = resolve(doc, path) ?? null;
  return Array.isArray(v) ? (v as unknown[]) : [v];
}

/** Whether a `$lookup` is one this file runs (anything but a `from`-less `$documents` pipeline). */
export function streamableLookup(spec: Document): boolean {
  return typeof spec.from === 'string' && typeof spec.as === 'string';
}

/** `doc` with `value` at a dotted path (`as: "a.b"`), embedded documents copied on the way, as mongod sets it. */
function withPath(doc: Document, path: string, value: unknown): Document {
  const [head, ...rest] = path.split('.');
  if (rest.length === 0) return { ...doc, [head!]: value };
  const inner = doc[head!];
  return { ...doc, [head!]: withPath(isPlain(inner) ? inner : {}, rest.join('.'), value) };
}

/** `$lookup` (see the header): one input document at a time. */
export function* lookupStream(
  input: Iterable<Document>,
  spec: Document,
  options: Options,
  joins: IndexedJoin,
  run: Run,
): Generator<Document> {
  const { from, as, localField, foreignField } = spec as Record<string, unknown>;
  const pipeline = spec.pipeline ?? [];
  const lets = spec.let ?? {};
  if (!Array.isArray(pipeline)) throw badStage('$lookup', "'pipeline' must be an array.");
  if (!isPlain(lets)) throw badStage('$lookup', "'let' must be a document.");
  if ((localField === undefined) !== (foreignField === undefined))
    throw badStage('$lookup', "'localField' and 'foreignField' go together.");
  if (localField !== undefined && (typeof localField !== 'string' || typeof foreignField !== 'string'))
    throw badStage('$lookup', "'localField' and 'foreignField' must be strings.");
  if (localField === undefined && !spec.pipeline)
    throw badStage('$lookup', "needs 'localField' and 'foreignField', or a 'pipeline'.");
  const indexed = typeof foreignField === 'string' && joins.indexed(from as string, foreignField);
  for (const { doc, vars } of withLets(input, lets, options)) {
    let foreign: Iterable<Document>;
    if (typeof localField === 'string') {
      const values = localValues(doc, localField);
      if (indexed) foreign = joins.matching(from as string, foreignField as string, values);
      else {
        // The pipeline's collation (options) compares the values, as mongod's $lookup does.
        const m = compileFilter({ [foreignField as string]: { $in: values } }, options);
        foreign = (function* () {
          for (const it of joins.scan(from as string)) if (m.item(it)) yield it.js;
        })();
      }
    } else foreign = docsOf(joins.scan(from as string));
    const joined =
      pipeline.length > 0
        ? run(foreign, pipeline as Document[], {
            ...options,
            variables: { ...(options as { variables?: Document } | undefined)?.variables, ...vars },
          })
        : foreign;
    const matches: Document[] = [];
    let bytes = calculateObjectSize(doc);
    for (const d of joined) {
      bytes += calculateObjectSize(d);
      if (bytes > MAX_DOCUMENT_BYTES) {
        (joined as Partial<Generator<Document>>).return?.(undefined);
        throw tooLarge('$lookup', MAX_DOCUMENT_BYTES);
      }
      matches.push(d);
    }
    yield withPath(doc, as as string, matches);
  }
}

/** `$unionWith`: the input, then the other collection through its pipeline. */
export function* unionWithStream(
  input: Iterable<Document>,
  spec: unknown,
  options: Options,
  joins: IndexedJoin,
  run: Run,
): Generator<Document> {
  const coll = typeof spec === 'string' ? spec : isPlain(spec) ? spec.coll : undefined;
  const pipeline = isPlain(spec) ? (spec.pipeline ?? []) : [];
  if (typeof coll !== 'string') throw badStage('$unionWith', "needs a collection name ('coll').");
  if (!Array.isArray(pipeline)) throw badStage('$unionWith', "'pipeline' must be an array.");
  yield* input;
  yield* run(docsOf(joins.scan(coll)), pipeline as Document[], options);
}

/** `$graphLookup` (see the header): a breadth-first search per input document. */
export function* graphLookupStream(
  input: Iterable<Document>,
  spec: Document,
  options: Options,
  joins: IndexedJoin,
  spill: SpillOptions,
): Generator<Document> {
  const { from, startWith, connectFromField, connectToField, as, maxDepth, depthField } = spec;
  const restrict = spec.restrictSearchWithMatch ?? {};
  for (const [name, v] of [
    ['from', from],
    ['connectFromField', connectFromField],
    ['connectToField', connectToField],
    ['as', as],
  ] as const)
    if (typeof v !== 'string') throw badStage('$graphLookup', `'${name}' must be a string.`);
  if (startWith === undefined) throw badStage('$graphLookup', "needs 'startWith'.");
  if (depthField !== undefined && typeof depthField !== 'string')
    throw badStage('$graphLookup', "'depthField' must be a string.");
  const max = maxDepth === undefined ? Infinity : Number(maxDepth);
  if (!Number.isInteger(max) && max !== Infinity)
    throw badStage('$graphLookup', "'maxDepth' must be an integer.");
  if (max < 0) throw badStage('$graphLookup', "'maxDepth' must be nonnegative.");
  if (!isPlain(restrict)) throw badStage('$graphLookup', "'restrictSearchWithMatch' must be a document.");
  const restricted = compileFilter(restrict, options);
  const indexed = joins.indexed(from as string, connectToField as string);
  const limit = spill.memoryBytes;
  const fromPath = (connectFromField as string).split('.');
  const collator = collatorOf(options?.collation as CollationSpec | undefined);
  for (const { doc, vars } of withLets(input, { s: startWith }, options)) {
    const start = vars.s;
    // Values and _ids equal by the pipeline's collation are one (document_source_graph_lookup.cpp:
    // _visited and the frontier are built from the expression context's value comparator).
    let frontier: { x: unknown; b: Buffer }[] = [];
    const queried = new ValueSet(collator);
    const inFrontier = new ValueSet(collator);
    const addValue = (x: unknown) => {
      const b = Buffer.from(serialize({ v: x }));
      const e = elements(b)[0]!;
      if (!queried.has(b, e) && inFrontier.add(b, e)) frontier.push({ x, b });
    };
    for (const x of Array.isArray(start) ? start : [start ?? null]) addValue(x);
    const visitedIds = new ValueSet(collator);
    const visited: Document[] = [];
    let bytes = 0;
    for (let depth = 0; frontier.length > 0 && depth <= max; depth++) {
      const values = frontier.map((f) => f.x);
      for (const { b } of frontier) queried.add(b, elements(b)[0]!);
      frontier = [];
      inFrontier.clear();
      const m = compileFilter({ [connectToField as string]: { $in: values } }, options);
      const found = indexed
        ? joins.matching(from as string, connectToField as string, values)
        : (function* () {
            for (const it of joins.scan(from as string)) if (m.item(it)) yield it.js;
          })();
      for (const d of found) {
        if (!restricted.js(d)) continue;
        const raw = Buffer.from(serialize(d));
        const idEl = elements(raw).find((e) => e.name === '_id');
        if (idEl && !visitedIds.add(raw, idEl)) continue;
        const out = depthField ? { ...d, [depthField as string]: Long.fromNumber(depth) } : d;
        visited.push(out);
        bytes += raw.length + 64;
        // The next round's values: connectFromField of the documents found, not queried yet.
        for (const v of fromValues(raw, fromPath)) addValue(v);
        if (bytes > limit) {
          (found as Partial<Generator<Document>>).return?.(undefined);
          throw new ApiError(
            'UNSUPPORTED',
            `$graphLookup used more than its memory limit of ${limit} bytes (mongod: "$graphLookup reached maximum memory consumption", it does not spill): add maxDepth or restrictSearchWithMatch.`,
            { reason: 'memory-limit', limitBytes: limit },
          );
        }
      }
    }
    if (bytes + calculateObjectSize(doc) > MAX_DOCUMENT_BYTES)
      throw tooLarge('$graphLookup', MAX_DOCUMENT_BYTES);
    yield { ...doc, [as as string]: visited };
  }
}

/** The values of a path in a document's bytes (arrays: each element). */
function fromValues(raw: Buffer, parts: string[]): unknown[] {
  const out: unknown[] = [];
  const walk = (doc: Buffer, at: number) => {
    const e = elements(doc).find((x) => x.name === parts[at]);
    if (!e) return;
    if (at === parts.length - 1) {
      if (e.type === T.array) {
        const arr = subDocument(doc, e);
        for (const x of elements(arr)) out.push(elementTyped(arr, x));
      } else out.push(elementTyped(doc, e));
    } else if (e.type === T.object) walk(subDocument(doc, e), at + 1);
    else if (e.type === T.array) {
      const arr = subDocument(doc, e);
      for (const x of elements(arr)) if (x.type === T.object) walk(subDocument(arr, x), at + 1);
    }
  };
  walk(raw, 0);
  return out;
}
