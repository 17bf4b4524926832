/**
 * Applies the replay core's effective operations to a view's working file
 * (catalog/view-store.ts), with the same rules as the in-memory offline state
 * (restore/offline-state.ts): inserts upsert, updates are applied to the
 * stored bytes (missing documents upserted as applyOps does), collections
 * are created implicitly by a write, renames move a collection's rows by
 * changing its name only. Index keys of the view (index-keys.ts) follow
 * every document change and every index created or dropped.
 *
 * Writes are grouped into transactions of BATCH operations: one transaction
 * per operation would cost an fsync-free but still heavy journal step each.
 */
import { serialize } from 'bson';
import { ApiError } from '../errors.js';
import {
  DocBuilder,
  T,
  asBuffer,
  copyDocument,
  elementBytes,
  elements,
  field,
  makeElement,
  subDocument,
  withField,
} from '../oplog/bson-raw.js';
import { applyUpdateEntry } from '../oplog/update-entry.js';
import type { EffectiveOp, ReplaySink } from '../restore/effective-op.js';
import { createIndexes, dropIndexes, modifyIndex } from '../restore/index-rules.js';
import { ID_INDEX, modifyOptions } from '../restore/offline-state.js';
import type { ViewWriter } from '../catalog/view-store.js';
import { indexedFields, keysAt } from './index-keys.js';

const EMPTY = Buffer.from(serialize({}));
const BATCH = 20_000;

export type CollectionKind = 'collection' | 'view' | 'timeseries';

interface Coll {
  cid: number;
  kind: CollectionKind;
  options: Buffer;
  indexes: Buffer[];
  /** Fields the view keeps keys of (`_id` and each index's first field). */
  fields: string[];
}

/** What kind of namespace a collection's options make it. */
export function kindOf(ns: string, options: Buffer): CollectionKind {
  const names = new Set(elements(options).map((e) => e.name));
  if (names.has('viewOn')) return 'view';
  if (names.has('timeseries') && !ns.includes('.system.buckets.')) return 'timeseries';
  return 'collection';
}

/** A list of raw documents as one BSON array document (how a view stores a collection's indexes). */
export function encodeList(items: Buffer[]): Buffer {
  const b = new DocBuilder();
  items.forEach((it, k) => b.append(makeElement(T.object, String(k), it)));
  return b.finish();
}

export function decodeList(list: Buffer): Buffer[] {
  return elements(list).map((e) => Buffer.from(subDocument(list, e)));
}

/** The `_id` element's type and value bytes: the key a document is stored under. */
export function idBytes(doc: Buffer): Buffer {
  const e = field(doc, '_id');
  if (!e) throw new ApiError('INVALID_BSON', 'document without _id');
  return idBytesOf(doc, e);
}

function idBytesOf(doc: Buffer, e: { type: number; valueStart: number; end: number }): Buffer {
  const out = Buffer.allocUnsafe(1 + e.end - e.valueStart);
  out[0] = e.type;
  doc.copy(out, 1, e.valueStart, e.end);
  return out;
}

export class ViewSink implements ReplaySink {
  private readonly colls = new Map<string, Coll>();
  private pending = 0;
  private inTxn = false;
  /** Operations applied (for progress and the benchmark). */
  applied = 0;

  constructor(private readonly w: ViewWriter) {
    for (const r of w.collections()) {
      const indexes = decodeList(r.indexes);
      this.colls.set(r.ns, {
        cid: r.cid,
        kind: r.kind as CollectionKind,
        options: r.options,
        indexes,
        fields: indexedFields(indexes),
      });
    }
  }

  /** Adds a collection as a snapshot records it (before its documents are loaded). */
  addCollection(ns: string, kind: CollectionKind, options: Buffer, indexes: Buffer[]): void {
    this.tick();
    const existing = this.colls.get(ns);
    if (existing) this.w.dropCollection(existing.cid);
    const cid = this.w.insertCollection(ns, kind, options, encodeList(indexes));
    this.colls.set(ns, { cid, kind, options, indexes, fields: indexedFields(indexes) });
  }

  /**
   * A snapshot's document, appended with its key rows while the file has no indexes yet
   * (indexViewFile then builds them; a repeated _id keeps the later copy).
   */
  loadDocument(ns: string, doc: Uint8Array): void {
    this.tick();
    const c = this.coll(ns);
    const raw = asBuffer(doc);
    const rid = this.w.insertDoc(c.cid, idBytes(raw), raw);
    for (const f of c.fields) for (const k of keysAt(raw, f)) this.w.appendKey(c.cid, f, k, rid);
  }

  /** Commits what is pending; call at the end and before reading the file elsewhere. */
  flush(): void {
    if (this.inTxn) this.w.commit();
    this.inTxn = false;
    this.pending = 0;
  }

  private tick(): void {
    if (!this.inTxn) {
      this.w.begin();
      this.inTxn = true;
    }
    if (++this.pending >= BATCH) {
      this.w.commit();
      this.w.begin();
      this.pending = 0;
    }
  }

  private coll(ns: string): Coll {
    let c = this.colls.get(ns);
    if (!c) {
      const cid = this.w.insertCollection(ns, 'collection', EMPTY, encodeList([ID_INDEX]));
      c = { cid, kind: 'collection', options: EMPTY, indexes: [ID_INDEX], fields: ['_id'] };
      this.colls.set(ns, c);
    }
    return c;
  }

  private saveMeta(c: Coll): void {
    this.w.setCollection(c.cid, c.kind, c.options, encodeList(c.indexes));
  }

