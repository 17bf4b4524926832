/**
 * The aggregation stages that must see their whole input before they answer
 * (`$sort`, `$group`), run in bounded memory as mongod runs them with
 * allowDiskUse: through an external sort (external-sort.ts) in MongoDB's
 * comparison order (bson-order.ts), not in a JavaScript array.
 *
 * `$group` sorts its input by the group key (its `_id` expression, computed
 * by mingo with the operands of its accumulators, so expressions keep
 * mingo's semantics) and then accumulates one group at a time: memory holds
 * one group's accumulators, not a map of every group nor the input. The
 * groups come out in key order (mongod leaves their order unspecified).
 * Accumulated here: $sum, $avg, $min, $max, $first, $last, $push,
 * $addToSet, $count, $mergeObjects, $stdDevPop, $stdDevSamp, and the ones
 * that keep n values ($firstN, $lastN, $maxN, $minN, $top, $bottom, $topN,
 * $bottomN); $median, $percentile (mongod's approximate t-digest) and
 * $accumulator (JavaScript) are refused, never computed another way.
 * `$bucket` is the `$group` mongod defines it to be, `$bucketAuto` the same
 * sorted input cut into buckets.
 *
 * As in mongod: `$push` and `$addToSet` skip a missing value, `$first` and
 * `$last` give null for one, `$min`/`$max` ignore null and missing, and an
 * accumulator that grows one group's array past 100 MB is refused
 * (ExceededMemoryLimit: mongod cannot spill those either).
 */
import { Long, serialize, type Document } from 'bson';
import { Aggregator, BUCKET_MISS, compareJs, streamThrough } from './mingo-context.js';
import { typeClass } from './index-keys.js';
import { resolve } from 'mingo/util';
import { ApiError } from '../errors.js';
import { elements, subDocument, type RawElement } from '../oplog/bson-raw.js';
import {
  compareSortKeys,
  compareValues,
  sortKeyOf,
  sortSpec,
  ValueSet,
  type SortSpec,
} from './bson-order.js';
import { ExternalSort, type SortRecord } from './external-sort.js';
import { compileFilter } from './bson-match.js';
import { collatorOf, type CollationSpec, type Collator } from './collation.js';
import { plainSort, type IndexedJoin, type SpillOptions } from './stage-types.js';
import { facetStage, setWindowFieldsStage } from './facet-window-stages.js';
import { decodeTyped, elementTyped } from './typed-values.js';
import { NumberSum, StdDev } from './number-sums.js';
import { graphLookupStream, lookupStream, streamableLookup, unionWithStream } from './join-stages.js';

/** mongod's internalQueryMaxPushBytes / internalQueryMaxAddToSetBytes. */
const MAX_ARRAY_BYTES = 100 * 1024 * 1024;

export type { SpillOptions, IndexedJoin } from './stage-types.js';
export { plainSort } from './stage-types.js';

/** `$sort` (with the `$limit` that follows it, as mongod's top-k sort): documents in MongoDB's order. */
export function* sortStage(
  input: Iterable<Document>,
  sort: Document,
  keep: number | undefined,
  o: SpillOptions,
  collator?: Collator,
): Generator<Document> {
  const spec = sortSpec(sort);
  const sorter = new ExternalSort((a, b) => compareSortKeys(a, b, spec.dirs, collator), {
    ...o,
    keep,
    what: '$sort',
  });
  try {
    for (const doc of input) {
      const raw = Buffer.from(serialize(doc));
      sorter.add(sortKeyOf(raw, spec, collator), raw);
    }
  } catch (err) {
    sorter.close();
    throw err;
  }
  for (const r of sorter.sorted()) yield decodeTyped(r.payload);
}

type Op =
  | '$sum'
  | '$avg'
  | '$min'
  | '$max'
  | '$first'
  | '$last'
  | '$push'
  | '$addToSet'
  | '$count'
  | '$mergeObjects'
  | '$stdDevPop'
  | '$stdDevSamp'
  | '$firstN'
  | '$lastN'
  | '$maxN'
  | '$minN'
  | '$top'
  | '$bottom'
  | '$topN'
  | '$bottomN';

