/**
 * Include / exclude / rename of namespaces, as mongorestore's --nsInclude,
 * --nsExclude and --nsFrom/--nsTo: patterns are `db.collection` where `*`
 * matches any run of characters, and a rename's `$name$` variables carry
 * what they matched from the old name into the new one. Applied alike to a
 * dump's collections and to its oplog entries, including the operations
 * inside a transaction's applyOps and the collection named by a command, so
 * that the files and the oplog of an export always agree.
 */
import { deserialize, serialize, type Document } from 'bson';
import { ApiError } from '../errors.js';

export interface NamespaceRules {
  include?: readonly string[];
  exclude?: readonly string[];
  /** `from=to` pairs. */
  rename?: readonly string[];
}

const escapeRe = (s: string) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&');

function globToRegExp(p: string): RegExp {
  return new RegExp(`^${p.split('*').map(escapeRe).join('.*')}$`, 's');
}

interface Rename {
  from: RegExp;
  vars: string[];
  to: string;
}

function parseRename(spec: string): Rename {
  const eq = spec.indexOf('=');
  if (eq <= 0 || eq === spec.length - 1)
    throw new ApiError(
      'INVALID_INPUT',
      `--rename "${spec}": expected FROM=TO, e.g. shop.orders=shop.orders_old.`,
    );
  const from = spec.slice(0, eq);
  const to = spec.slice(eq + 1);
  const vars: string[] = [];
  let re = '';
  // Split on $name$ variables; the rest is literal except * (any characters).
  const parts = from.split(/\$([A-Za-z0-9_]+)\$/);
  parts.forEach((part, k) => {
    if (k % 2 === 1) {
      vars.push(part);
      re += '(.*?)';
    } else re += part.split('*').map(escapeRe).join('.*');
  });
  for (const m of to.matchAll(/\$([A-Za-z0-9_]+)\$/g))
    if (!vars.includes(m[1]!))
      throw new ApiError('INVALID_INPUT', `--rename "${spec}": $${m[1]}$ is not a variable of "${from}".`);
  return { from: new RegExp(`^${re}$`, 's'), vars, to };
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
    this.include = (rules.include ?? []).map(globToRegExp);
    this.exclude = (rules.exclude ?? []).map(globToRegExp);
    this.renames = (rules.rename ?? []).map(parseRename);
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
    const dbPart = (p: string) => globToRegExp(SPLIT(p)[0]);
    if (this.includeRaw.length && !this.includeRaw.some((p) => p.startsWith('*') || dbPart(p).test(db)))
      return false;
    return !this.excludeRaw.some((p) => SPLIT(p)[1] === '*' && dbPart(p).test(db));
  }

  /** The namespace's new name (itself when no rename applies). */
  rename(ns: string): string {
    for (const r of this.renames) {
      const m = r.from.exec(ns);
      if (!m) continue;
      return r.to.replace(/\$([A-Za-z0-9_]+)\$/g, (_, v: string) => m[r.vars.indexOf(v) + 1] ?? '');
    }
    return ns;
  }

  /**
   * An oplog entry after filtering: the same bytes when it is untouched,
   * new bytes when a namespace in it was renamed or some of its applyOps
   * were dropped, null when nothing of it is kept.
   */
  entry(raw: Uint8Array): Uint8Array | null {
    if (this.identity) return raw;
    const e = deserialize(raw, {
      promoteLongs: false,
      promoteValues: false,
      bsonRegExp: true,
      useBigInt64: false,
    });
    const out = this.apply(e);
    if (out === 'drop') return null;
    return out === 'same' ? raw : serialize(out);
  }

  private apply(e: Document): Document | 'same' | 'drop' {
    const ns = String(e.ns ?? '');
    if (e.op === 'n' || ns === '') return 'same';
    if (e.op !== 'c') {
      if (!this.keeps(ns)) return 'drop';
      const to = this.rename(ns);
      return to === ns ? 'same' : { ...e, ns: to };
    }
    const [db] = SPLIT(ns);
    const o = e.o as Document;
    const cmd = Object.keys(o)[0] ?? '';
    if (cmd === 'applyOps' && Array.isArray(o.applyOps)) {
      let changed = false;
      const kept: Document[] = [];
      for (const inner of o.applyOps as Document[]) {
        const r = this.apply(inner);
        if (r === 'drop') changed = true;
        else if (r === 'same') kept.push(inner);
        else {
          changed = true;
          kept.push(r);
        }
      }
      if (!changed) return 'same';
      // A transaction's commit or a partial chain link must stay even when emptied: others refer to it.
      if (kept.length === 0 && !o.partialTxn && !e.prevOpTime && !o.prepare) return 'drop';
      return { ...e, o: { ...o, applyOps: kept } };
    }
    if (COLLECTION_COMMANDS.has(cmd) && typeof o[cmd] === 'string') {
      const full = `${db}.${o[cmd] as string}`;
      if (!this.keeps(full)) return 'drop';
      const to = this.rename(full);
      if (to === full) return 'same';
      const [toDb, toColl] = SPLIT(to);
      return { ...e, ns: `${toDb}.$cmd`, o: { ...o, [cmd]: toColl } };
    }
    if (cmd === 'renameCollection' && typeof o.renameCollection === 'string' && typeof o.to === 'string') {
      const from = o.renameCollection;
      const target = o.to as string;
      if (!this.keeps(from) && !this.keeps(target)) return 'drop';
      const nf = this.rename(from);
      const nt = this.rename(target);
      if (nf === from && nt === target) return 'same';
      return { ...e, ns: `${SPLIT(nf)[0]}.$cmd`, o: { ...o, renameCollection: nf, to: nt } };
    }
    // Database-wide commands (dropDatabase) and transaction control (commit/abort) follow their database.
    return this.keepsDb(db) ? 'same' : 'drop';
  }
}
