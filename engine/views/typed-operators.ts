/**
 * mingo's operators over typed values (typed-values.ts): the pipeline's
 * documents hold integral Doubles and Int64s as bson objects, which mingo
 * passes through untouched but cannot compute on. Here:
 *
 * - arithmetic gets plain numbers and gives its result mongod's type: the
 *   widest of its operands' for `$add`, `$subtract`, `$multiply`, `$mod`,
 *   `$abs`, `$ceil`, `$floor`, `$trunc`, `$round` and `$pow` (an Int32 that
 *   overflows becomes an Int64), a Double for `$divide`, `$sqrt`, `$exp`,
 *   the logarithms, the trigonometry and `$toDouble`, an Int64 for
 *   `$toLong` and for a Date minus a Date (as mongod's ExpressionSubtract);
 * - `$sum`, `$avg`, `$min`, `$max`, `$stdDevPop` and `$stdDevSamp`, as
 *   expressions and as window accumulators, are computed here with mongod's
 *   types (Int32 sums stay exact and widen to Int64, then Double; `$avg` is
 *   a Double; `$min` / `$max` give back the operand itself);
 * - `$cond`, `$and`, `$or`, `$not`, `$switch` and the query's `$expr` use
 *   mongod's truthiness (a Double 0.0 or Int64 0 is false);
 * - every other operator that looks at numbers sees plain ones, as before
 *   (its result's type is mingo's); those that only move values (`$map`,
 *   `$filter`, `$let`, `$ifNull`, `$arrayElemAt`, `$concatArrays`…) see the
 *   typed values and keep them.
 */
import { Decimal128, Long } from 'bson';
import { evalExpr } from 'mingo/core';
import {
  asDouble,
  integerResult,
  isTrue,
  numberKind,
  plainValue,
  typedResult,
  widestKind,
  type NumberKind,
} from './typed-values.js';

type Op = (obj: unknown, expr: unknown, options: never) => unknown;
type Acc = (collection: unknown[], expr: unknown, options: never) => unknown;
type Win = (obj: unknown, collection: unknown[], expr: unknown, options: never) => unknown;
type Compare = (a: unknown, b: unknown, options: unknown) => number;

/** Result type: the widest of the operands'. */
const WIDEST = new Set(['$add', '$subtract', '$multiply', '$mod', '$pow']);
/** Result type: the first operand's (the place of `$round` / `$trunc` does not count). */
const FIRST = new Set(['$abs', '$ceil', '$floor', '$trunc', '$round']);
/** Result type: always a Double (mongod gives a Decimal128 for a Decimal128 operand; mingo computes none). */
const DOUBLE = new Set([
  '$divide',
  '$sqrt',
  '$exp',
  '$ln',
  '$log',
  '$log10',
  '$sin',
  '$cos',
  '$tan',
  '$asin',
  '$acos',
  '$atan',
  '$atan2',
  '$sinh',
  '$cosh',
  '$tanh',
  '$asinh',
  '$acosh',
  '$atanh',
  '$degreesToRadians',
  '$radiansToDegrees',
  '$toDouble',
]);
/**
 * Operators that only move values, or bind variables and evaluate their parts lazily: they see
 * the typed values (what they return keeps its type); the operators inside them are wrapped.
 */
const MOVES = new Set([
  '$literal',
  '$let',
  '$map',
  '$filter',
  '$reduce',
  '$ifNull',
  '$mergeObjects',
  '$objectToArray',
  '$arrayToObject',
  '$concatArrays',
  '$reverseArray',
  '$first',
  '$last',
  '$isArray',
  '$type',
  '$getField',
  '$setField',
  '$unsetField',
  '$zip',
  '$rand',
  '$function',
]);
/** Moves values, but an index or count among its operands must be a plain number. */
const MOVES_WITH_COUNTS = new Set(['$arrayElemAt', '$slice', '$firstN', '$lastN']);

/** `expr` evaluated, operand by operand (an array of them, or one). */
function operands(obj: unknown, expr: unknown, options: never): unknown[] {
  const v = evalExpr(obj as never, expr as never, options);
  return Array.isArray(expr) ? (v as unknown[]) : [v];
}