const OPS = new Set<string>([
  '$sum',
  '$avg',
  '$min',
  '$max',
  '$first',
  '$last',
  '$push',
  '$addToSet',
  '$count',
  '$mergeObjects',
  '$stdDevPop',
  '$stdDevSamp',
  '$firstN',
  '$lastN',
  '$maxN',
  '$minN',
  '$top',
  '$bottom',
  '$topN',
  '$bottomN',
]);
/** mongod's $group accumulators that are not computed here, and why. */
const REFUSED_OPS: Record<string, string> = {
  $median: 'mongod computes it with an approximate t-digest, which is not reproduced here',
  $percentile: 'mongod computes it with an approximate t-digest, which is not reproduced here',
  $accumulator: 'a view has no JavaScript engine',
  $concatArrays: 'not supported here (mongod 8.1+)',
  $setUnion: 'not supported here (mongod 8.1+)',
};

interface Acc {
  field: string;
  op: Op;
  expr: unknown;
  /** $firstN … $bottomN: how many. */
  n: number;
  /** $top … $bottomN: the order. */
  sort: SortSpec | null;
}

function badGroup(message: string): ApiError {
  return new ApiError('INVALID_INPUT', `pipeline: ${message}`, { field: 'pipeline' });
}

const isObj = (v: unknown): v is Document => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `n` of an N accumulator: a positive integer constant (mongod: 5787908 / 5787902). */
function countOf(op: string, n: unknown): number {
  const x = typeof n === 'number' ? n : n instanceof Long ? n.toNumber() : NaN;
  if (!Number.isInteger(x) || x <= 0)
    throw badGroup(`${op}: 'n' must be a positive integer constant, got ${JSON.stringify(n)}.`);
  return x;
}

/**
 * The accumulators of a `$group` (or `$bucket`, `$bucketAuto` output), checked as mongod checks
 * them: an unknown operator is INVALID_INPUT ("unknown group operator"), one mongod has but that
 * is not computed here is UNSUPPORTED, never silently computed another way.
 */
export function accumulators(spec: Document, what = '$group'): Acc[] {
  const out: Acc[] = [];
  for (const [field, v] of Object.entries(spec)) {
    if (field === '_id' && what === '$group') continue;
    if (field.includes('.')) throw badGroup(`${what}: the field name '${field}' cannot contain '.'.`);
    if (!isObj(v)) throw badGroup(`${what}: the field '${field}' must be an accumulator object.`);
    const keys = Object.keys(v);
    if (keys.length !== 1) throw badGroup(`${what}: the field '${field}' must specify one accumulator.`);
    const op = keys[0]!;
    const arg = v[op];
    if (REFUSED_OPS[op])
      throw new ApiError(
        'UNSUPPORTED',
        `${what}: ${op} is not supported on a point-in-time view: ${REFUSED_OPS[op]}.`,
        {
          field: 'pipeline',
          reason: 'unsupported-operator',
          operator: op,
        },
      );
    if (!OPS.has(op)) throw badGroup(`${what}: unknown group operator '${op}'.`);
    let n = 1;
    let sort: SortSpec | null = null;
    let expr: unknown = arg;
    if (op === '$firstN' || op === '$lastN' || op === '$maxN' || op === '$minN') {
      if (!isObj(arg) || !('input' in arg) || !('n' in arg))
        throw badGroup(`${op} needs a document with 'input' and 'n'.`);
      n = countOf(op, arg.n);
      expr = arg.input;
    } else if (op === '$top' || op === '$bottom' || op === '$topN' || op === '$bottomN') {
      if (!isObj(arg) || !isObj(arg.sortBy) || !('output' in arg))
        throw badGroup(`${op} needs a document with 'sortBy' (a sort document) and 'output'.`);
      if (op === '$topN' || op === '$bottomN') n = countOf(op, arg.n);
      else if ('n' in arg) throw badGroup(`${op} takes no 'n' (use ${op}N).`);
      if (!plainSort(arg.sortBy)) throw badGroup(`${op}: 'sortBy' directions must be 1 or -1.`);
      sort = sortSpec(arg.sortBy);
      // The output and the sort fields, evaluated together per document.
      const fields: Document = {};
      Object.keys(arg.sortBy).forEach((path, k) => (fields[`f${k}`] = `$${path}`));
      expr = { o: arg.output, s: fields };
      sort = { paths: sort.paths.map((_, k) => ['s', `f${k}`]), dirs: sort.dirs };
    }
    out.push({ field, op: op as Op, expr, n, sort });
  }
  return out;
}

