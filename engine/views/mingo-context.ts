/**
 * mingo, as the views run it: every operator of mingo's own, but for the
 * aggregation expressions that compare values (`$eq`, `$ne`, `$gt`, `$gte`,
 * `$lt`, `$lte`, `$cmp`), which use MongoDB's comparison order
 * (bson-order.ts; strings by the pipeline's collation, options'
 * `collation`) instead of mingo's. In mongod an expression compares any
 * two values, of any types, in the BSON order (`{$gt: ["abc", 5]}` is true:
 * strings sort above numbers), numbers by exact value across types, arrays
 * and documents as wholes, and a missing value below null; mingo brackets by
 * JavaScript type and compares arrays element-wise, as its query operators
 * do. `$bucket` (a `$switch` on `$gte` / `$lt`) relies on this.
 *
 * Query filters are not mingo's at all (bson-match.ts); mingo evaluates the
 * expressions inside them (`$expr`) with this context.
 *
 * The documents hold typed numbers (typed-values.ts): every other operator is
 * wrapped so that it computes on plain numbers and gives mongod's result
 * types (typed-operators.ts).
 */
import { Aggregator as AggregatorBase } from 'mingo/aggregator';
import { Context, evalExpr } from 'mingo/core';
import * as accumulator from 'mingo/operators/accumulator';
import * as expression from 'mingo/operators/expression';
import * as pipeline from 'mingo/operators/pipeline';
import * as projection from 'mingo/operators/projection';
import * as query from 'mingo/operators/query';
import * as windowOps from 'mingo/operators/window';
import { Query as QueryBase } from 'mingo/query';
import { compareJs } from './js-element.js';
import { SET_EXPRESSIONS } from './set-expressions.js';
import { collatorOf, type CollationSpec } from './collation.js';
import { ApiError } from '../errors.js';
import { inMongodOrder, projectionTree } from './project-order.js';
import {
  typedAccumulators,
  typedExpressions,
  typedExprQuery,
  typedProjections,
  typedStages,
  typedWindows,
} from './typed-operators.js';

type Options = NonNullable<ConstructorParameters<typeof AggregatorBase>[1]>;

export { compareJs } from './js-element.js';

function comparing(name: string, test: (c: number) => boolean | number) {
  return (obj: unknown, expr: unknown, options: Options): unknown => {
    if (!Array.isArray(expr) || expr.length !== 2)
      throw new Error(`Expression ${name} takes exactly 2 arguments.`);
    const [a, b] = evalExpr(obj as never, expr, options as never) as unknown[];
    // Strings by the pipeline's collation, as mongod's expressions compare them.
    return test(compareJs(a, b, collatorOf(options.collation as CollationSpec | undefined)));
  };
}

const MONGO_COMPARISONS = {
  $eq: comparing('$eq', (c) => c === 0),
  $ne: comparing('$ne', (c) => c !== 0),
  $gt: comparing('$gt', (c) => c > 0),
  $gte: comparing('$gte', (c) => c >= 0),
  $lt: comparing('$lt', (c) => c < 0),
  $lte: comparing('$lte', (c) => c <= 0),
  $cmp: comparing('$cmp', (c) => c),
};

/** `$bucket` without a default, for a value outside its boundaries: refused, as mongod refuses it. */
export const BUCKET_MISS = '$__viewsBucketMiss';
function bucketMiss(obj: unknown, expr: unknown, options: Options): never {
  const v = evalExpr(obj as never, expr, options as never);
  throw new ApiError(
    'INVALID_INPUT',
    `pipeline: $bucket: the groupBy value ${JSON.stringify(v) ?? 'missing'} is outside the boundaries and no 'default' is given (mongod: 40066, $switch could not find a matching branch).`,
    { field: 'pipeline' },
  );
}

/** `compareJs` as the typed operators call it: strings by the pipeline's collation. */
const compareIn = (a: unknown, b: unknown, options: unknown): number =>
  compareJs(a, b, collatorOf((options as Options | undefined)?.collation as CollationSpec | undefined));

/** mingo's `$project` with its output's fields in mongod's order (project-order.ts). */
function projectInOrder(coll: unknown, expr: unknown, options: unknown): unknown {
  const tree = projectionTree(expr as Record<string, unknown>);
  type Lazy = { map(f: (o: unknown) => unknown): Lazy };
  const run = pipeline.$project as unknown as (c: Lazy, e: unknown, o: unknown) => Lazy;
  if (!tree) return run(coll as Lazy, expr, options);
  // $project maps one document to one, in order: the input last read is the output's.
  let input: unknown;
  const tapped = (coll as Lazy).map((o) => (input = o));
  return run(tapped, expr, options).map((out) => inMongodOrder(out, input, tree));
}

export const VIEW_CONTEXT = Context.init({
  accumulator: typedAccumulators(accumulator, compareIn),
  expression: typedExpressions(
    expression,
    { ...SET_EXPRESSIONS, ...MONGO_COMPARISONS, [BUCKET_MISS]: bucketMiss } as unknown as Record<
      string,
      never
    >,
    compareIn,
  ),
  pipeline: { ...pipeline, ...typedStages(pipeline), $project: projectInOrder },
  projection: { ...projection, ...typedProjections(projection) },
  query: { ...query, ...typedExprQuery() },
  window: typedWindows(windowOps),
} as unknown as Parameters<typeof Context.init>[0]);

const withContext = (o: Options | undefined): Options => ({ ...o, context: VIEW_CONTEXT });

/** mingo's Aggregator with the views' context. */
export class Aggregator extends AggregatorBase {
  constructor(stages: ConstructorParameters<typeof AggregatorBase>[0], options?: Options) {
    super(stages, withContext(options));
  }
}

/** mingo's Query (projections, `$expr`) with the views' context. */
export class Query extends QueryBase {
  constructor(condition: ConstructorParameters<typeof QueryBase>[0], options?: Options) {
    super(condition, withContext(options));
  }
}

/**
 * `input` through mingo stages, lazily; closing the result closes `input` too (mingo does not
 * close its source, and an upstream external sort removes its run files only when closed).
 */
export function* streamThrough(
  stages: ConstructorParameters<typeof AggregatorBase>[0],
  options: Options | undefined,
  input: Iterable<unknown>,
): Generator<unknown> {
  const out = new Aggregator(stages, options).stream(input as Iterable<never>);
  try {
    for (;;) {
      const r = out.next();
      if (r.done) return;
      yield r.value;
    }
  } finally {
    (input as Partial<Generator<unknown>>).return?.(undefined);
  }
}
