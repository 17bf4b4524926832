/**
 * The stand-in's data: databases, collections (documents kept as raw BSON so
 * that every type round-trips exactly, plus a decoded copy for matching),
 * indexes with unique enforcement, views, and collection options.
 */
import { UUID, serialize, type Document } from 'bson';
import { decodeBson } from './wire.js';
import { E } from './errors.js';
import { valueKey } from './numbers.js';

export interface StoredDoc {
  raw: Uint8Array;
  js: Document;
}

export interface IndexSpec {
  v: number;
  key: Document;
  name: string;
  unique?: boolean;
  [k: string]: unknown;
}

/** The documents' map key: one per `_id` value as mongod's `_id` index sees it (1, 1.0 and NumberLong(1) are one key). */
export const idKey = (id: unknown): string => valueKey(id);

export function getPath(doc: unknown, path: string): unknown {
  let cur = doc;
  for (const p of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Document)[p];
  }
  return cur;
}

export class Collection {
  /** In insertion order, like record ids: a Map iterator sees later inserts and skips deleted entries, as a collection scan does. */
  readonly docs = new Map<string, StoredDoc>();
  indexes: IndexSpec[] = [{ v: 2, key: { _id: 1 }, name: '_id_' }];
  /** A transaction's private copy records which documents it wrote, so that commit changes only those. */
  dirty: Set<string> | null = null;

  constructor(
    readonly db: string,
    public name: string,
    public uuid: UUID,
    public options: Document,
    readonly type: 'collection' | 'view' | 'timeseries' = 'collection',
  ) {
    if (type === 'view') this.indexes = [];
  }

  get ns(): string {
    return `${this.db}.${this.name}`;
  }

  all(): StoredDoc[] {
    return [...this.docs.values()];
  }

  /** Throws DuplicateKey when a unique index would be violated by `doc` (ignoring `selfKey`). */
  checkUnique(doc: Document, selfKey: string | null): void {
    for (const ix of this.indexes) {
      if (!ix.unique && ix.name !== '_id_') continue;
      if (ix.name === '_id_') {
        const k = idKey(doc._id);
        if (k !== selfKey && this.docs.has(k)) throw this.dup(ix, { _id: doc._id });
        continue;
      }
      const fields = Object.keys(ix.key);
      const values = fields.map((f) => getPath(doc, f) ?? null);
      const sig = valueKey(values);
      for (const [k, other] of this.docs) {
        if (k === selfKey) continue;
        if (valueKey(fields.map((f) => getPath(other.js, f) ?? null)) === sig) {
          throw this.dup(ix, Object.fromEntries(fields.map((f, n) => [f, values[n]])));
        }
      }
    }
  }

  private dup(ix: IndexSpec, keyValue: Document) {
    const shown = Object.entries(keyValue)
      .map(([k, v]) => `${k}: ${JSON.stringify(v)}`)
      .join(', ');
    return E.duplicateKey(
      `E11000 duplicate key error collection: ${this.ns} index: ${ix.name} dup key: { ${shown} }`,
      ix.key,
      keyValue,
    );
  }

  put(js: Document, raw?: Uint8Array): StoredDoc {
    const stored = { js, raw: raw ?? serialize(js) };
    const k = idKey(js._id);
    this.docs.set(k, stored);
    this.dirty?.add(k);
    return stored;
  }

  get(id: unknown): StoredDoc | undefined {
    return this.docs.get(idKey(id));
  }

  delete(id: unknown): boolean {
    const k = idKey(id);
    this.dirty?.add(k);
    return this.docs.delete(k);
  }

  /** A deep copy, for transactions (writes are visible only at commit). */
  clone(): Collection {
    const c = new Collection(this.db, this.name, this.uuid, this.options, this.type);
    c.indexes = this.indexes.map((i) => ({ ...i }));
    c.dirty = new Set();
    for (const [k, d] of this.docs) c.docs.set(k, { raw: d.raw, js: decodeBson(d.raw) });
    return c;
  }

  dataSize(): number {
    let n = 0;
    for (const d of this.docs.values()) n += d.raw.byteLength;
    return n;
  }
}

export class Store {
  readonly dbs = new Map<string, Map<string, Collection>>();

  collection(db: string, name: string): Collection | undefined {
    return this.dbs.get(db)?.get(name);
  }

  /** Creates the collection if absent (implicit creation on first write, as MongoDB does). */
  ensure(
    db: string,
    name: string,
    options: Document = {},
    type: Collection['type'] = 'collection',
  ): { coll: Collection; created: boolean } {
    if (!db || !name || name.includes('$') || db.includes('.'))
      throw E.invalidNamespace(`Invalid namespace specified '${db}.${name}'`);
    let dbMap = this.dbs.get(db);
    if (!dbMap) this.dbs.set(db, (dbMap = new Map()));
    const existing = dbMap.get(name);
    if (existing) return { coll: existing, created: false };
    const coll = new Collection(db, name, new UUID(), options, type);
    dbMap.set(name, coll);
    return { coll, created: true };
  }

  drop(db: string, name: string): Collection | undefined {
    const c = this.dbs.get(db)?.get(name);
    if (c) this.dbs.get(db)!.delete(name);
    if (this.dbs.get(db)?.size === 0) this.dbs.delete(db);
    return c;
  }
}