/** One value kept by an N accumulator: its bytes, its order key, its arrival. */
interface Kept {
  doc: Buffer;
  e: RawElement;
  key: Buffer | null;
  seq: number;
  v: unknown;
}

function memoryRefusal(op: string): ApiError {
  return new ApiError(
    'UNSUPPORTED',
    `${op} used more than ${MAX_ARRAY_BYTES} bytes in one group and cannot spill to disk (as mongod: ExceededMemoryLimit).`,
    { reason: 'memory-limit', limitBytes: MAX_ARRAY_BYTES },
  );
}

/** The running state of one accumulator over one group. */
class State {
  n = 0;
  /** $sum and $avg, with mongod's result types (typed-operators.ts). */
  total = new NumberSum();
  /** $stdDevPop / $stdDevSamp (Welford's running mean and squares: one group's memory stays small). */
  std = new StdDev();
  best: { doc: Buffer; e: RawElement } | null = null;
  first: unknown = undefined;
  seen = false;
  last: unknown = null;
  list: unknown[] = [];
  listBytes = 0;
  set: ValueSet;
  merged: Document = {};
  kept: Kept[] = [];
  seq = 0;
  positional = false;

  /** `collator`: the pipeline's collation ($min, $max, $addToSet and the N / top forms compare strings by it). */
  constructor(
    readonly acc: Acc,
    private readonly collator?: Collator,
  ) {
    this.set = new ValueSet(collator);
  }

  /**
   * One document's operand. `pos` (its place in the stage's input) is given by `$bucketAuto`, whose
   * buckets are in value order: its $first, $last, $firstN and $lastN follow input order, as
   * mongod's positional accumulators there do; `$group`'s input within a group is in that order.
   */
  add(values: Buffer, e: RawElement | undefined, v: unknown, pos?: number): void {
    const { op } = this.acc;
    if (pos !== undefined && POSITIONAL.has(op)) {
      const fromEnd = op === '$last' || op === '$lastN';
      this.positional = true;
      this.insert(
        { doc: values, e: e!, key: null, seq: pos, v: v ?? null },
        (a, b) => a.seq - b.seq,
        fromEnd,
      );
      return;
    }
    switch (op) {
      case '$count':
        this.n++;
        return;
      case '$sum':
      case '$avg':
        this.total.add(v);
        return;
      case '$stdDevPop':
      case '$stdDevSamp':
        this.std.add(v);
        return;
      case '$min':
      case '$max': {
        if (!e || v === null || v === undefined) return;
        const c = this.best ? compareValues(values, e, this.best.doc, this.best.e, this.collator) : 0;
        if (!this.best || (op === '$min' ? c < 0 : c > 0)) this.best = { doc: values, e };
        return;
      }
      case '$first':
        if (!this.seen) this.first = v ?? null;
        this.seen = true;
        return;
      case '$last':
        this.last = v ?? null;
        return;
      case '$push':
      case '$addToSet': {
        if (!e) return;
        if (op === '$addToSet') {
          if (!this.set.add(values, e)) return;
        }
        this.listBytes += e.end - e.start;
        if (this.listBytes > MAX_ARRAY_BYTES) throw memoryRefusal(op);
        this.list.push(v);
        return;
      }
      case '$mergeObjects':
        // null and missing are ignored; anything else but a document is refused (mongod: 40400).
        if (v === null || v === undefined) return;
        if (!isObj(v) || Object.getPrototypeOf(v) !== Object.prototype)
          throw badGroup(
            `$mergeObjects requires object inputs, but input ${JSON.stringify(v)} is not a document.`,
          );
        Object.assign(this.merged, v);
        return;
      case '$firstN':
        // mongod keeps null and missing (as null) in $firstN / $lastN.
        if (this.list.length < this.acc.n) this.keep(op, e, v ?? null);
        return;
      case '$lastN':
        this.keep(op, e, v ?? null);
        if (this.list.length > this.acc.n) this.list.shift();
        return;
      case '$maxN':
      case '$minN': {
        // null and missing are not counted ($maxN / $minN docs).
        if (!e || v === null || v === undefined || e.type === 0x06) return;
        this.insert({ doc: values, e, key: null, seq: this.seq++, v }, (a, b) =>
          op === '$maxN'
            ? compareValues(b.doc, b.e, a.doc, a.e, this.collator)
            : compareValues(a.doc, a.e, b.doc, b.e, this.collator),
        );
        return;
      }
      case '$top':
      case '$topN':
      case '$bottom':
      case '$bottomN': {
        const doc = e && e.type === 0x03 ? subDocument(values, e) : EMPTY;
        const key = sortKeyOf(doc, this.acc.sort!, this.collator);
        const dirs = this.acc.sort!.dirs;
        const top = op === '$top' || op === '$topN';
        const out = isObj(v) ? (v as Document).o : undefined;
        // Kept in sort order, earliest first among equal keys; $bottom keeps the last n of that order.
        this.insert(
          { doc, e: e!, key, seq: this.seq++, v: out ?? null },
          (a, b) => compareSortKeys(a.key!, b.key!, dirs, this.collator) || a.seq - b.seq,
          !top,
        );
        return;
      }
    }
  }

