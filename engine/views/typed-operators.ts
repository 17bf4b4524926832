/**
 * mingo's operators over typed values (typed-values.ts): the pipeline's
 * documents hold integral Doubles and Int64s as bson objects, which mingo
 * passes through untouched but cannot compute on. Here:
 *
 * - arithmetic gets plain numbers and gives its result mongod's type: the
 *   widest of its operands' for `$add`, `$subtract`, `$multiply`, `$mod`,
 *   `$abs`, `$ceil`, `$floor`, `$trunc`, `$round` and `$pow` (an Int32 that
 *   overflows becomes an Int64; integer `$add`/`$subtract`/`$multiply` are
 *   exact), a Double for `$divide`, `$sqrt`, `$exp`, the logarithms, the
 *   trigonometry and `$toDouble`, an Int64 for `$toLong` and for a Date
 *   minus a Date (as mongod's ExpressionSubtract); the bitwise operators
 *   work over 64 bits;
 * - `$sum`, `$avg`, `$min`, `$max`, `$stdDevPop` and `$stdDevSamp` (number-sums.ts), as
 *   expressions and as window accumulators, are computed here with mongod's
 *   types (Int32 sums stay exact and widen to Int64, then Double; Decimal128
 *   sums are exact, decimal-sum.ts; `$avg` is a Double; `$min` / `$max` give
 *   back the operand itself);
 * - `$cond`, `$and`, `$or`, `$not`, `$switch`, `$filter`'s cond and the
 *   query's `$expr` use mongod's truthiness (a Double 0.0 or Int64 0 is false);
 * - every other operator that looks at numbers sees plain ones (named
 *   operands evaluated to plain literals: mingo reads field paths from its
 *   root, not from the document it is handed), and its result's type is
 *   mingo's, but for `$maxN` / `$minN` and a projection's `$elemMatch`, which
 *   give back the chosen values as stored; those that only move values
 *   (`$map`, `$let`, `$ifNull`, `$arrayElemAt`, `$concatArrays`…) see the
 *   typed values and keep them;
 * - `$round` / `$trunc` (any place, ties to even, the operand's type), `$mod` by zero
 *   refused and `$toDecimal` are this engine's (mingo truncated at negative places);
 * - mingo's `$densify` gets its field plain, and `$unwind`'s index is an Int64.
 */
import { Decimal128, Long, serialize } from 'bson';
import { evalExpr } from 'mingo/core';
import { NumberSum, StdDev } from './number-sums.js';
import { Query as MingoQuery } from 'mingo/query';
import { resolve } from 'mingo/util';
import { isPlainObject } from './lookup-plan.js';
import {
  asDouble,
  integerResult,
  isTrue,
  numberKind,
  plainValue,
  typedResult,
  widestKind,
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

/** Integer operands of `$add`, `$subtract`, `$multiply` computed exactly (an Int64 past 2^53). */
const EXACT: Record<string, (a: bigint, b: bigint) => bigint> = {
  $add: (a, b) => a + b,
  $subtract: (a, b) => a - b,
  $multiply: (a, b) => a * b,
};

function integer(v: unknown): bigint | null {
  if (v instanceof Long) return BigInt(v.toString());
  const k = numberKind(v);
  return k === 'int' ? BigInt(plainValue(v) as number) : null;
}

/** Retypes an arithmetic operator's result from its operands. */
function arithmetic(name: string, orig: Op): Op {
  return (obj, expr, options) => {
    const vals = operands(obj, expr, options);
    if (
      name === '$mod' &&
      vals.length === 2 &&
      numberKind(vals[1]) &&
      Number(plainValue(vals[1]) as number) === 0
    )
      throw new Error("can't $mod by zero");
    const exact = EXACT[name];
    if (exact && vals.length > 0 && (name !== '$subtract' || vals.length === 2)) {
      const ints = vals.map(integer);
      if (ints.every((x) => x !== null)) {
        const kind = vals.some((v) => v instanceof Long) ? 'long' : 'int';
        return integerResult(
          (ints as bigint[]).reduce((a, b) => exact(a, b)),
          kind,
        );
      }
    }
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
      const r = plained('', orig)(obj, expr, options);
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
    return orig(obj, namedPlain(obj, expr as Record<string, unknown>, options), options);
  };
}

/**
 * Named operands (`{input: "$a", n: 2}`) evaluated and given as plain literals; a constant (a
 * number, a string not naming a field, a boolean) is left as written, since some operators read
 * theirs as they are (`$median`'s `method`). mingo reads field paths from its options' root, not
 * from the document it is handed: the operands themselves must be plain.
 */
function namedPlain(obj: unknown, expr: Record<string, unknown>, options: never): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(expr)) {
    out[k] = isConstant(v) ? v : { $literal: plainValue(evalExpr(obj as never, v as never, options)) };
  }
  return out;
}

