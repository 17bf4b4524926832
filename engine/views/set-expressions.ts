/**
 * The aggregation expressions that look for equal values or order them:
 * `$in`, `$indexOfArray`, the set expressions and `$sortArray`, by MongoDB's
 * comparison (bson-order.ts: numbers by value across types, strings by the
 * pipeline's collation, options' `collation`) where mingo's use JavaScript
 * equality and byte order: under `{locale: "en_US", strength: 2}`,
 * `{$in: ["A", ["a"]]}` is true and `$setUnion` of `["a"]` and `["A"]` has one
 * element (jstests/aggregation/expressions/collation_expressions.js). They
 * give back the operands' own values, number types kept (typed-values.ts).
 * The set expressions' result order is their first operand's, then the
 * next's (mongod leaves it unspecified).
 */
import { evalExpr } from 'mingo/core';
import { ValueSet, compareSortKeys, compareValues, sortKeyOf, sortSpec } from './bson-order.js';
import { collatorOf, type CollationSpec, type Collator } from './collation.js';
import { compareJs, element } from './js-element.js';
import { plainValue } from './typed-values.js';

type Op = (obj: unknown, expr: unknown, options: never) => unknown;
const EMPTY = Buffer.from([5, 0, 0, 0, 0]);

const collatorIn = (options: unknown): Collator | undefined =>
  collatorOf((options as { collation?: CollationSpec } | undefined)?.collation);

function operands(
  name: string,
  obj: unknown,
  expr: unknown,
  options: never,
  min: number,
  max: number,
): unknown[] {
  const vals = Array.isArray(expr)
    ? (evalExpr(obj as never, expr as never, options) as unknown[])
    : [evalExpr(obj as never, expr as never, options)];
  if (vals.length < min || vals.length > max)
    throw new Error(
      min === max
        ? `Expression ${name} takes exactly ${min} arguments. ${vals.length} were passed in.`
        : `Expression ${name} takes at least ${min} arguments, and at most ${max}, but ${vals.length} were passed in.`,
    );
  return vals;
}

const isNullish = (v: unknown) => v === null || v === undefined;

function setOf(values: unknown[], collator: Collator | undefined): ValueSet {
  const s = new ValueSet(collator);
  for (const v of values) {
    const { doc, e } = element(v);
    s.add(doc, e);
  }
  return s;
}

const inSet = (s: ValueSet, v: unknown): boolean => {
  const { doc, e } = element(v);
  return s.has(doc, e);
};

/** The distinct values of `values`, the first of each in order. */
function distinctOf(
  values: unknown[],
  collator: Collator | undefined,
  seen = new ValueSet(collator),
): unknown[] {
  const out: unknown[] = [];
  for (const v of values) {
    const { doc, e } = element(v);
    if (seen.add(doc, e)) out.push(v);
  }
  return out;
}

function arrays(name: string, vals: unknown[], what = 'All operands'): unknown[][] {
  for (const v of vals)
    if (!Array.isArray(v))
      throw new Error(`${what} of ${name} must be arrays. One argument is of type: ${typeName(v)}`);
  return vals as unknown[][];
}

function typeName(v: unknown): string {
  if (v === undefined) return 'missing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'double';
  return typeof v === 'object' ? ((v as object).constructor?.name?.toLowerCase() ?? 'object') : typeof v;
}

/** A non-negative integer position of `$indexOfArray`. */
function position(v: unknown, which: string): number {
  const n = plainValue(v);
  if (typeof n !== 'number' || !Number.isInteger(n))
    throw new Error(
      `$indexOfArray requires an integral ${which} index, found a value of type: ${typeName(v)}`,
    );
  if (n < 0) throw new Error(`$indexOfArray requires a nonnegative ${which} index, found: ${n}`);
  return n;
}

