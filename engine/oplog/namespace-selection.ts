/**
 * Include / exclude / rename of namespaces, as mongorestore's --nsInclude,
 * --nsExclude and --nsFrom/--nsTo: patterns are `db.collection` where `*`
 * matches any run of characters, and a rename's `$name$` variables carry
 * what they matched from the old name into the new one. Applied alike to a
 * dump's collections and to its oplog entries, including the operations
 * inside a transaction's applyOps and the collection named by a command, so
 * that the files and the oplog of an export always agree.
 */
import { ApiError } from '../errors.js';
import {
  T,
  asBuffer,
  docOf,
  elements,
  field,
  isTruthy,
  makeElement,
  readString,
  stringElement,
  subDocument,
  valueBytes,
  withField,
} from './bson-raw.js';

export interface NamespaceRules {
  include?: readonly string[];
  exclude?: readonly string[];
  /** `from=to` pairs. */
  rename?: readonly string[];
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A pattern read into literal runs and variables (a `*` wildcard is a variable named by its position). */
type Token = { lit: string } | { v: string };

/**
 * Reads a pattern the way mongorestore does (mongo-tools `mongorestore/ns`):
 * without `$` variables, `*` is a wildcard, `\*` a literal star, `\\` a
 * backslash and any other `\` is dropped; with `$name$` variables (any name
 * without `$`, even empty), every other character is literal, stars included.
 */
function tokenize(p: string, withVars: boolean, what: string): Token[] {
  const out: Token[] = [];
  let lit = '';
  const flush = () => {
    if (lit) out.push({ lit });
    lit = '';
  };
  let star = 0;
  for (let k = 0; k < p.length; k++) {
    const c = p[k]!;
    if (withVars) {
      if (c !== '$') {
        lit += c;
        continue;
      }
      const close = p.indexOf('$', k + 1);
      if (close < 0) throw new ApiError('INVALID_INPUT', `${what}: an odd number of "$" in "${p}".`);
      flush();
      out.push({ v: p.slice(k + 1, close) });
      k = close;
    } else if (c === '\\') {
      const next = p[k + 1];
      if (next === '\\' || next === '*') {
        lit += next;
        k++;
      }
    } else if (c === '*') {
      flush();
      out.push({ v: String(++star) });
    } else lit += c;
  }
  flush();
  return out;
}

const regExpOf = (tokens: Token[]): RegExp =>
  new RegExp(`^${tokens.map((t) => ('lit' in t ? escapeRe(t.lit) : '(.*?)')).join('')}$`, 's');

function globToRegExp(p: string, flag: string): RegExp {
  if (p.includes('$'))
    throw new ApiError('INVALID_INPUT', `--${flag} "${p}": "$" is not allowed in include/exclude patterns.`);
  return regExpOf(tokenize(p, false, `--${flag}`));
}

interface Rename {
  from: RegExp;
  /** The new name: literal runs and the indexes (1-based) of the from-pattern's variables. */
  to: (string | number)[];
}

/**
 * A `FROM=TO` rename, by mongorestore's --nsFrom/--nsTo rules: `shop.*=shop_staging.*`
 * carries each star's match over in order (the counts must agree), and
 * `$name$` variables may be reordered (`data.$p$_$c$=$c$.$p$`).
 */
function parseRename(spec: string): Rename {
  const eq = spec.indexOf('=');
  if (eq <= 0 || eq === spec.length - 1)
    throw new ApiError(
      'INVALID_INPUT',
      `--rename "${spec}": expected FROM=TO, e.g. shop.orders=shop.orders_old or shop.*=shop_staging.*.`,
    );
  const from = spec.slice(0, eq);
  const to = spec.slice(eq + 1);
  const what = `--rename "${spec}"`;
  const withVars = from.includes('$');
  const fromTokens = tokenize(from, withVars, what);
  const toTokens = tokenize(to, withVars || to.includes('$'), what);
  const vars = fromTokens.flatMap((t) => ('v' in t ? [t.v] : []));
  if (new Set(vars).size !== vars.length)
    throw new ApiError('INVALID_INPUT', `${what}: a variable is used more than once in "${from}".`);
  if (!withVars && !to.includes('$')) {
    const stars = (ts: Token[]) => ts.filter((t) => 'v' in t).length;
    if (stars(fromTokens) !== stars(toTokens))
      throw new ApiError(
        'INVALID_INPUT',
        `${what}: "${from}" and "${to}" have different numbers of * wildcards (each * of TO takes the match of the * at its place in FROM).`,
      );
  }
  const toParts = toTokens.map((t) => {
    if ('lit' in t) return t.lit;
    const k = vars.indexOf(t.v);
    if (k < 0) throw new ApiError('INVALID_INPUT', `${what}: $${t.v}$ is not a variable of "${from}".`);
    return k + 1;
  });
  return { from: regExpOf(fromTokens), to: toParts };
}

function checkPattern(p: string, flag: string): void {
  if (!p.includes('.') && !p.includes('*'))
    throw new ApiError(
      'INVALID_INPUT',
      `--${flag} "${p}": expected db.collection (wildcards: db.*, *.coll).`,
    );
}

const SPLIT = (ns: string): [string, string] => {
  const dot = ns.indexOf('.');
  return dot < 0 ? [ns, ''] : [ns.slice(0, dot), ns.slice(dot + 1)];
};

/** Commands whose first field names the collection they change. */
const COLLECTION_COMMANDS = new Set([
  'create',
  'drop',
  'createIndexes',
  'dropIndexes',
  'deleteIndexes',
  'collMod',
  'startIndexBuild',
  'commitIndexBuild',
  'abortIndexBuild',
  'convertToCapped',
  'emptycapped',
]);

export class NamespaceFilter {
  private readonly include: RegExp[];
  private readonly exclude: RegExp[];
  private readonly renames: Rename[];
  private readonly includeRaw: readonly string[];
  private readonly excludeRaw: readonly string[];