/** Evaluated operands as an expression mingo evaluates back to them. */
function literal(values: unknown[], expr: unknown): unknown {
  const lit = values.map((v) => ({ $literal: v }));
  return Array.isArray(expr) ? lit : lit[0];
}

/** A plain top-level number object (a count, an index) as a number; anything else as it is. */
const plainNumber = (v: unknown): unknown => (numberKind(v) && typeof v === 'object' ? plainValue(v) : v);

/** The values an accumulator expression runs over: one operand that is an array is traversed, as mongod does. */
function accumulated(obj: unknown, expr: unknown, options: never): unknown[] {
  const vals = operands(obj, expr, options);
  if (vals.length === 1 && Array.isArray(vals[0])) return vals[0];
  return vals;
}

/** A running `$sum` / `$avg` as mongod keeps it: integers exact, widening Int32 → Int64 → Double. */
export class NumberSum {
  private ints = 0n;
  private doubles = 0;
  private kind: NumberKind | null = null;
  count = 0;

  /** Adds a number of any type; anything else is ignored (mongod's $sum and $avg skip non-numbers). */
  add(v: unknown): void {
    const k = numberKind(v);
    if (!k) return;
    this.count++;
    if (!this.kind || RANK[k] > RANK[this.kind]) this.kind = k;
    if (k === 'int' || k === 'long')
      this.ints += BigInt(v instanceof Long ? v.toString() : (plainValue(v) as number));
    else this.doubles += k === 'decimal' ? Number((v as Decimal128).toString()) : (plainValue(v) as number);
  }

  private total(): number {
    return Number(this.ints) + this.doubles;
  }

  sum(): unknown {
    if (this.kind === null) return 0;
    if (this.kind === 'decimal') return Decimal128.fromString(String(this.total()));
    if (this.kind === 'double') return asDouble(this.total());
    return integerResult(this.ints, this.kind);
  }

  avg(): unknown {
    if (this.count === 0) return null;
    const mean = this.total() / this.count;
    return this.kind === 'decimal' ? Decimal128.fromString(String(mean)) : asDouble(mean);
  }
}
const RANK: Record<NumberKind, number> = { int: 0, long: 1, double: 2, decimal: 3 };

/** A running standard deviation (Welford) of the numbers added; anything else is ignored. */
export class StdDev {
  private n = 0;
  private mean = 0;
  private m2 = 0;

  add(v: unknown): void {
    if (!numberKind(v)) return;
    const x = Number(v instanceof Long || v instanceof Decimal128 ? v.toString() : (plainValue(v) as number));
    this.n++;
    const d = x - this.mean;
    this.mean += d / this.n;
    this.m2 += d * (x - this.mean);
  }

  /** The population's (or the sample's) as a Double; null for too few numbers. */
  result(sample: boolean): unknown {
    if (sample ? this.n < 2 : this.n < 1) return null;
    return asDouble(Math.sqrt(this.m2 / (sample ? this.n - 1 : this.n)));
  }
}

/** The smallest (`sign` -1) or largest (1) value, itself, ignoring null and missing; null when none. */
function extreme(values: unknown[], sign: number, compare: Compare, options: unknown): unknown {
  let best: unknown = undefined;
  for (const v of values) {
    if (v === null || v === undefined) continue;
    if (best === undefined || Math.sign(compare(v, best, options)) === sign) best = v;
  }
  return best === undefined ? null : best;
}

function accumulatorValue(op: string, values: unknown[], compare: Compare, options: unknown): unknown {
  switch (op) {
    case '$sum':
    case '$avg': {
      const s = new NumberSum();
      for (const v of values) s.add(v);
      return op === '$sum' ? s.sum() : s.avg();
    }
    case '$min':
      return extreme(values, -1, compare, options);
    case '$max':
      return extreme(values, 1, compare, options);
    default: {
      const s = new StdDev();
      for (const v of values) s.add(v);
      return s.result(op === '$stdDevSamp');
    }
  }
}
const NATIVE_ACCUMULATORS = ['$sum', '$avg', '$min', '$max', '$stdDevPop', '$stdDevSamp'];