/** Whether an operand is written as a constant: no field path, variable or operator anywhere in it. */
function isConstant(v: unknown): boolean {
  if (v === null || typeof v !== 'object') return typeof v !== 'string' || !v.startsWith('$');
  if (Array.isArray(v)) return v.every(isConstant);
  if (Object.getPrototypeOf(v) !== Object.prototype) return true;
  return Object.entries(v).every(([k, x]) => !k.startsWith('$') && isConstant(x));
}

/**
 * `$maxN` / `$minN` (expression forms): computed on plain numbers, then each chosen value given
 * back as the input held it (its number type), the first unused equal one.
 */
function selecting(orig: Op): Op {
  return (obj, expr, options) => {
    if (!expr || typeof expr !== 'object' || Array.isArray(expr)) return orig(obj, expr, options);
    const e = expr as Record<string, unknown>;
    const input = evalExpr(obj as never, e.input as never, options);
    const r = orig(obj, namedPlain(obj, e, options), options);
    return Array.isArray(input) ? retyped(r, input, input.map(plainValue)) : r;
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

/** mongod's truthiness of an expression's value, as a boolean mingo's own truthiness reads rightly. */
const TRUTH = '$__viewsTruth';

function truthOps(filter: Op): Record<string, Op> {
  const bad = (m: string) => new Error(m);
  return {
    [TRUTH]: (obj, expr, options) => isTrue(evalExpr(obj as never, expr as never, options)),
    // mingo's $filter binds its variable and keeps the elements whose cond it finds truthy.
    $filter: (obj, expr, options) => {
      if (!expr || typeof expr !== 'object' || !('cond' in expr)) return filter(obj, expr, options);
      const e = expr as Record<string, unknown>;
      // mingo reads its limit as written: one read from a document (or an Int64) is given to it
      // evaluated and plain (mongod takes any integral number: limitValue.integral(); null: none).
      const rest: Record<string, unknown> = { ...e };
      if ('limit' in e) {
        const v = plainValue(
          isConstant(e.limit) ? e.limit : evalExpr(obj as never, e.limit as never, options),
        );
        if (v === null || v === undefined) delete rest.limit;
        else rest.limit = v;
      }
      return filter(obj, { ...rest, cond: { [TRUTH]: e.cond } }, options);
    },
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

/**
 * `$bitAnd`, `$bitOr`, `$bitXor` and `$bitNot` over 64 bits: Int32 operands give an Int32, any Int64
 * an Int64 (docs: bitAnd, "Behavior"); a non-integer operand is refused, null or missing gives null.
 */
function bitOps(): Record<string, Op> {
  const bits =
    (name: string, f: (a: bigint, b: bigint) => bigint | null): Op =>
    (obj, expr, options) => {
      const vals = operands(obj, expr, options);
      if (name === '$bitNot' && vals.length !== 1)
        throw new Error(`Expression $bitNot takes exactly 1 arguments. ${vals.length} were passed in.`);
      if (vals.some((v) => v === null || v === undefined)) return null;
      const ints = vals.map(integer);
      if (ints.some((x) => x === null)) throw new Error(`${name} only supports int and long operands.`);
      const long = vals.some((v) => v instanceof Long);
      const r =
        name === '$bitNot'
          ? ~(ints[0] as bigint)
          : (ints as bigint[]).reduce((a, b) => f(a, b) as bigint, name === '$bitAnd' ? -1n : 0n);
      return long ? Long.fromBigInt(BigInt.asIntN(64, r)) : Number(BigInt.asIntN(32, r));
    };
  return {
    $bitAnd: bits('$bitAnd', (a, b) => a & b),
    $bitOr: bits('$bitOr', (a, b) => a | b),
    $bitXor: bits('$bitXor', (a, b) => a ^ b),
    $bitNot: bits('$bitNot', () => null),
  };
}

/** The nearest integer, ties to even (C's nearbyint under the default rounding mode). */
function roundHalfEven(y: number): number {
  const f = Math.floor(y);
  const d = y - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/**
 * `$round` (ties to even) and `$trunc` at a place from -20 to 100, as mongod's
 * ExpressionRound/ExpressionTrunc: an Int32 or Int64 exactly (an Int32 that overflows becomes an
 * Int64), a Double by its decimal place; the result has the operand's type. mingo truncated
 * where the place is negative. A Decimal128 goes to mingo.
 */
function roundingOps(round: Op, trunc: Op): Record<string, Op> {
  const at =
    (name: '$round' | '$trunc', orig: Op): Op =>
    (obj, expr, options) => {
      const vals = operands(obj, expr, options);
      if (vals.length < 1 || vals.length > 2)
        throw new Error(
          `Expression ${name} takes at least 1 arguments, and at most 2, but ${vals.length} were passed in.`,
        );
      const [x, p = 0] = vals;
      if (x === null || x === undefined || p === null || p === undefined) return null;
      const kind = numberKind(x);
      if (!kind) throw new Error(`${name} only supports numeric types, not ${typeof x}`);
      if (kind === 'decimal') return orig(obj, expr, options);
      const place = plainValue(p);
      if (typeof place !== 'number' || !Number.isInteger(place) || place < -20 || place > 100)
        throw new Error(`${name}: place must be an integer between -20 and 100, got ${String(place)}`);
      if (kind === 'int' || kind === 'long') {
        if (place >= 0) return x;
        const n = integer(x)!;
        const m = 10n ** BigInt(-place);
        let q = n / m;
        const r = n % m;
        if (name === '$round') {
          const twice = (r < 0n ? -r : r) * 2n;
          if (twice > m || (twice === m && q % 2n !== 0n)) q += n < 0n ? -1n : 1n;
        }
        return integerResult(q * m, kind);
      }
      const v = plainValue(x) as number;
      if (!Number.isFinite(v)) return x;
      const f = name === '$round' ? roundHalfEven : Math.trunc;
      const r = place >= 0 ? f(v * 10 ** place) / 10 ** place : f(v / 10 ** -place) * 10 ** -place;
      return asDouble(r);
    };
  return { $round: at('$round', round), $trunc: at('$trunc', trunc) };
}

/** `$toDecimal` as mongod's table gives it: a Double to 15 digits (2.5 is 2.50000000000000), integers exact. */
function toDecimalOp(): Op {
  return (obj, expr, options) => {
    const [v] = operands(obj, expr, options);
    if (v === null || v === undefined) return null;
    if (v instanceof Decimal128) return v;
    if (typeof v === 'boolean') return Decimal128.fromString(v ? '1' : '0');
    if (v instanceof Date) return Decimal128.fromString(String(v.getTime()));
    if (typeof v === 'string') {
      try {
        return Decimal128.fromString(v);
      } catch {
        throw new Error(`Failed to parse number '${v}' in $convert with no onError value`);
      }
    }
    const kind = numberKind(v);
    if (kind === 'int' || kind === 'long') return Decimal128.fromString(integer(v)!.toString());
    if (kind === 'double') {
      const d = plainValue(v) as number;
      return Decimal128.fromString(Number.isFinite(d) ? d.toPrecision(15) : String(d));
    }
    throw new Error(`Unsupported conversion from ${typeof v} to decimal in $convert with no onError value`);
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
    else if (name === '$maxN' || name === '$minN') out[name] = selecting(orig);
    else if (WIDEST.has(name) || FIRST.has(name) || DOUBLE.has(name)) out[name] = arithmetic(name, orig);
    else out[name] = plained(name, orig);
  }
  for (const op of NATIVE_ACCUMULATORS)
    out[op] = (obj, expr, options) => accumulatorValue(op, accumulated(obj, expr, options), compare, options);
  return {
    ...out,
    ...truthOps(expression.$filter as Op),
    ...bitOps(),
    ...roundingOps(expression.$round as Op, expression.$trunc as Op),
    $toDecimal: toDecimalOp(),
    ...own,
  };
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
    else if (name === '$linearFill')
      // A value that is there is given back as it is; only the filled ones are computed Doubles.
      out[name] = (obj, coll, expr, options) => {
        const present = evalExpr(obj as never, (expr as { inputExpr?: unknown }).inputExpr as never, options);
        if (present !== null && present !== undefined) return present;
        const r = orig(plainValue(obj), plainList(coll), expr, options);
        return typeof r === 'number' ? asDouble(r) : r;
      };
    else
      out[name] = (obj, coll, expr, options) => {
        const r = orig(plainValue(obj), plainList(coll), expr, options);
        return typeof r === 'number' && !INTEGER_WINDOWS.has(name) ? asDouble(r) : r;
      };
  }
  return out;
}
const INTEGER_WINDOWS = new Set(['$rank', '$denseRank', '$documentNumber']);

/**
 * mingo's pipeline stages that compute on their documents' numbers themselves (`$densify`, `$fill`)
 * get them plain (their output's numbers are JavaScript's); `$unwind`'s `includeArrayIndex` is an
 * Int64, as mongod writes it.
 */
export function typedStages(pipeline: Record<string, unknown>): Record<string, unknown> {
  type Lazy = { map(f: (o: unknown) => unknown): Lazy };
  type Stage = (coll: Lazy, expr: unknown, options: unknown) => Lazy;
  const plainDocs =
    (orig: Stage): Stage =>
    (coll, expr, options) =>
      orig(coll.map(plainValue), expr, options);
  const unwind = pipeline.$unwind as Stage;
  const densify = pipeline.$densify as Stage;
  return {
    $densify: ((coll, expr, options) => {
      // mingo computes on the densified field: each document goes in with that field plain, and
      // comes out as it was (its own numbers' types kept) unless the stage made it (a new one).
      const field = (expr as { field?: unknown } | null)?.field;
      if (typeof field !== 'string') return plainDocs(densify)(coll, expr, options);
      const originals = new WeakMap<object, unknown>();
      const input = coll.map((d) => {
        const copy = withPlainPath(d, field.split('.'));
        if (copy !== d && copy && typeof copy === 'object') originals.set(copy, d);
        return copy;
      });
      return densify(input, expr, options).map((d) =>
        d && typeof d === 'object' && originals.has(d) ? originals.get(d) : d,
      );
    }) as Stage,
    $unwind: ((coll, expr, options) => {
      const index = (expr as { includeArrayIndex?: unknown } | null)?.includeArrayIndex;
      const out = unwind(coll, expr, options);
      if (typeof index !== 'string') return out;
      return out.map((d) => {
        const doc = d as Record<string, unknown>;
        if (typeof doc[index] === 'number') doc[index] = Long.fromNumber(doc[index]);
        return doc;
      });
    }) as Stage,
  };
}

/**
 * A projection's `$elemMatch` (mingo's query matching on plain numbers), giving back the matched
 * element as the document holds it (its number type).
 */
export function typedProjections(projection: Record<string, unknown>): Record<string, unknown> {
  type Proj = (obj: unknown, expr: unknown, field: string, options: unknown) => unknown;
  const elemMatch = projection.$elemMatch as Proj;
  return {
    $elemMatch: ((obj, expr, field, options) => {
      const plainObj = plainValue(obj);
      if (isValueCondition(expr)) {
        // `{$elemMatch: {$gt: 4}}` on scalar elements: each element matched as a value (mingo's
        // own reads the condition as a document's and refuses a top-level $gt).
        const arr = resolve(obj as never, field);
        const plainArr = resolve(plainObj as never, field);
        if (!Array.isArray(arr) || !Array.isArray(plainArr)) return undefined;
        const q = new MingoQuery({ v: expr } as never, options as never);
        const i = plainArr.findIndex((x) => q.test({ v: x }));
        return i < 0 ? undefined : [arr[i]];
      }
      return retyped(
        elemMatch(plainObj, expr, field, options),
        resolve(obj as never, field),
        resolve(plainObj as never, field),
      );
    }) as Proj,
  };
}

/** A condition on a value (`{$gt: 4}`), not on a document's fields. */
function isValueCondition(expr: unknown): boolean {
  if (!expr || typeof expr !== 'object' || Array.isArray(expr)) return false;
  const keys = Object.keys(expr);
  return (
    keys.length > 0 &&
    keys.every((k) => k.startsWith('$') && !['$and', '$or', '$nor', '$expr', '$where', '$text'].includes(k))
  );
}

/**
 * `out`, computed from `plain` (the plain copy of `typed`), with the values it took from it given
 * back as `typed` holds them: array elements found by identity or equal value (the first unused),
 * documents field by field, numbers by value.
 */
export function retyped(out: unknown, typed: unknown, plain: unknown): unknown {
  if (out === plain) return typed;
  if (Array.isArray(out) && Array.isArray(typed) && Array.isArray(plain)) {
    // Where each value sits in `plain`: primitives by value, documents by identity or their bytes
    // (mingo may copy them); each place taken once, in order.
    const places = new Map<unknown, number[]>();
    plain.forEach((p, k) => {
      const key = placeKey(p);
      const list = places.get(key);
      if (list) list.push(k);
      else places.set(key, [k]);
    });
    return out.map((x) => {
      const i = places.get(x)?.shift() ?? places.get(placeKey(x))?.shift();
      return i === undefined ? x : typed[i];
    });
  }
  if (isPlainObject(out) && isPlainObject(typed) && isPlainObject(plain)) {
    const res: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(out)) res[k] = retyped(v, typed[k], plain[k]);
    return res;
  }
  if (typeof out === 'number' && numberKind(typed) && plainValue(typed) === out) return typed;
  return out;
}

/** A value's key among an array's values: a primitive itself, a document or array its BSON bytes. */
function placeKey(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return v;
  try {
    return Buffer.from(serialize({ v })).toString('latin1');
  } catch {
    return v;
  }
}

/** `d` with the value at `path` plain (the documents on the path copied); `d` itself when nothing changes. */
function withPlainPath(d: unknown, path: string[]): unknown {
  if (!isPlainObject(d) || !(path[0]! in d)) return d;
  const v = d[path[0]!];
  const next = path.length === 1 ? plainValue(v) : withPlainPath(v, path.slice(1));
  return next === v ? d : { ...d, [path[0]!]: next };
}

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
