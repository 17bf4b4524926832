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
 * $addToSet, $count, $mergeObjects, $stdDevPop, $stdDevSamp; a `$group`
 * with another accumulator is left to mingo (in memory).
 *
 * As in mongod: `$push` and `$addToSet` skip a missing value, `$first` and
 * `$last` give null for one, `$min`/`$max` ignore null and missing, and an
 * accumulator that grows one group's array past 100 MB is refused
 * (ExceededMemoryLimit: mongod cannot spill those either).
 */
import { Decimal128, Long, deserialize, serialize, type Document } from 'bson';
import { Aggregator } from './mingo-context.js';
import { resolve } from 'mingo/util';
import { ApiError } from '../errors.js';
import { elements, type RawElement } from '../oplog/bson-raw.js';
import { compareSortKeys, compareValues, sortKeyOf, sortSpec, valueKey } from './bson-order.js';
import { ExternalSort } from './external-sort.js';
import { compileFilter } from './bson-match.js';

const DECODE = { promoteValues: true, promoteLongs: true, bsonRegExp: false } as const;
/** mongod's internalQueryMaxPushBytes / internalQueryMaxAddToSetBytes. */
const MAX_ARRAY_BYTES = 100 * 1024 * 1024;

export interface SpillOptions {
  memoryBytes: number;
  allowDiskUse: boolean;
  dir: string;
}

/** `$sort` (with the `$limit` that follows it, as mongod's top-k sort): documents in MongoDB's order. */
export function* sortStage(
  input: Iterable<Document>,
  sort: Document,
  keep: number | undefined,
  o: SpillOptions,
): Generator<Document> {
  const spec = sortSpec(sort);
  const sorter = new ExternalSort((a, b) => compareSortKeys(a, b, spec.dirs), { ...o, keep, what: '$sort' });
  try {
    for (const doc of input) {
      const raw = Buffer.from(serialize(doc));
      sorter.add(sortKeyOf(raw, spec), raw);
    }
  } catch (err) {
    sorter.close();
    throw err;
  }
  for (const r of sorter.sorted()) yield deserialize(r.payload, DECODE);
}

/** Whether every sort direction is 1 or -1 (a `$meta` sort is left to mingo). */
export const plainSort = (sort: Document): boolean => Object.values(sort).every((v) => v === 1 || v === -1);

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
  | '$stdDevSamp';

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
]);

interface Acc {
  field: string;
  op: Op;
  expr: unknown;
}

/** The accumulators of a `$group`, or null when one is not accumulated here. */
function accumulators(spec: Document): Acc[] | null {
  const out: Acc[] = [];
  for (const [field, v] of Object.entries(spec)) {
    if (field === '_id') continue;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return null;
    const keys = Object.keys(v as Document);
    if (keys.length !== 1 || !OPS.has(keys[0]!)) return null;
    out.push({ field, op: keys[0] as Op, expr: (v as Document)[keys[0]!] });
  }
  return out;
}

export const groupable = (spec: Document): boolean => '_id' in spec && accumulators(spec) !== null;

/** A number as JavaScript adds it (mingo's arithmetic), or null when the value is not one. */
function numeric(v: unknown): number | null {
  if (typeof v === 'number') return v;
  if (v instanceof Long) return v.toNumber();
  if (v instanceof Decimal128) return Number(v.toString());
  return null;
}

/** The running state of one accumulator over one group. */
class State {
  n = 0;
  sum = 0;
  mean = 0;
  m2 = 0;
  best: { doc: Buffer; e: RawElement } | null = null;
  first: unknown = undefined;
  seen = false;
  last: unknown = null;
  list: unknown[] = [];
  listBytes = 0;
  set = new Set<string>();
  merged: Document = {};

  constructor(readonly acc: Acc) {}

  add(values: Buffer, e: RawElement | undefined, v: unknown): void {
    const { op } = this.acc;
    switch (op) {
      case '$count':
        this.n++;
        return;
      case '$sum':
      case '$avg': {
        const x = numeric(v);
        if (x !== null) {
          this.sum += x;
          this.n++;
        }
        return;
      }
      case '$stdDevPop':
      case '$stdDevSamp': {
        const x = numeric(v);
        if (x === null) return;
        this.n++;
        const d = x - this.mean;
        this.mean += d / this.n;
        this.m2 += d * (x - this.mean);
        return;
      }
      case '$min':
      case '$max': {
        if (!e || v === null || v === undefined) return;
        const c = this.best ? compareValues(values, e, this.best.doc, this.best.e) : 0;
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
          const k = valueKey(values, e);
          if (this.set.has(k)) return;
          this.set.add(k);
        }
        this.listBytes += e.end - e.start;
        if (this.listBytes > MAX_ARRAY_BYTES)
          throw new ApiError(
            'UNSUPPORTED',
            `${op} used more than ${MAX_ARRAY_BYTES} bytes in one group and cannot spill to disk (as mongod: ExceededMemoryLimit).`,
            { reason: 'memory-limit', limitBytes: MAX_ARRAY_BYTES },
          );
        this.list.push(v);
        return;
      }
      case '$mergeObjects':
        if (v && typeof v === 'object') Object.assign(this.merged, v);
        return;
    }
  }

  result(): unknown {
    switch (this.acc.op) {
      case '$count':
        return this.n;
      case '$sum':
        return this.sum;
      case '$avg':
        return this.n ? this.sum / this.n : null;
      case '$stdDevPop':
        return this.n ? Math.sqrt(this.m2 / this.n) : null;
      case '$stdDevSamp':
        return this.n > 1 ? Math.sqrt(this.m2 / (this.n - 1)) : null;
      case '$min':
      case '$max':
        return this.best ? valueOf(this.best.doc, this.best.e) : null;
      case '$first':
        return this.seen ? this.first : null;
      case '$last':
        return this.last;
      case '$push':
      case '$addToSet':
        return this.list;
      case '$mergeObjects':
        return this.merged;
    }
  }
}