  constructor(rules: NamespaceRules = {}) {
    this.includeRaw = rules.include ?? [];
    this.excludeRaw = rules.exclude ?? [];
    for (const p of rules.include ?? []) checkPattern(p, 'include');
    for (const p of rules.exclude ?? []) checkPattern(p, 'exclude');
    this.include = (rules.include ?? []).map((p) => globToRegExp(p, 'include'));
    this.exclude = (rules.exclude ?? []).map((p) => globToRegExp(p, 'exclude'));
    // As mongorestore: when several renames match, the one given last wins.
    this.renames = (rules.rename ?? []).map(parseRename).reverse();
  }

  /** True when nothing is filtered or renamed: entries can be copied byte for byte. */
  get identity(): boolean {
    return !this.include.length && !this.exclude.length && !this.renames.length;
  }

  /** Whether a namespace is kept (by its name before any rename). */
  keeps(ns: string): boolean {
    if (this.include.length && !this.include.some((r) => r.test(ns))) return false;
    return !this.exclude.some((r) => r.test(ns));
  }

  /** A database is kept when some namespace of it could be (for database-wide commands such as dropDatabase). */
  keepsDb(db: string): boolean {
    const dbPart = (p: string) => globToRegExp(SPLIT(p)[0], 'include');
    if (this.includeRaw.length && !this.includeRaw.some((p) => p.startsWith('*') || dbPart(p).test(db)))
      return false;
    return !this.excludeRaw.some((p) => SPLIT(p)[1] === '*' && dbPart(p).test(db));
  }

  /** The namespace's new name (itself when no rename applies). */
  rename(ns: string): string {
    for (const r of this.renames) {
      const m = r.from.exec(ns);
      if (!m) continue;
      return r.to.map((part) => (typeof part === 'number' ? (m[part] ?? '') : part)).join('');
    }
    return ns;
  }