  private keep(op: string, e: RawElement | undefined, v: unknown): void {
    this.listBytes += e ? e.end - e.start : 1;
    if (this.listBytes > MAX_ARRAY_BYTES) throw memoryRefusal(op);
    this.list.push(v);
  }

  /** Keeps `x` among the best `n` in order `cmp` (the last `n` when `fromEnd`). */
  private insert(x: Kept, cmp: (a: Kept, b: Kept) => number, fromEnd = false): void {
    const k = this.kept;
    let lo = 0;
    let hi = k.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cmp(k[mid]!, x) <= 0) lo = mid + 1;
      else hi = mid;
    }
    k.splice(lo, 0, x);
    this.listBytes += x.e ? x.e.end - x.e.start : 1;
    if (k.length > this.acc.n) {
      const gone = fromEnd ? k.shift()! : k.pop()!;
      this.listBytes -= gone.e ? gone.e.end - gone.e.start : 1;
    }
    if (this.listBytes > MAX_ARRAY_BYTES) throw memoryRefusal(this.acc.op);
  }

  result(): unknown {
    if (this.positional) {
      const op = this.acc.op;
      return op === '$first' || op === '$last' ? (this.kept[0]?.v ?? null) : this.kept.map((x) => x.v);
    }
    switch (this.acc.op) {
      case '$count':
        return this.n;
      case '$sum':
        return this.total.sum();
      case '$avg':
        return this.total.avg();
      case '$stdDevPop':
        return this.std.result(false);
      case '$stdDevSamp':
        return this.std.result(true);
      case '$min':
      case '$max':
        return this.best ? elementTyped(this.best.doc, this.best.e) : null;
      case '$first':
        return this.seen ? this.first : null;
      case '$last':
        return this.last;
      case '$push':
      case '$addToSet':
      case '$firstN':
      case '$lastN':
        return this.list;
      case '$mergeObjects':
        return this.merged;
      case '$maxN':
      case '$minN':
      case '$topN':
      case '$bottomN':
        return this.kept.map((x) => x.v);
      case '$top':
      case '$bottom':
        return this.kept[0]?.v ?? null;
    }
  }
}

const EMPTY = Buffer.from([5, 0, 0, 0, 0]);
/** mongod's positional accumulators (isPositionalAccumulator). */
const POSITIONAL = new Set(['$first', '$last', '$firstN', '$lastN']);

/**
 * The input of a grouping stage sorted by its key: per document, the key expression and the
 * operands of the accumulators computed by mingo, the key encoded as `{k: …}` (missing as null)
 * and the operands as `{"0": …, "1": …}` (a missing operand absent), spilled past the budget.
 */
function sortedByKey(
  input: Iterable<Document>,
  keyExpr: unknown,
  accs: Acc[],
  options: ConstructorParameters<typeof Aggregator>[1],
  o: SpillOptions,
  what: string,
): { records: Generator<SortRecord>; count: () => number } {
  const shape: Document = { k: keyExpr };
  accs.forEach((a, i) => (shape[`v${i}`] = a.op === '$count' ? 1 : a.expr));
  const evaluated = streamThrough([{ $replaceWith: shape }], options, input);
  const collator = collatorOf(options?.collation as CollationSpec | undefined);
  const sorter = new ExternalSort((a, b) => compareSortKeys(a, b, [1], collator), { ...o, what });
  let n = 0;
  try {
    for (;;) {
      const r = evaluated.next();
      if (r.done) break;
      const d = r.value as Document;
      const key = Buffer.from(serialize({ k: d.k ?? null }));
      const vals: Document = {};
      for (let i = 0; i < accs.length; i++) if (d[`v${i}`] !== undefined) vals[String(i)] = d[`v${i}`];
      vals.p = n; // its place in the input ($bucketAuto's positional accumulators)
      sorter.add(key, Buffer.from(serialize(vals)));
      n++;
    }
  } catch (err) {
    sorter.close();
    evaluated.return(undefined);
    throw err;
  }
  return { records: sorter.sorted(), count: () => n };
}