export const SET_EXPRESSIONS: Record<string, Op> = {
  $in: (obj, expr, options) => {
    const [x, arr] = operands('$in', obj, expr, options, 2, 2);
    if (!Array.isArray(arr))
      throw new Error(`$in requires an array as a second argument, found: ${typeName(arr)}`);
    const c = collatorIn(options);
    return arr.some((v) => compareJs(x, v, c) === 0);
  },
  $indexOfArray: (obj, expr, options) => {
    const [arr, x, start, end] = operands('$indexOfArray', obj, expr, options, 2, 4);
    if (isNullish(arr)) return null;
    if (!Array.isArray(arr))
      throw new Error(`$indexOfArray requires an array as a first argument, found: ${typeName(arr)}`);
    const from = start === undefined ? 0 : position(start, 'starting');
    const to = end === undefined ? arr.length : Math.min(position(end, 'ending'), arr.length);
    const c = collatorIn(options);
    for (let i = from; i < to; i++) if (compareJs(arr[i], x, c) === 0) return i;
    return -1;
  },
  $setEquals: (obj, expr, options) => {
    const sets = arrays('$setEquals', operands('$setEquals', obj, expr, options, 2, Infinity));
    const c = collatorIn(options);
    const first = setOf(sets[0]!, c);
    const firstValues = sets[0]!;
    return sets.slice(1).every((s) => {
      const other = setOf(s, c);
      return s.every((v) => inSet(first, v)) && firstValues.every((v) => inSet(other, v));
    });
  },
  $setIsSubset: (obj, expr, options) => {
    const [a, b] = operands('$setIsSubset', obj, expr, options, 2, 2);
    if (!Array.isArray(a))
      throw new Error(
        `both operands of $setIsSubset must be arrays. First argument is of type: ${typeName(a)}`,
      );
    if (!Array.isArray(b))
      throw new Error(
        `both operands of $setIsSubset must be arrays. Second argument is of type: ${typeName(b)}`,
      );
    const of = setOf(b, collatorIn(options));
    return a.every((v) => inSet(of, v));
  },
  $setDifference: (obj, expr, options) => {
    const [a, b] = operands('$setDifference', obj, expr, options, 2, 2);
    if (isNullish(a) || isNullish(b)) return null;
    const [x, y] = arrays('$setDifference', [a, b], 'both operands');
    const c = collatorIn(options);
    const other = setOf(y!, c);
    return distinctOf(x!, c).filter((v) => !inSet(other, v));
  },
  $setIntersection: (obj, expr, options) => {
    const vals = operands('$setIntersection', obj, expr, options, 0, Infinity);
    if (vals.some(isNullish)) return null;
    const sets = arrays('$setIntersection', vals);
    if (!sets.length) return [];
    const c = collatorIn(options);
    const others = sets.slice(1).map((s) => setOf(s, c));
    return distinctOf(sets[0]!, c).filter((v) => others.every((s) => inSet(s, v)));
  },
  $setUnion: (obj, expr, options) => {
    const vals = operands('$setUnion', obj, expr, options, 0, Infinity);
    if (vals.some(isNullish)) return null;
    const sets = arrays('$setUnion', vals);
    const c = collatorIn(options);
    const seen = new ValueSet(c);
    return sets.flatMap((s) => distinctOf(s, c, seen));
  },
  $sortArray: (obj, expr, options) => {
    if (!expr || typeof expr !== 'object' || Array.isArray(expr))
      throw new Error('$sortArray requires an object as an argument');
    const { input, sortBy } = expr as { input?: unknown; sortBy?: unknown };
    const arr = evalExpr(obj as never, input as never, options);
    if (isNullish(arr)) return null;
    if (!Array.isArray(arr))
      throw new Error(`$sortArray requires an array as input, found: ${typeName(arr)}`);
    const c = collatorIn(options);
    if (sortBy === 1 || sortBy === -1) {
      const keyed = arr.map((v) => ({ v, el: element(v) }));
      keyed.sort((a, b) => (sortBy as number) * compareValues(a.el.doc, a.el.e, b.el.doc, b.el.e, c));
      return keyed.map((k) => k.v);
    }
    if (!sortBy || typeof sortBy !== 'object' || Array.isArray(sortBy))
      throw new Error('$sortArray requires sortBy to be either 1, -1, or a sort pattern document');
    const spec = sortSpec(sortBy as Record<string, unknown>);
    // Elements that are not documents sort as a document without the fields.
    const keyed = arr.map((v) => {
      const el = element(v);
      const doc = el.e.type === 0x03 ? el.doc.subarray(el.e.valueStart, el.e.end) : EMPTY;
      return { v, key: sortKeyOf(Buffer.from(doc), spec, c) };
    });
    keyed.sort((a, b) => compareSortKeys(a.key, b.key, spec.dirs, c));
    return keyed.map((k) => k.v);
  },
};
