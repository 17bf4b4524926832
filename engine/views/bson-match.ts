/**
 * A query filter matched on a document's stored bytes, with mongod's rules
 * (src/mongo/db/matcher: expression_leaf.cpp, expression_array.cpp,
 * path.cpp), not mingo's JavaScript comparison:
 *
 * - type bracketing: `$gt`, `$gte`, `$lt`, `$lte` and `$eq` compare only
 *   values of the same canonical type (`{a: {$gt: 5}}` matches numbers,
 *   `{a: {$gt: "x"}}` strings), except that null and a missing field are one
 *   (`{a: null}` matches a missing `a`, not a stored undefined: mongod 8.0) and a
 *   MinKey / MaxKey operand bounds every type;
 * - numbers by exact value across Int32, Int64, Double and Decimal128
 *   (bson-order.ts: Int64 2^53+1 is above Double 2^53); NaN equals NaN and
 *   is neither above nor below anything;
 * - documents by their fields in order (`{a: {x: 1, y: 2}}` does not match
 *   `{a: {y: 2, x: 1}}`);
 * - a path reaching an array matches when the array itself or any of its
 *   elements matches (`$size` and `$elemMatch` see the array only), and a
 *   path through an array of documents reaches the field of each;
 * - `$type` on the stored BSON type (an Int32 5 is "int", a Double 5.0 is
 *   "double", "number" is any of the four);
 * - a regex matches strings and symbols (and an equal regex), nothing else;
 * - strings compare by the query's collation when it has one (mingo's options'
 *   `collation`, collation.ts), in embedded documents and arrays as well; a
 *   regex and `$type` ignore it, as in mongod.
 *
 * `$expr`, `$jsonSchema` and the bitwise operators are evaluated by mingo
 * on the decoded document (expressions are mingo's); `$where`, `$text` and
 * the geospatial operators are refused, as a view has no JavaScript engine
 * nor text / geo indexes. An unknown operator is INVALID_INPUT, before any
 * document is read.
 */
import { BSONRegExp, Decimal128, Double, Int32, Long, deserialize, serialize, type Document } from 'bson';
import { decodeTyped } from './typed-values.js';
import { Query } from './mingo-context.js';
import { ApiError } from '../errors.js';
import { T, elements, field, subDocument, type RawElement } from '../oplog/bson-raw.js';
import { compareValues } from './bson-order.js';
import { typeClass } from './index-keys.js';
import { collatorOf, type CollationSpec, type Collator } from './collation.js';

/** Whether a document (its BSON bytes) matches. */
export type Matcher = (doc: Buffer) => boolean;

type MingoOptions = ConstructorParameters<typeof Query>[1];

const T_UNDEFINED = 0x06;
const T_REGEX = 0x0b;
const T_SYMBOL = 0x0e;
const T_DECIMAL = 0x13;
const T_MINKEY = 0xff;
const T_MAXKEY = 0x7f;
const NUMBER_TYPES = new Set<number>([T.double, T.int32, T.int64, T_DECIMAL]);

function bad(message: string): ApiError {
  return new ApiError('INVALID_INPUT', `filter: ${message}`, { field: 'filter' });
}

/** A value reached by a path: an element in a document or array, or a missing field. */
interface Reached {
  doc: Buffer;
  e: RawElement;
}
const MISSING = null;
type Value = Reached | typeof MISSING;

/** A leaf predicate on one value (an element, or missing). */
type Leaf = (v: Value) => boolean;

/** The document a matcher runs on: its bytes, and its decoded form when mingo needs it. */
interface Ctx {
  raw: Buffer;
  js?: Document;
}
type Pred = (c: Ctx) => boolean;

/**
 * The values a dotted path reaches, as mongod's element iterator walks them: through embedded
 * documents, into each document of an array (and its element at a numeric part), yielding a
 * missing value where a document lacks the field. At the end of the path an array is yielded
 * itself and, when `expand`, each of its elements too.
 */
function reach(doc: Buffer, parts: string[], expand: boolean, out: Value[]): void {
  walk(doc, parts, 0, expand, out);
}