/** Feeds one sorted record to the states of its group. */
function accumulate(states: State[], payload: Buffer, positional = false): void {
  const els = elements(payload);
  const decoded = els.length ? decodeTyped(payload) : {};
  const pos = positional ? (decoded.p as number) : undefined;
  for (let i = 0; i < states.length; i++) {
    const e = els.find((x) => x.name === String(i));
    states[i]!.add(payload, e, e ? decoded[String(i)] : undefined, pos);
  }
}

/**
 * `$group` in bounded memory (see the header). `resolver` and the rest of mingo's options are
 * those of the pipeline, so the key and operand expressions evaluate as in the other stages.
 */
export function* groupStage(
  input: Iterable<Document>,
  spec: Document,
  options: ConstructorParameters<typeof Aggregator>[1],
  o: SpillOptions,
): Generator<Document> {
  if (!('_id' in spec)) throw badGroup('$group: a group specification must include an _id.');
  const accs = accumulators(spec);
  const { records } = sortedByKey(input, spec._id, accs, options, o, '$group');
  // Group keys equal by the pipeline's collation are one group ("abc" and "ABC" at strength 2).
  const collator = collatorOf(options?.collation as CollationSpec | undefined);
  let key: Buffer | null = null;
  let states: State[] = [];
  const emit = (): Document => {
    const out: Document = { _id: decodeTyped(key!).k };
    for (const s of states) out[s.acc.field] = s.result();
    return out;
  };
  for (const r of records) {
    if (key === null || compareSortKeys(key, r.key, [1], collator) !== 0) {
      if (key !== null) yield emit();
      key = r.key;
      states = accs.map((a) => new State(a, collator));
    }
    accumulate(states, r.payload);
  }
  if (key !== null) yield emit();
}

/**
 * `$bucketAuto` as mongod runs it (document_source_bucket_auto.cpp): the input sorted by its
 * `groupBy` value (external sort), counted, then cut into buckets of about count / buckets
 * documents, a bucket never splitting equal values; each bucket's `_id` is `{min, max}`, its max
 * the next bucket's min (the last one's: its largest value). `granularity` is refused.
 */
export function* bucketAutoStage(
  input: Iterable<Document>,
  spec: unknown,
  options: ConstructorParameters<typeof Aggregator>[1],
  o: SpillOptions,
): Generator<Document> {
  if (!isObj(spec)) throw badGroup('$bucketAuto: the specification must be an object.');
  for (const k of Object.keys(spec))
    if (!['groupBy', 'buckets', 'output', 'granularity'].includes(k))
      throw badGroup(`$bucketAuto: unrecognized option '${k}'.`);
  const { groupBy, buckets } = spec;
  if (!(typeof groupBy === 'string' && groupBy.length > 1 && groupBy.startsWith('$')) && !isObj(groupBy))
    throw badGroup("$bucketAuto: 'groupBy' must be a $-prefixed path or an expression object.");
  const nb = typeof buckets === 'number' ? buckets : NaN;
  if (!Number.isInteger(nb) || nb <= 0 || nb > 2 ** 31 - 1)
    throw badGroup(
      `$bucketAuto: 'buckets' must be a positive 32-bit integer, got ${JSON.stringify(buckets)}.`,
    );
  if (spec.granularity !== undefined)
    throw new ApiError(
      'UNSUPPORTED',
      "$bucketAuto: 'granularity' is not supported on a point-in-time view.",
      {
        field: 'pipeline',
        reason: 'unsupported-operator',
        operator: 'granularity',
      },
    );
  const output = spec.output === undefined ? { count: { $sum: 1 } } : spec.output;
  if (!isObj(output)) throw badGroup("$bucketAuto: 'output' must be an object.");
  const accs = accumulators(output, '$bucketAuto');
  const { records, count } = sortedByKey(input, groupBy, accs, options, o, '$bucketAuto');
  const collator = collatorOf(options?.collation as CollationSpec | undefined);
  const it = records[Symbol.iterator]();
  let next = it.next();
  const total = count();
  const size = Math.max(1, Math.round(total / nb));
  const value = (key: Buffer): unknown => decodeTyped(key).k;
  try {
    for (let b = 1; b <= nb && !next.done; b++) {
      const states = accs.map((a) => new State(a, collator));
      const min = next.value.key;
      let max = min;
      let taken = 0;
      // approx size documents (all the rest in the last bucket), then those equal to the last.
      while (!next.done && (taken < size || b === nb)) {
        max = next.value.key;
        accumulate(states, next.value.payload, true);
        taken++;
        next = it.next();
      }
      while (!next.done && compareSortKeys(next.value.key, max, [1], collator) === 0) {
        accumulate(states, next.value.payload, true);
        next = it.next();
      }
      const out: Document = { _id: { min: value(min), max: value(next.done ? max : next.value.key) } };
      for (const s of states) out[s.acc.field] = s.result() ?? null;
      yield out;
    }
  } finally {
    it.return?.(undefined);
  }
}