  private addKeys(c: Coll, rid: number, doc: Buffer, fields = c.fields): void {
    for (const f of fields) for (const k of keysAt(doc, f)) this.w.insertKey(c.cid, f, k, rid);
  }

  private removeKeys(c: Coll, rid: number, doc: Buffer): void {
    for (const f of c.fields) for (const k of keysAt(doc, f)) this.w.deleteKey(c.cid, f, k, rid);
  }

  /** Stores a document under its _id (replacing the one there), keys included. */
  private put(c: Coll, doc: Buffer): void {
    const id = idBytes(doc);
    const old = this.w.getDoc(c.cid, id);
    if (old) {
      this.changeKeys(c, old.rid, old.doc, doc);
      this.w.updateDoc(old.rid, doc);
    } else {
      const rid = this.w.insertDoc(c.cid, id, doc);
      this.addKeys(c, rid, doc);
    }
  }

  /** Keys of the fields whose keys differ between two versions of a document. */
  private changeKeys(c: Coll, rid: number, before: Buffer, after: Buffer): void {
    for (const f of c.fields) {
      if (f === '_id') continue; // never changes
      const a = keysAt(before, f);
      const b = keysAt(after, f);
      if (a.length === b.length && a.every((k, i) => k.equals(b[i]!))) continue;
      for (const k of a) this.w.deleteKey(c.cid, f, k, rid);
      for (const k of b) this.w.insertKey(c.cid, f, k, rid);
    }
  }

  private rebuildFields(c: Coll): void {
    const fields = indexedFields(c.indexes);
    const added = fields.filter((f) => !c.fields.includes(f));
    for (const f of c.fields) if (!fields.includes(f)) this.w.deleteFieldKeys(c.cid, f);
    c.fields = fields;
    if (added.length) for (const { rid, doc } of this.w.iterateDocs(c.cid)) this.addKeys(c, rid, doc, added);
  }

  apply(op: EffectiveOp): void {
    this.tick();
    this.applied++;
    switch (op.op) {
      case 'insert':
        // applyOps upserts inserts: replaying an insert the snapshot already has is harmless.
        this.put(this.coll(op.ns), copyDocument(op.doc));
        return;
      case 'update': {
        const idEl = field(op.o2, '_id');
        if (!idEl) throw new ApiError('CORRUPT', `Update on ${op.ns} without _id in o2.`);
        const c = this.coll(op.ns);
        const old = this.w.getDoc(c.cid, idBytesOf(op.o2, idEl));
        const next = applyUpdateEntry(old?.doc ?? null, op.update, op.o2);
        if (old) {
          this.changeKeys(c, old.rid, old.doc, next);
          this.w.updateDoc(old.rid, next);
        } else this.put(c, next);
        return;
      }
      case 'delete': {
        const c = this.colls.get(op.ns);
        if (!c) return;
        const old = this.w.getDoc(c.cid, idBytes(op.o));
        if (!old) return;
        this.removeKeys(c, old.rid, old.doc);
        this.w.deleteDoc(old.rid);
        return;
      }
      case 'createCollection': {
        const c = this.coll(op.ns);
        c.options = op.options;
        c.kind = kindOf(op.ns, op.options);
        const o = new Set(elements(op.options).map((e) => e.name));
        // Views have no indexes; clustered collections have their clustered index, not an _id index.
        c.indexes = o.has('viewOn') || o.has('clusteredIndex') ? [] : [op.idIndex ?? ID_INDEX];
        this.saveMeta(c);
        this.rebuildFields(c);
        return;
      }
      case 'dropCollection': {
        const c = this.colls.get(op.ns);
        if (c) this.w.dropCollection(c.cid);
        this.colls.delete(op.ns);
        return;
      }
      case 'dropDatabase':
        for (const [ns, c] of [...this.colls]) {
          if (!ns.startsWith(`${op.db}.`)) continue;
          this.w.dropCollection(c.cid);
          this.colls.delete(ns);
        }
        return;
      case 'renameCollection': {
        const from = this.colls.get(op.from);
        // A source that is already gone means the state already shows the rename (re-application).
        if (!from) return;
        const target = this.colls.get(op.to);
        if (target) this.w.dropCollection(target.cid);
        this.colls.delete(op.from);
        this.colls.set(op.to, from);
        this.w.renameCollection(from.cid, op.to);
        return;
      }
      case 'createIndexes': {
        const c = this.coll(op.ns);
        c.indexes = createIndexes(c.indexes, op.indexes);
        this.saveMeta(c);
        this.rebuildFields(c);
        return;
      }
      case 'dropIndexes': {
        const c = this.colls.get(op.ns);
        if (!c) return;
        c.indexes = dropIndexes(c.indexes, op.index);
        this.saveMeta(c);
        this.rebuildFields(c);
        return;
      }
      case 'modifyIndex': {
        const c = this.colls.get(op.ns);
        if (!c) return;
        c.indexes = modifyIndex(c.indexes, op.index);
        this.saveMeta(c);
        return;
      }
      case 'modifyCollection': {
        const c = this.colls.get(op.ns);
        if (!c) return;
        c.options = modifyOptions(c.options, op.options);
        this.saveMeta(c);
        return;
      }
      case 'convertToCapped': {
        const c = this.coll(op.ns);
        const capped = Buffer.from(serialize({ capped: true, size: op.size }));
        for (const e of elements(capped)) c.options = withField(c.options, e.name, elementBytes(capped, e));
        this.saveMeta(c);
        return;
      }
      case 'emptyCollection': {
        const c = this.colls.get(op.ns);
        if (c) this.w.emptyCollection(c.cid);
        return;
      }
    }
  }
}