function walk(doc: Buffer, parts: string[], at: number, expand: boolean, out: Value[]): void {
  const e = field(doc, parts[at]!);
  if (!e) {
    out.push(MISSING);
    return;
  }
  if (at === parts.length - 1) {
    out.push({ doc, e });
    if (expand && e.type === T.array) {
      const arr = subDocument(doc, e);
      for (const x of elements(arr)) out.push({ doc: arr, e: x });
    }
    return;
  }
  if (e.type === T.object) {
    walk(subDocument(doc, e), parts, at + 1, expand, out);
    return;
  }
  if (e.type !== T.array) {
    out.push(MISSING);
    return;
  }
  inArray(subDocument(doc, e), parts, at + 1, expand, out);
}

/**
 * The rest of a path (`parts[at]` on) over an array's elements, as path.cpp's IN_ARRAY state:
 * each document element walks it by name (a nested array is not entered by name), and when
 * `parts[at]` is all digits the element at that position counts as well: as it is when the path
 * ends there (an array there is not opened: `{"a.0": 1}` does not match `{a: [[1]]}`), else the
 * path goes on into it, a nested array included (`{"a.0.0": 1}` matches `{a: [[1]]}`).
 */
function inArray(arr: Buffer, parts: string[], at: number, expand: boolean, out: Value[]): void {
  const next = parts[at]!;
  const positional = /^\d+$/.test(next);
  for (const x of elements(arr)) {
    if (x.type === T.object) walk(subDocument(arr, x), parts, at, expand, out);
    if (!positional || x.name !== next) continue;
    if (at === parts.length - 1) out.push({ doc: arr, e: x });
    else if (x.type === T.object) walk(subDocument(arr, x), parts, at + 1, expand, out);
    else if (x.type === T.array) inArray(subDocument(arr, x), parts, at + 1, expand, out);
  }
}

/** One operand encoded as a BSON element, to be compared with bson-order.ts. */
function operand(v: unknown): Reached {
  if (v === undefined) throw bad('cannot compare to undefined.');
  const doc = Buffer.from(serialize({ v }));
  return { doc, e: elements(doc)[0]! };
}

const canonical = (type: number): number => (type === T_UNDEFINED ? -1 : typeClass(type));
const isNaNValue = (r: Reached): boolean => {
  if (r.e.type === T.double) return Number.isNaN(r.doc.readDoubleLE(r.e.valueStart));
  if (r.e.type === T_DECIMAL) {
    // Decimal128 NaN: combination field 11111 in the high byte.
    return (r.doc[r.e.valueStart + 15]! & 0x7c) === 0x7c;
  }
  return false;
};

type Cmp = '$eq' | '$lt' | '$lte' | '$gt' | '$gte';

/** ComparisonMatchExpression::matchesSingleElement. */
function comparison(op: Cmp, rhs: Reached, collator?: Collator): Leaf {
  const rType = rhs.e.type;
  const rNull = rType === T.null;
  const rNaN = isNaNValue(rhs);
  return (v) => {
    // A missing field is mongod's EOO: one with null, below a MaxKey and above a MinKey operand.
    if (v === MISSING) {
      if (rNull) return op === '$eq' || op === '$lte' || op === '$gte';
      if (rType === T_MAXKEY) return op === '$lt' || op === '$lte';
      if (rType === T_MINKEY) return op === '$gt' || op === '$gte';
      return false;
    }
    const t = v.e.type;
    if (t !== rType) {
      const ec = canonical(t);
      const rc = canonical(rType);
      if (ec !== rc) {
        // MinKey / MaxKey bound every type. A stored undefined is not null (mongod 8.0: "$eq:
        // null no longer matches undefined", null_query_semantics.js under requires_fcv_80;
        // only $type: "undefined" finds it), while a missing field still is (above).
        if (rType === T_MAXKEY) return op === '$lt' || op === '$lte';
        if (rType === T_MINKEY) return op === '$gt' || op === '$gte';
        return false;
      }
    }
    if (op !== '$eq') {
      const lNaN = isNaNValue(v);
      if (lNaN || rNaN) return (op === '$lte' || op === '$gte') && lNaN && rNaN;
    }
    const c = compareValues(v.doc, v.e, rhs.doc, rhs.e, collator);
    switch (op) {
      case '$eq':
        return c === 0;
      case '$lt':
        return c < 0;
      case '$lte':
        return c <= 0;
      case '$gt':
        return c > 0;
      case '$gte':
        return c >= 0;
    }
  };
}