  /**
   * An oplog entry after filtering: the same bytes when it is untouched,
   * new bytes when a namespace in it was renamed or some of its applyOps
   * were dropped, null when nothing of it is kept. Rewritten as raw BSON:
   * only the names change, every other element (the documents in `o`, `o2`,
   * with their field order and types) is copied as it is.
   */
  entry(raw: Uint8Array): Uint8Array | null {
    if (this.identity) return raw;
    const out = this.apply(asBuffer(raw));
    if (out === 'drop') return null;
    return out === 'same' ? raw : out;
  }

  private apply(e: Buffer): Buffer | 'same' | 'drop' {
    const nsEl = field(e, 'ns');
    const ns = nsEl?.type === T.string ? readString(e, nsEl) : '';
    const opEl = field(e, 'op');
    const op = opEl?.type === T.string ? readString(e, opEl) : '';
    if (op === 'n' || ns === '') return 'same';
    if (op !== 'c') {
      if (!this.keeps(ns)) return 'drop';
      const to = this.rename(ns);
      return to === ns ? 'same' : withField(e, 'ns', stringElement('ns', to));
    }
    const [db] = SPLIT(ns);
    const oEl = field(e, 'o');
    if (oEl?.type !== T.object) return this.keepsDb(db) ? 'same' : 'drop';
    const o = subDocument(e, oEl);
    const first = elements(o)[0];
    const cmd = first?.name ?? '';
    const withO = (doc: Buffer, newO: Buffer) => withField(doc, 'o', makeElement(T.object, 'o', newO));
    if (cmd === 'applyOps' && first!.type === T.array) {
      let changed = false;
      const kept: { type: number; value: Buffer }[] = [];
      const ops = subDocument(o, first!);
      for (const el of elements(ops)) {
        if (el.type !== T.object) {
          kept.push({ type: el.type, value: valueBytes(ops, el) });
          continue;
        }
        const inner = subDocument(ops, el);
        const r = this.apply(inner);
        if (r === 'drop') changed = true;
        else if (r === 'same') kept.push({ type: T.object, value: inner });
        else {
          changed = true;
          kept.push({ type: T.object, value: r });
        }
      }
      if (!changed) return 'same';
      // A transaction's commit or a partial chain link must stay even when emptied: others refer to it.
      const flag = (name: string) => {
        const f = field(o, name);
        return f !== undefined && isTruthy(o, f);
      };
      if (kept.length === 0 && !flag('partialTxn') && !field(e, 'prevOpTime') && !flag('prepare'))
        return 'drop';
      // Array elements are named by their index: renumbered after a drop.
      const array = docOf(...kept.map((d, k) => makeElement(d.type, String(k), d.value)));
      return withO(e, withField(o, 'applyOps', makeElement(T.array, 'applyOps', array)));
    }
    if (COLLECTION_COMMANDS.has(cmd) && first!.type === T.string) {
      const full = `${db}.${readString(o, first!)}`;
      if (!this.keeps(full)) return 'drop';
      const to = this.rename(full);
      if (to === full) return 'same';
      const [toDb, toColl] = SPLIT(to);
      const renamedNs = withField(e, 'ns', stringElement('ns', `${toDb}.$cmd`));
      return withO(renamedNs, withField(o, cmd, stringElement(cmd, toColl)));
    }
    const toEl = field(o, 'to');
    if (cmd === 'renameCollection' && first!.type === T.string && toEl?.type === T.string) {
      const from = readString(o, first!);
      const target = readString(o, toEl);
      if (!this.keeps(from) && !this.keeps(target)) return 'drop';
      const nf = this.rename(from);
      const nt = this.rename(target);
      if (nf === from && nt === target) return 'same';
      const newO = withField(
        withField(o, 'renameCollection', stringElement('renameCollection', nf)),
        'to',
        stringElement('to', nt),
      );
      return withO(withField(e, 'ns', stringElement('ns', `${SPLIT(nf)[0]}.$cmd`)), newO);
    }
    // Database-wide commands (dropDatabase) and transaction control (commit/abort) follow their database.
    return this.keepsDb(db) ? 'same' : 'drop';
  }
}