/** Retypes an arithmetic operator's result from its operands. */
function arithmetic(name: string, orig: Op): Op {
  return (obj, expr, options) => {
    const vals = operands(obj, expr, options);
    const result = orig(obj, literal(vals.map(plainValue), expr), options);
    if (DOUBLE.has(name)) return typeof result === 'number' ? asDouble(result) : result;
    if (name === '$subtract' && vals[0] instanceof Date && vals[1] instanceof Date)
      return typeof result === 'number' ? Long.fromNumber(result) : result;
    const kind = FIRST.has(name) ? numberKind(vals[0]) : widestKind(vals);
    return typedResult(result, kind);
  };
}

/** An operator that looks at numbers: its operands plain. Object-shaped operands: the document it reads plain. */
function plained(name: string, orig: Op): Op {
  if (name === '$toLong')
    return (obj, expr, options) => {
      const r = plained('', orig)(obj, expr, options);
      return typeof r === 'number' && Number.isInteger(r) ? Long.fromNumber(r) : r;
    };
  if (name === '$convert')
    return (obj, expr, options) => {
      const r = orig(plainValue(obj), expr, options);
      if (typeof r !== 'number') return r;
      const to =
        (evalExpr(obj as never, (expr as { to?: unknown })?.to as never, options) as unknown) ?? null;
      if (to === 'double' || to === 1) return asDouble(r);
      if ((to === 'long' || to === 18) && Number.isInteger(r)) return Long.fromNumber(r);
      return r;
    };
  return (obj, expr, options) => {
    if (Array.isArray(expr) || typeof expr !== 'object' || expr === null || isOperatorExpr(expr)) {
      const vals = operands(obj, expr, options);
      return orig(obj, literal(vals.map(plainValue), expr), options);
    }
    return orig(plainValue(obj), expr, options);
  };
}

const isOperatorExpr = (e: object): boolean => Object.keys(e)[0]?.startsWith('$') ?? false;

/** `$arrayElemAt`, `$slice`…: the values moved as they are, the counts and indexes plain. */
function countsPlain(orig: Op): Op {
  return (obj, expr, options) => {
    if (!Array.isArray(expr) && (typeof expr !== 'object' || expr === null || isOperatorExpr(expr)))
      return orig(obj, expr, options);
    if (Array.isArray(expr)) {
      const vals = operands(obj, expr, options);
      return orig(
        obj,
        literal(
          vals.map((v, i) => (i === 0 ? v : plainNumber(v))),
          expr,
        ),
        options,
      );
    }
    // {input, n}: n plain, input as it is.
    const e = expr as Record<string, unknown>;
    const n = plainNumber(evalExpr(obj as never, e.n as never, options));
    return orig(obj, { ...e, n: { $literal: n } }, options);
  };
}

function truthOps(): Record<string, Op> {
  const bad = (m: string) => new Error(m);
  return {
    $cond: (obj, expr, options) => {
      let parts: unknown[];
      if (Array.isArray(expr)) {
        if (expr.length !== 3) throw bad("$cond expects array(3) or object with 'if-then-else' expressions");
        parts = expr;
      } else if (expr && typeof expr === 'object') {
        const e = expr as Record<string, unknown>;
        parts = [e.if, e.then, e.else];
      } else throw bad("$cond expects array(3) or object with 'if-then-else' expressions");
      const chosen = isTrue(evalExpr(obj as never, parts[0] as never, options)) ? parts[1] : parts[2];
      return evalExpr(obj as never, chosen as never, options);
    },
    $and: (obj, expr, options) =>
      (Array.isArray(expr) ? expr : [expr]).every((e) => isTrue(evalExpr(obj as never, e as never, options))),
    $or: (obj, expr, options) =>
      (Array.isArray(expr) ? expr : [expr]).some((e) => isTrue(evalExpr(obj as never, e as never, options))),
    $not: (obj, expr, options) => {
      const e = Array.isArray(expr) ? expr : [expr];
      if (e.length !== 1) throw bad('Expression $not takes exactly 1 arguments.');
      return !isTrue(evalExpr(obj as never, e[0] as never, options));
    },
    $switch: (obj, expr, options) => {
      const e = (expr ?? {}) as { branches?: unknown; default?: unknown };
      if (!Array.isArray(e.branches)) throw bad("$switch requires at least one branch for 'branches'.");
      for (const b of e.branches as { case: unknown; then: unknown }[])
        if (isTrue(evalExpr(obj as never, b.case as never, options)))
          return evalExpr(obj as never, b.then as never, options);
      if (!('default' in e))
        throw bad('$switch could not find a matching branch for an input, and no default was specified.');
      return evalExpr(obj as never, e.default as never, options);
    },
  };
}