/** A `$lookup` of the localField / foreignField form whose foreign field is indexed. */
function indexedLookup(spec: Document, joins: IndexedJoin): boolean {
  const keys = Object.keys(spec).sort().join(',');
  return (
    keys === 'as,foreignField,from,localField' &&
    typeof spec.from === 'string' &&
    typeof spec.localField === 'string' &&
    typeof spec.foreignField === 'string' &&
    typeof spec.as === 'string' &&
    joins.indexed(spec.from, spec.foreignField)
  );
}

/**
 * `$lookup` one input document at a time, as mongod's nested-loop join with an index: the foreign
 * documents matching its local value (any element of an array; missing as null) are read through
 * the foreign field's key table, so memory holds one document's matches, not the foreign
 * collection (which mingo's `$lookup` holds whole).
 */
function* lookupStage(input: Iterable<Document>, spec: Document, joins: IndexedJoin): Generator<Document> {
  const { from, localField, foreignField, as } = spec as Record<string, string>;
  for (const doc of input) {
    const local = resolve(doc, localField!) ?? null;
    const values = Array.isArray(local) ? local : [local];
    yield { ...doc, [as!]: [...joins.matching(from!, foreignField!, values)] };
  }
}

/**
 * `$bucket` as mongod's documentation defines it: a `$group` whose `_id` is a `$switch` over the
 * boundaries (`$gte` the lower, `$lt` the upper, in MongoDB's comparison order: mingo-context.ts),
 * then a `$sort` on `_id`; so it runs in bounded memory as `$group` does. The specification is
 * checked as mongod checks it (document_source_bucket.cpp): at least two boundaries, constants of
 * one type, strictly ascending; a default outside them. A value outside the boundaries with no
 * default is refused when it is met (mongod: 40066).
 */
function bucketAsGroup(spec: unknown, collator?: Collator): Document[] {
  if (!isObj(spec)) throw badGroup('$bucket: the specification must be an object.');
  for (const k of Object.keys(spec))
    if (!['groupBy', 'boundaries', 'default', 'output'].includes(k))
      throw badGroup(`$bucket: unrecognized option '${k}'.`);
  const { groupBy, boundaries } = spec;
  if (!(typeof groupBy === 'string' && groupBy.length > 1 && groupBy.startsWith('$')) && !isObj(groupBy))
    throw badGroup("$bucket: 'groupBy' must be a $-prefixed path or an expression object.");
  if (!Array.isArray(boundaries) || boundaries.length < 2)
    throw badGroup("$bucket: 'boundaries' must be an array of at least 2 values.");
  const cls = (v: unknown) => {
    const b = Buffer.from(serialize({ v }));
    return typeClass(elements(b)[0]!.type);
  };
  for (const b of boundaries)
    if ((isObj(b) && Object.keys(b).some((k) => k.startsWith('$'))) || b === undefined)
      throw badGroup("$bucket: 'boundaries' must be constant values.");
  const first = cls(boundaries[0]);
  for (let k = 1; k < boundaries.length; k++) {
    if (cls(boundaries[k]) !== first)
      throw badGroup("$bucket: all values in 'boundaries' must be of the same type.");
    // Strings by the pipeline's collation (document_source_bucket.cpp: the expression context's comparator).
    if (compareJs(boundaries[k - 1], boundaries[k], collator) >= 0)
      throw badGroup("$bucket: 'boundaries' must be sorted in ascending order, without duplicates.");
  }
  const hasDefault = 'default' in spec;
  if (
    hasDefault &&
    cls(spec.default) === first &&
    compareJs(spec.default, boundaries[0], collator) >= 0 &&
    compareJs(spec.default, boundaries[boundaries.length - 1], collator) < 0
  )
    throw badGroup(
      "$bucket: the 'default' value must be less than the lowest boundary or greater than or equal to the highest.",
    );
  const output = spec.output === undefined ? { count: { $sum: 1 } } : spec.output;
  if (!isObj(output)) throw badGroup("$bucket: 'output' must be an object.");
  accumulators(output, '$bucket');
  const branches = boundaries.slice(0, -1).map((lo, k) => ({
    case: {
      $and: [{ $gte: [groupBy, { $literal: lo }] }, { $lt: [groupBy, { $literal: boundaries[k + 1] }] }],
    },
    then: { $literal: lo },
  }));
  const fallback = hasDefault ? { $literal: spec.default } : { [BUCKET_MISS]: groupBy };
  return [
    { $group: { _id: { $switch: { branches, default: fallback } }, ...output } },
    { $sort: { _id: 1 } },
  ];
}