const VALID_FLAGS = /^[imsxu]*$/;

/**
 * PCRE escapes that JavaScript reads differently without a word (`\A` is a plain "A" there, `\p{L}`
 * the letters "p{L}", `\h` an "h", `\v` a vertical tab only), and POSIX classes (`[[:alpha:]]`): refused rather than
 * answered wrong. What JavaScript rejects itself (atomic groups, possessive quantifiers, `(?i)`)
 * is refused by its parse.
 */
const PCRE_ONLY = /\\(?:[AZzGKQERXhHpPaev])|\[\[:[a-z]+:\]/;

function pcreOnly(pattern: string): string | undefined {
  for (let at = 0; at < pattern.length; at++) {
    if (pattern[at] === '\\') {
      const m = PCRE_ONLY.exec(pattern.slice(at, at + 2));
      if (m) return m[0];
      at++; // an escaped character is not the start of anything
    } else if (pattern.startsWith('[[:', at)) {
      const m = PCRE_ONLY.exec(pattern.slice(at, at + 12));
      if (m?.index === 0) return m[0];
    }
  }
  return undefined;
}

/**
 * PCRE's `$` without `m` matches at the end and before a newline that ends the subject
 * (`/abc$/` matches "abc\n" in mongod); JavaScript's only at the end. Each `$` outside a
 * bracket set, not escaped, becomes a lookahead for an optional final newline.
 */
function pcreDollar(source: string): string {
  let out = '';
  let inSet = false;
  for (let at = 0; at < source.length; at++) {
    const c = source[at]!;
    if (c === '\\') {
      out += source.slice(at, at + 2);
      at++;
    } else if (inSet) {
      if (c === ']') inSet = false;
      out += c;
    } else if (c === '[') {
      inSet = true;
      out += c;
    } else out += c === '$' ? '(?=\\n?$)' : c;
  }
  return out;
}

/** A JavaScript RegExp for a PCRE pattern and mongod's flags (x: whitespace and # comments dropped). */
function jsRegex(pattern: string, flags: string): RegExp {
  if (!VALID_FLAGS.test(flags)) throw bad(`invalid regular expression options "${flags}".`);
  if (pattern.includes('\0')) throw bad('Regular expression cannot contain an embedded null byte.');
  const pcre = pcreOnly(pattern);
  if (pcre)
    throw new ApiError(
      'UNSUPPORTED',
      `filter: ${pcre} in a regular expression is PCRE's (mongod's) only; JavaScript would read it otherwise.`,
      { field: 'filter', reason: 'pcre-only', operator: '$regex' },
    );
  // x (extended): unescaped whitespace and # comments are not part of the pattern.
  const source = flags.includes('x')
    ? pattern
        .split('\\#')
        .map((p) => p.replace(/#[^\n]*/g, '').replace(/\s+/g, ''))
        .join('\\#')
    : pattern;
  try {
    return new RegExp(
      flags.includes('m') ? source : pcreDollar(source),
      [...new Set(flags.replace(/[xu]/g, ''))].join(''),
    );
  } catch (err) {
    throw bad(`Regular expression is invalid: ${(err as Error).message}`);
  }
}

function readStr(doc: Buffer, e: RawElement): string {
  return doc.toString('utf8', e.valueStart + 4, e.end - 1);
}

/** RegexMatchExpression::matchesSingleElement: strings and symbols by the pattern, a regex by equality. */
function regexLeaf(pattern: string, flags: string): Leaf {
  const re = jsRegex(pattern, flags);
  const sortedFlags = [...flags].sort().join('');
  return (v) => {
    if (v === MISSING) return false;
    if (v.e.type === T.string || v.e.type === T_SYMBOL) {
      re.lastIndex = 0;
      return re.test(readStr(v.doc, v.e));
    }
    if (v.e.type === T_REGEX) {
      const at = v.e.valueStart;
      const pEnd = v.doc.indexOf(0, at);
      const fEnd = v.doc.indexOf(0, pEnd + 1);
      return (
        v.doc.toString('utf8', at, pEnd) === pattern &&
        [...v.doc.toString('utf8', pEnd + 1, fEnd)].sort().join('') === sortedFlags
      );
    }
    return false;
  };
}

function regexParts(v: unknown): { pattern: string; flags: string } | null {
  if (v instanceof RegExp) return { pattern: v.source, flags: v.flags.replace(/[gyu]/g, '') };
  if (v instanceof BSONRegExp) return { pattern: v.pattern, flags: v.options };
  return null;
}

/** mongod's $type names and numbers (bsonTypes: typeAlias). */
const TYPE_ALIASES: Record<string, number> = {
  double: 1,
  string: 2,
  object: 3,
  array: 4,
  binData: 5,
  undefined: 6,
  objectId: 7,
  bool: 8,
  date: 9,
  null: 10,
  regex: 11,
  dbPointer: 12,
  javascript: 13,
  symbol: 14,
  javascriptWithScope: 15,
  int: 16,
  timestamp: 17,
  long: 18,
  decimal: 19,
  minKey: -1,
  maxKey: 127,
};

function typeLeaf(spec: unknown): Leaf {
  const list = Array.isArray(spec) ? spec : [spec];
  if (list.length === 0) throw bad('$type must match at least one type.');
  let number = false;
  const types = new Set<number>();
  for (const t of list) {
    if (t === 'number') number = true;
    else if (typeof t === 'string') {
      const n = TYPE_ALIASES[t];
      if (n === undefined) throw bad(`Unknown type name alias: ${t}`);
      types.add(n === -1 ? T_MINKEY : n);
    } else if (typeof t === 'number' && Number.isInteger(t)) {
      if (!Object.values(TYPE_ALIASES).includes(t)) throw bad(`Invalid numerical type code: ${t}`);
      types.add(t === -1 ? T_MINKEY : t);
    } else throw bad('type must be represented as a number or a string.');
  }
  return (v) => v !== MISSING && ((number && NUMBER_TYPES.has(v.e.type)) || types.has(v.e.type));
}

/**
 * A number operand whatever its BSON type (a filter parsed from canonical Extended JSON, or a
 * pipeline's, may hold Int32, Double, Long or Decimal128 objects rather than JS numbers); a
 * Long stays exact as a BigInt.
 */
function numberOperand(v: unknown): number | bigint | undefined {
  if (typeof v === 'number') return v;
  if (v instanceof Int32 || v instanceof Double) return v.valueOf();
  if (v instanceof Long) return BigInt(v.toString());
  if (v instanceof Decimal128) return Number(v.toString());
  return undefined;
}

/** A number operand as a BigInt, truncated toward zero ($mod's divisor and remainder). */
function integerOperand(v: unknown, what: string): bigint {
  const n = numberOperand(v);
  if (typeof n === 'bigint') return n;
  if (typeof n !== 'number' || !Number.isFinite(n)) throw bad(`${what} must be a number.`);
  return BigInt(Math.trunc(n));
}

/**
 * `$size`'s operand, checked as expression_parser.cpp (parseSize) does: an Int32, a Long within
 * 32 bits or a whole Double, not negative; anything else (a Decimal128 too) is refused, where a
 * fraction or a negative used to match nothing here.
 */
function sizeOperand(v: unknown): number {
  const n = v instanceof Decimal128 ? undefined : numberOperand(v);
  if (n === undefined) throw bad('$size needs a number');
  if (typeof n === 'bigint') {
    if (n < -(2n ** 31n) || n >= 2n ** 31n) throw bad('$size must be representable as a 32-bit integer');
  } else if (!Number.isInteger(n) || n < -(2 ** 31) || n >= 2 ** 31)
    throw bad('$size must be a whole number');
  if (n < 0) throw bad('$size may not be negative');
  return Number(n);
}

function modLeaf(spec: unknown): Leaf {
  if (!Array.isArray(spec) || spec.length !== 2)
    throw bad(
      `malformed mod, ${Array.isArray(spec) && spec.length < 2 ? 'not enough' : 'too many'} elements`,
    );
  const divisor = integerOperand(spec[0], 'malformed mod, divisor');
  const remainder = integerOperand(spec[1], 'malformed mod, remainder');
  if (divisor === 0n) throw bad('divisor cannot be 0');
  return (v) => {
    if (v === MISSING || !NUMBER_TYPES.has(v.e.type)) return false;
    let dividend: bigint;
    if (v.e.type === T.int32) dividend = BigInt(v.doc.readInt32LE(v.e.valueStart));
    else if (v.e.type === T.int64) dividend = v.doc.readBigInt64LE(v.e.valueStart);
    else {
      const n =
        v.e.type === T.double
          ? v.doc.readDoubleLE(v.e.valueStart)
          : Number((deserialize(wrap(v), { promoteValues: false }).v as { toString(): string }).toString());
      if (!Number.isFinite(n) || Math.abs(n) >= 2 ** 63) return false;
      dividend = BigInt(Math.trunc(n));
    }
    return dividend % divisor === remainder; // truncated remainder, as C++ (safeMod)
  };
}

/** One element as a one-field document `{v: …}`. */
function wrap(r: Reached): Buffer {
  const one = Buffer.alloc(4 + 1 + 2 + (r.e.end - r.e.valueStart) + 1);
  one.writeInt32LE(one.length, 0);
  one[4] = r.e.type;
  one[5] = 0x76; // 'v'
  one[6] = 0;
  r.doc.copy(one, 7, r.e.valueStart, r.e.end);
  one[one.length - 1] = 0;
  return one;
}

const isPlain = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype;

const REFUSED = new Set([
  '$where',
  '$text',
  '$near',
  '$nearSphere',
  '$geoWithin',
  '$geoIntersects',
  '$within',
  '$box',
  '$center',
  '$centerSphere',
  '$polygon',
  '$geometry',
]);
const VIA_MINGO_LEAF = new Set(['$bitsAllSet', '$bitsAllClear', '$bitsAnySet', '$bitsAnyClear']);

function refuse(op: string): never {
  throw new ApiError(
    'UNSUPPORTED',
    `filter: ${op} is not supported on a point-in-time view (${op === '$where' ? 'no JavaScript engine' : op === '$text' ? 'no text index' : 'no geospatial index'}).`,
    { field: 'filter', reason: 'unsupported-operator', operator: op },
  );
}

class Compiler {
  /**
   * @param expand whether a path ending on an array reaches its elements too (false inside a
   * value `$elemMatch`: its operators see each element as it is, mongod's ElemMatchValue).
   */
  /** The query's collation for string comparisons (mongod's: `$regex` and `$type` ignore it). */
  private readonly collator: Collator | undefined;

  constructor(
    private readonly options: MingoOptions,
    private readonly expand = true,
  ) {
    this.collator = collatorOf(options?.collation as CollationSpec | undefined);
  }

  /** A whole filter document: its fields and logical operators, ANDed. */
  document(filter: Document): Pred {
    if (!isPlain(filter)) throw bad('a filter must be a document.');
    const preds: Pred[] = [];
    for (const [k, v] of Object.entries(filter)) {
      if (k.startsWith('$')) preds.push(this.topOperator(k, v));
      else preds.push(this.path(k, v));
    }
    return and(preds);
  }

  private topOperator(op: string, v: unknown): Pred {
    switch (op) {
      case '$and':
      case '$or':
      case '$nor': {
        if (!Array.isArray(v) || v.length === 0) throw bad(`${op} must be a nonempty array`);
        const subs = v.map((x) => {
          if (!isPlain(x)) throw bad(`${op} argument's entries must be objects`);
          return this.document(x);
        });
        if (op === '$and') return and(subs);
        const any = or(subs);
        return op === '$or' ? any : (c) => !any(c);
      }
      case '$comment':
        return () => true;
      case '$alwaysTrue':
        return () => true;
      case '$alwaysFalse':
        return () => false;
      case '$expr':
      case '$jsonSchema':
        return this.viaMingo({ [op]: v });
      default:
        if (REFUSED.has(op)) refuse(op);
        throw bad(`unknown top level operator: ${op}.`);
    }
  }

  /** mingo on the decoded document (decoded once per document, however many of these). */
  private viaMingo(q: Document): Pred {
    let query: Query;
    try {
      query = new Query(q, this.options);
      query.test({});
    } catch (err) {
      if (err instanceof ApiError) throw err;
      throw bad((err as Error).message);
    }
    return (c) => query.test((c.js ??= decodeTyped(c.raw)));
  }

  /** `path: condition`: an equality or a document of operators. */
  private path(path: string, cond: unknown): Pred {
    const parts = path.split('.');
    if (parts.some((p) => p === '')) throw bad(`invalid path "${path}".`);
    // A DBRef ({$ref, $id, $db}) is a value to compare, not operators (mongod: the same).
    const dbRef = isPlain(cond) && Object.keys(cond)[0] === '$ref';
    if (!dbRef && isPlain(cond) && Object.keys(cond).length > 0 && Object.keys(cond)[0]!.startsWith('$')) {
      const ops = Object.keys(cond);
      if (!ops.every((o) => o.startsWith('$')))
        throw bad(`unknown operator: ${ops.find((o) => !o.startsWith('$'))} (mixing operators and fields).`);
      const preds: Pred[] = [];
      const regex = cond.$regex;
      for (const [op, v] of Object.entries(cond)) {
        if (op === '$options') {
          if (regex === undefined) throw bad('$options needs a $regex');
          continue;
        }
        if (op === '$regex') {
          preds.push(this.regex(parts, v, cond.$options));
          continue;
        }
        preds.push(this.operator(parts, path, op, v));
      }
      return and(preds);
    }
    const re = regexParts(cond);
    if (re) return anyValue(parts, this.expand, regexLeaf(re.pattern, re.flags));
    return anyValue(parts, this.expand, comparison('$eq', operand(cond), this.collator));
  }

  private regex(parts: string[], v: unknown, options: unknown): Pred {
    if (options !== undefined && typeof options !== 'string') throw bad('$options has to be a string');
    const re = regexParts(v);
    if (re) {
      if (options !== undefined && re.flags) throw bad('options set in both $regex and $options');
      return anyValue(parts, this.expand, regexLeaf(re.pattern, (options as string | undefined) ?? re.flags));
    }
    if (typeof v !== 'string') throw bad('$regex has to be a string');
    return anyValue(parts, this.expand, regexLeaf(v, (options as string | undefined) ?? ''));
  }

  private operator(parts: string[], path: string, op: string, v: unknown): Pred {
    switch (op) {
      case '$lt':
      case '$lte':
      case '$gt':
      case '$gte':
        // expression_parser.cpp: a regex is no bound ({a: {$gt: /b/}} is refused).
        if (regexParts(v)) throw bad(`Can't have RegEx as arg to predicate over field '${path}'.`);
        return anyValue(parts, this.expand, comparison(op, operand(v), this.collator));
      case '$eq':
        return anyValue(parts, this.expand, comparison(op, operand(v), this.collator));
      case '$ne': {
        // expression_parser.cpp (SERVER-1705): $ne is not the negation of a regex match.
        if (regexParts(v)) throw bad("Can't have regex as arg to $ne.");
        const eq = anyValue(parts, this.expand, comparison('$eq', operand(v), this.collator));
        return (c) => !eq(c);
      }
      case '$in':
      case '$nin': {
        if (!Array.isArray(v)) throw bad(`${op} needs an array`);
        const leaves: Leaf[] = v.map((x) => {
          if (isPlain(x) && Object.keys(x)[0]?.startsWith('$')) throw bad(`cannot nest $ under ${op}`);
          const re = regexParts(x);
          return re ? regexLeaf(re.pattern, re.flags) : comparison('$eq', operand(x), this.collator);
        });
        const any = anyValue(parts, this.expand, (val) => leaves.some((l) => l(val)));
        return op === '$in' ? any : (c) => !any(c);
      }
      case '$exists': {
        const want = !(v === false || v === 0 || v === null);
        const exists = anyValue(parts, false, (val) => val !== MISSING);
        return want ? exists : (c) => !exists(c);
      }
      case '$type':
        return anyValue(parts, this.expand, typeLeaf(v));
      case '$mod':
        return anyValue(parts, this.expand, modLeaf(v));
      case '$size': {
        const n = sizeOperand(v);
        return anyValue(parts, false, (val) => {
          if (val === MISSING || val.e.type !== T.array) return false;
          return elements(subDocument(val.doc, val.e)).length === n;
        });
      }
      case '$all': {
        if (!Array.isArray(v)) throw bad('$all needs an array');
        if (v.length === 0) return () => false;
        const preds = v.map((x) => {
          if (isPlain(x) && '$elemMatch' in x) return this.operator(parts, path, '$elemMatch', x.$elemMatch);
          if (isPlain(x) && Object.keys(x)[0]?.startsWith('$')) throw bad('no $ expressions in $all');
          const re = regexParts(x);
          return anyValue(
            parts,
            this.expand,
            re ? regexLeaf(re.pattern, re.flags) : comparison('$eq', operand(x), this.collator),
          );
        });
        return and(preds);
      }
      case '$elemMatch': {
        if (!isPlain(v)) throw bad('$elemMatch needs an Object');
        const keys = Object.keys(v);
        const valueForm =
          keys.length > 0 &&
          keys.every(
            (k) => k.startsWith('$') && k !== '$and' && k !== '$or' && k !== '$nor' && k !== '$expr',
          );
        let test: (arr: Buffer, x: RawElement) => boolean;
        if (valueForm) {
          // ElemMatchValue: each operator on the element itself.
          const sub = new Compiler(this.options, false).path('v', v);
          test = (arr, x) => sub({ raw: wrap({ doc: arr, e: x }) });
        } else {
          const sub = new Compiler(this.options).document(v);
          // ElemMatchObject takes every element that isABSONObj: an array element is matched
          // as the document of its positions ({"0": …, "1": …}), as expression_array.cpp does.
          test = (arr, x) => (x.type === T.object || x.type === T.array) && sub({ raw: subDocument(arr, x) });
        }
        return anyValue(parts, false, (val) => {
          if (val === MISSING || val.e.type !== T.array) return false;
          const arr = subDocument(val.doc, val.e);
          return elements(arr).some((x) => test(arr, x));
        });
      }
      case '$not': {
        let inner: Pred;
        const re = regexParts(v);
        if (re) inner = anyValue(parts, this.expand, regexLeaf(re.pattern, re.flags));
        else if (isPlain(v) && Object.keys(v).length > 0 && Object.keys(v).every((k) => k.startsWith('$')))
          inner = this.path(path, v);
        else throw bad('$not needs a regex or a document');
        return (c) => !inner(c);
      }
      case '$comment':
        return () => true;
      default:
        if (VIA_MINGO_LEAF.has(op)) return this.viaMingo({ [path]: { [op]: v } });
        if (REFUSED.has(op)) refuse(op);
        throw bad(`unknown operator: ${op}`);
    }
  }
}

function anyValue(parts: string[], expand: boolean, leaf: Leaf): Pred {
  return (c) => {
    const vals: Value[] = [];
    reach(c.raw, parts, expand, vals);
    for (const v of vals) if (leaf(v)) return true;
    return false;
  };
}

function and(preds: Pred[]): Pred {
  if (preds.length === 1) return preds[0]!;
  return (c) => {
    for (const p of preds) if (!p(c)) return false;
    return true;
  };
}

function or(preds: Pred[]): Pred {
  return (c) => {
    for (const p of preds) if (p(c)) return true;
    return false;
  };
}

/** A compiled filter: a test on document bytes, on a decoded document, or on either (an item). */
export interface CompiledFilter extends Matcher {
  js(doc: Document): boolean;
  item(it: { raw: Buffer | null; js: Document }): boolean;
}

/**
 * A filter compiled once (its operators checked, its operands encoded) into a test on document
 * bytes; a decoded document (a pipeline's) is encoded first, so the rules are the same. `options`
 * are mingo's, for what it evaluates (`$expr`: the pipeline's variables).
 */
export function compileFilter(filter: Document, options?: MingoOptions): CompiledFilter {
  const pred = new Compiler(options).document(filter);
  const all = Object.keys(filter).length === 0;
  const f = ((raw: Buffer) => all || pred({ raw })) as CompiledFilter;
  f.js = (js) => all || pred({ raw: Buffer.from(serialize(js)), js });
  f.item = (it) => all || (it.raw ? pred({ raw: it.raw }) : f.js(it.js));
  return f;
}