/** The decoded value of one element. */
function valueOf(doc: Buffer, e: RawElement): unknown {
  const one = Buffer.alloc(5 + e.end - e.start);
  one.writeInt32LE(one.length, 0);
  doc.copy(one, 4, e.start, e.end);
  one[one.length - 1] = 0;
  return Object.values(deserialize(one, DECODE))[0];
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
  const accs = accumulators(spec)!;
  // mingo computes the key and every operand per document ($count has none: a constant).
  const shape: Document = { k: spec._id };
  accs.forEach((a, i) => (shape[`v${i}`] = a.op === '$count' ? 1 : a.expr));
  const evaluated = new Aggregator([{ $replaceWith: shape }], options).stream(input);
  const sorter = new ExternalSort((a, b) => compareSortKeys(a, b, [1]), { ...o, what: '$group' });
  try {
    for (;;) {
      const r = evaluated.next();
      if (r.done) break;
      const d = r.value as Document;
      const key = Buffer.from(serialize({ k: d.k ?? null }));
      const vals: Document = {};
      for (let i = 0; i < accs.length; i++) if (d[`v${i}`] !== undefined) vals[String(i)] = d[`v${i}`];
      sorter.add(key, Buffer.from(serialize(vals)));
    }
  } catch (err) {
    sorter.close();
    throw err;
  }
  let key: Buffer | null = null;
  let states: State[] = [];
  const emit = (): Document => {
    const out: Document = { _id: deserialize(key!, DECODE).k };
    for (const s of states) out[s.acc.field] = s.result();
    return out;
  };
  for (const r of sorter.sorted()) {
    if (key === null || compareSortKeys(key, r.key, [1]) !== 0) {
      if (key !== null) yield emit();
      key = r.key;
      states = accs.map((a) => new State(a));
    }
    const els = elements(r.payload);
    const decoded = els.length ? deserialize(r.payload, DECODE) : {};
    for (let i = 0; i < accs.length; i++) {
      const e = els.find((x) => x.name === String(i));
      states[i]!.add(r.payload, e, e ? decoded[String(i)] : undefined);
    }
  }
  if (key !== null) yield emit();
}

/**
 * The documents of another collection of the database whose `field` equals one of `values`, read
 * through that collection's key table (lookup-plan.ts); null when no index of it serves `field`.
 */
export interface IndexedJoin {
  indexed(from: string, field: string): boolean;
  matching(from: string, field: string, values: unknown[]): Iterable<Document>;
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
 * `$count` and `$sortByCount` as the stages mongod documents them to be (mingo's `$count` collects
 * its whole input, and answers 0 where mongod answers nothing).
 */
function expand(stage: Document): Document[] {
  if ('$count' in stage && typeof stage.$count === 'string')
    return [{ $group: { _id: null, [stage.$count]: { $sum: 1 } } }, { $project: { _id: 0 } }];
  if ('$sortByCount' in stage)
    return [{ $group: { _id: stage.$sortByCount, count: { $sum: 1 } } }, { $sort: { count: -1 } }];
  return [stage];
}

/**
 * A pipeline over a stream of documents: `$sort` (with a `$limit` right after it) and `$group`
 * run in bounded memory (blocking-stages.ts), every other run of stages streams through mingo,
 * which holds one document for the stages that pass documents along ($match, $project,
 * $addFields, $unwind, $skip, $limit…).
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
  const stages = pipeline.flatMap(expand);
  for (let k = 0; k < stages.length; k++) {
    const stage = stages[k]!;
    if ('$sort' in stage && plainSort(stage.$sort as Document)) {
      flush();
      const next = stages[k + 1];
      const keep = next && '$limit' in next ? Number(next.$limit) : undefined;
      stream = sortStage(stream, stage.$sort as Document, keep, spill);
    } else if ('$group' in stage && groupable(stage.$group as Document)) {
      flush();
      stream = groupStage(stream, stage.$group as Document, options, spill);
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
    } else pending.push(stage);
  }
  flush();
  return stream;
}