/**
 * `$count` and `$sortByCount` as the stages mongod documents them to be (mingo's `$count` collects
 * its whole input, and answers 0 where mongod answers nothing).
 */
/**
 * `$fill` as mongod documents it: a `$setWindowFields` of `$locf` / `$linearFill` for the outputs
 * with a `method` (sorted by its sortBy, partitioned by partitionBy or partitionByFields), then an
 * `$addFields` of `$ifNull` for those with a `value`; run by this engine's stages, so its order is
 * MongoDB's and its values keep their types.
 */
function fillStages(spec: unknown): Document[] {
  if (!isObj(spec)) throw badGroup('$fill must be an object.');
  for (const k of Object.keys(spec))
    if (!['partitionBy', 'partitionByFields', 'sortBy', 'output'].includes(k))
      throw badGroup(`$fill: unknown field '${k}'.`);
  if (spec.partitionBy !== undefined && spec.partitionByFields !== undefined)
    throw badGroup("$fill: only one of 'partitionBy' and 'partitionByFields' may be given.");
  if (!isObj(spec.output) || !Object.keys(spec.output).length)
    throw badGroup("$fill: 'output' must be a non-empty object.");
  const windows: Document = {};
  const values: Document = {};
  for (const [field, how] of Object.entries(spec.output)) {
    if (!isObj(how) || Object.keys(how).length !== 1)
      throw badGroup(
        `$fill: output '${field}' must be {method: 'locf' | 'linear'} or {value: <expression>}.`,
      );
    if ('value' in how) values[field] = { $ifNull: [`$${field}`, how.value] };
    else if (how.method === 'locf') windows[field] = { $locf: `$${field}` };
    else if (how.method === 'linear') windows[field] = { $linearFill: `$${field}` };
    else throw badGroup(`$fill: output '${field}': method must be 'locf' or 'linear'.`);
  }
  const out: Document[] = [];
  if (Object.keys(windows).length) {
    if (!isObj(spec.sortBy)) throw badGroup("$fill: 'sortBy' is required to fill by a method.");
    const byFields = spec.partitionByFields;
    if (byFields !== undefined && (!Array.isArray(byFields) || byFields.some((f) => typeof f !== 'string')))
      throw badGroup("$fill: 'partitionByFields' must be an array of field names.");
    const partitionBy =
      spec.partitionBy ??
      (byFields ? Object.fromEntries((byFields as string[]).map((f) => [f, `$${f}`])) : undefined);
    out.push({
      $setWindowFields: {
        ...(partitionBy !== undefined ? { partitionBy } : {}),
        sortBy: spec.sortBy,
        output: windows,
      },
    });
  }
  if (Object.keys(values).length) out.push({ $addFields: values });
  return out;
}

function expand(stage: Document, collator?: Collator): Document[] {
  if ('$bucket' in stage) return bucketAsGroup(stage.$bucket, collator);
  if ('$fill' in stage) return fillStages(stage.$fill);
  if ('$count' in stage && typeof stage.$count === 'string')
    return [{ $group: { _id: null, [stage.$count]: { $sum: 1 } } }, { $project: { _id: 0 } }];
  if ('$sortByCount' in stage)
    return [{ $group: { _id: stage.$sortByCount, count: { $sum: 1 } } }, { $sort: { count: -1 } }];
  return [stage];
}