/** Every expression operator, typed (see the header); `own` (the views' comparisons) taken as they are. */
export function typedExpressions(
  expression: Record<string, unknown>,
  own: Record<string, Op>,
  compare: Compare,
): Record<string, Op> {
  const out: Record<string, Op> = {};
  for (const [name, fn] of Object.entries(expression)) {
    if (typeof fn !== 'function' || !name.startsWith('$')) continue;
    const orig = fn as Op;
    if (MOVES.has(name)) out[name] = orig;
    else if (MOVES_WITH_COUNTS.has(name)) out[name] = countsPlain(orig);
    else if (WIDEST.has(name) || FIRST.has(name) || DOUBLE.has(name)) out[name] = arithmetic(name, orig);
    else out[name] = plained(name, orig);
  }
  for (const op of NATIVE_ACCUMULATORS)
    out[op] = (obj, expr, options) => accumulatorValue(op, accumulated(obj, expr, options), compare, options);
  return { ...out, ...truthOps(), ...own };
}

/** mingo's accumulators (its `$setWindowFields` windows use them) over typed documents. */
export function typedAccumulators(
  accumulator: Record<string, unknown>,
  compare: Compare,
): Record<string, Acc> {
  const out: Record<string, Acc> = {};
  for (const [name, fn] of Object.entries(accumulator)) {
    if (typeof fn !== 'function' || !name.startsWith('$')) continue;
    const orig = fn as Acc;
    if (NATIVE_ACCUMULATORS.includes(name))
      out[name] = (coll, expr, options) =>
        accumulatorValue(
          name,
          expr === null || expr === undefined
            ? coll
            : coll.map((d) => evalExpr(d as never, expr as never, options)),
          compare,
          options,
        );
    else if (['$push', '$first', '$last', '$count', '$mergeObjects'].includes(name)) out[name] = orig;
    else out[name] = (coll, expr, options) => orig(plainList(coll), expr, options);
  }
  return out;
}

/** mingo's window operators over typed documents: their windows plain (once per partition). */
export function typedWindows(windowOps: Record<string, unknown>): Record<string, Win> {
  const out: Record<string, Win> = {};
  for (const [name, fn] of Object.entries(windowOps)) {
    if (typeof fn !== 'function' || !name.startsWith('$')) continue;
    const orig = fn as Win;
    // $shift and $locf move values; the rest compute, and give Doubles ($rank and $documentNumber integers).
    if (name === '$shift' || name === '$locf') out[name] = orig;
    else
      out[name] = (obj, coll, expr, options) => {
        const r = orig(plainValue(obj), plainList(coll), expr, options);
        return typeof r === 'number' && !INTEGER_WINDOWS.has(name) ? asDouble(r) : r;
      };
  }
  return out;
}
const INTEGER_WINDOWS = new Set(['$rank', '$denseRank', '$documentNumber']);

/** The query's `$expr`, true by mongod's truthiness. */
export function typedExprQuery(): Record<string, unknown> {
  return {
    $expr: (_: unknown, expr: unknown, options: never) => (obj: unknown) =>
      isTrue(evalExpr(obj as never, expr as never, options)),
  };
}

/** A window's documents plain, the same array for the same window (mingo's window operators memoize by it). */
const plainLists = new WeakMap<unknown[], unknown[]>();
function plainList(coll: unknown[]): unknown[] {
  let p = plainLists.get(coll);
  if (!p) {
    p = coll.map(plainValue);
    plainLists.set(coll, p);
  }
  return p;
}