/**
 * A pipeline over a stream of documents: `$sort` (with a `$limit` right after it), `$group`,
 * `$bucket`, `$bucketAuto`, `$facet` and `$setWindowFields` run in bounded memory (this file,
 * facet-window-stages.ts), `$lookup`, `$unionWith` and `$graphLookup` read the other collection
 * per document (join-stages.ts), `$match` is matched with mongod's rules (bson-match.ts); every
 * other run of stages streams through mingo, which holds one document for the stages that pass
 * documents along ($project, $addFields, $unwind, $skip, $limit…). A view is read-only: `$out`
 * and `$merge` are refused.
 */
export function runPipeline(
  input: Iterable<Document>,
  pipeline: Document[],
  options: ConstructorParameters<typeof Aggregator>[1],
  spill: SpillOptions,
  joins?: IndexedJoin,
): Iterable<Document> {
  let stream = input;
  let pending: Document[] = [];
  const flush = () => {
    if (!pending.length) return;
    const input = stream as Partial<Generator<Document>>;
    const out = new Aggregator(pending, options).stream(stream);
    pending = [];
    stream = (function* () {
      try {
        for (;;) {
          const r = out.next();
          if (r.done) return;
          yield r.value as Document;
        }
      } finally {
        // mingo does not close its source: a cursor closed early must still end the stages before
        // (an external sort removes its run files when its output is closed).
        input.return?.(undefined);
      }
    })();
  };
  // A sub-pipeline ($lookup, $unionWith, $facet) runs with the same budget and joins.
  const run = (sub: Iterable<Document>, p: Document[], o: typeof options) =>
    runPipeline(sub, p, o, spill, joins);
  const collator = collatorOf(options?.collation as CollationSpec | undefined);
  const stages = pipeline.flatMap((st) => expand(st, collator));
  for (let k = 0; k < stages.length; k++) {
    const stage = stages[k]!;
    if ('$out' in stage || '$merge' in stage)
      throw new ApiError(
        'UNSUPPORTED',
        `pipeline: ${'$out' in stage ? '$out' : '$merge'} writes to a collection: a point-in-time view is read-only (export or restore the results instead).`,
        { field: 'pipeline', reason: 'unsupported-operator', operator: '$out' in stage ? '$out' : '$merge' },
      );
    if ('$sort' in stage && plainSort(stage.$sort as Document)) {
      flush();
      const next = stages[k + 1];
      const keep = next && '$limit' in next ? Number(next.$limit) : undefined;
      stream = sortStage(
        stream,
        stage.$sort as Document,
        keep,
        spill,
        collatorOf(options?.collation as CollationSpec | undefined),
      );
    } else if ('$group' in stage) {
      flush();
      stream = groupStage(stream, stage.$group as Document, options, spill);
    } else if ('$facet' in stage) {
      flush();
      stream = facetStage(stream, stage.$facet, options, spill, run);
    } else if ('$setWindowFields' in stage) {
      flush();
      stream = setWindowFieldsStage(stream, stage.$setWindowFields, options, spill);
    } else if ('$bucketAuto' in stage) {
      flush();
      stream = bucketAutoStage(stream, stage.$bucketAuto, options, spill);
    } else if ('$match' in stage && Object.keys(stage).length === 1) {
      // MongoDB's comparison rules (bson-match.ts), not mingo's: the same as a find's filter.
      flush();
      const m = compileFilter(stage.$match as Document, options);
      const before = stream;
      stream = (function* () {
        for (const d of before) if (m.js(d)) yield d;
      })();
    } else if ('$lookup' in stage && joins && indexedLookup(stage.$lookup as Document, joins)) {
      flush();
      stream = lookupStage(stream, stage.$lookup as Document, joins);
    } else if ('$lookup' in stage && joins && streamableLookup(stage.$lookup as Document)) {
      flush();
      stream = lookupStream(stream, stage.$lookup as Document, options, joins, run);
    } else if ('$unionWith' in stage && joins) {
      flush();
      stream = unionWithStream(stream, stage.$unionWith, options, joins, run);
    } else if ('$graphLookup' in stage && joins) {
      flush();
      stream = graphLookupStream(stream, stage.$graphLookup as Document, options, joins, spill);
    } else pending.push(stage);
  }
  flush();
  return stream;
}
