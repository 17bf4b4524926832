/**
 * The document writes of a view build, held back and written together: one
 * entry per (collection, `_id`) with the operations on it in order, so that
 * consecutive writes to one document cost one write to the file. At `write`
 * each row the batch touches is read once, each document's operations are
 * folded in memory onto the stored version
 * (an update's `$v:2` diff applies to the version the previous operation of
 * the batch left), and only the outcome is written: rows deleted, inserted
 * or replaced, and the key rows that differ.
 *
 * The outcome is the one the operations applied one by one give (view-sink.ts
 * did so before): an insert of an existing `_id` replaces it in place, an
 * update of a missing one upserts, a document deleted and inserted again in
 * the batch is a new row after every other (rows keep the order a collection
 * scan shows). New rows take their row ids when their operation arrives, so
 * that order is the operations' order, whatever the batch does.
 *
 * Collection-level operations (drop, rename, index builds…) are barriers:
 * the sink writes the batch before applying one.
 */
import { copyDocument } from '../oplog/bson-raw.js';
import { applyUpdateEntry } from '../oplog/update-entry.js';
import type { DocId, ViewWriter } from '../catalog/view-store.js';
import { keysAt } from './index-keys.js';

type DocOp =
  | { op: 'insert'; doc: Buffer; rid: number }
  | { op: 'update'; update: Buffer; o2: Buffer; rid: number }
  | { op: 'delete' };

interface Pending {
  cid: number;
  id: DocId;
  /** The key table's fields of the collection when the operations arrived (a barrier precedes any change). */
  fields: string[];
  ops: DocOp[];
}

/** A key row a batch deletes or inserts; `s` is its (field, key) as a string that sorts as the bytes. */
interface KeyRow {
  s: string;
  f: string;
  key: Buffer;
  rid: number;
}

function keyRow(f: string, key: Buffer, rid: number): KeyRow {
  return { s: `${f}\0${key.toString('latin1')}`, f, key, rid };
}

/** The key table's order: field, key bytes (latin1 strings compare as their bytes), row id. */
function compareKeyRows(a: KeyRow, b: KeyRow): number {
  return a.s < b.s ? -1 : a.s > b.s ? 1 : a.rid - b.rid;
}

/** Key rows a write holds before writing them (whole documents' worth at a time). */
const MAX_KEY_ROWS = 50_000;

/** Flush thresholds: operations, and bytes of documents held (memory stays bounded). */
export const BATCH_OPS = 20_000;
const BATCH_BYTES = 4 * 1024 * 1024;

export class DocBatch {
  /** Per collection, per `_id` bytes (latin1), in arrival order. */
  private readonly byColl = new Map<number, Map<string, Pending>>();
  private ops = 0;
  private bytes = 0;
  private nextRid = -1;
  /** Key rows of documents already inserted (fresh _ids written on arrival), per collection. */
  private readonly fresh = new Map<number, KeyRow[]>();
  private freshRows = 0;

  constructor(private readonly w: ViewWriter) {}

  get size(): number {
    return this.ops + this.freshRows;
  }

  /** Whether the batch should be written now. */
  get full(): boolean {
    return this.ops >= BATCH_OPS || this.bytes >= BATCH_BYTES || this.freshRows >= MAX_KEY_ROWS;
  }

  private rid(): number {
    if (this.nextRid < 0) this.nextRid = this.w.maxRid() + 1;
    return this.nextRid++;
  }

  private pending(cid: number, id: DocId, fields: string[]): Pending {
    return this.pendingAt(cid, id, id.id.toString('latin1'), fields);
  }

  private pendingAt(cid: number, id: DocId, k: string, fields: string[]): Pending {
    let m = this.byColl.get(cid);
    if (!m) this.byColl.set(cid, (m = new Map()));
    let p = m.get(k);
    if (!p) m.set(k, (p = { cid, id, fields, ops: [] }));
    this.ops++;
    return p;
  }

  /**
   * An insert. Of an `_id` the batch holds nothing for, it is written at once, under the row id it
   * takes now (ON CONFLICT DO NOTHING: one statement, no read) and only its key rows wait for the
   * batch, to be written in key order: the document is in the file as it would be after writing
   * a batch whose only operation on it is this insert, and a later operation of the batch on it
   * reads it from there. Otherwise (the batch holds operations on it, or the file already has it)
   * it joins them. `doc` may be a view of a frame: the batch copies what it keeps.
   */
  insert(cid: number, fields: string[], id: DocId, doc: Buffer): void {
    const rid = this.rid();
    const k = id.id.toString('latin1');
    if (!this.byColl.get(cid)?.has(k) && this.w.insertNewDoc(rid, cid, id, doc)) {
      let rows = this.fresh.get(cid);
      if (!rows) this.fresh.set(cid, (rows = []));
      const before = rows.length;
      for (const f of fields) for (const key of keysAt(doc, f)) rows.push(keyRow(f, key, rid));
      this.freshRows += rows.length - before;
      return;
    }
    const own = copyDocument(doc);
    this.pendingAt(cid, id, k, fields).ops.push({ op: 'insert', doc: own, rid });
    this.bytes += own.length;
  }

  update(cid: number, fields: string[], id: DocId, update: Buffer, o2: Buffer): void {
    this.pending(cid, id, fields).ops.push({ op: 'update', update, o2, rid: this.rid() });
    this.bytes += update.length + o2.length;
  }

  delete(cid: number, fields: string[], id: DocId): void {
    this.pending(cid, id, fields).ops.push({ op: 'delete' });
  }

  /**
   * Writes the batch's outcome to the file (inside the caller's transaction) and empties it.
   *
   * In key order, to keep SQLite on pages it has just read: each collection's documents by `_id`
   * bytes (for ObjectIds, and any `_id` that grows, that is also row order), then the key rows
   * that change, sorted by (field, key), deletes before inserts (an entry's own key rows never
   * share a (field, key, row id) with another entry's, so the order between entries is free).
   */
  write(): void {
    if (this.freshRows > 0) this.writeFreshKeys();
    if (this.ops === 0) return;
    const w = this.w;
    const gone: KeyRow[] = [];
    const added: KeyRow[] = [];
    const writeKeys = (cid: number) => {
      for (const rows of [gone, added]) rows.sort(compareKeyRows);
      for (const r of gone) w.deleteKey(cid, r.f, r.key, r.rid);
      for (const r of added) w.insertKey(cid, r.f, r.key, r.rid);
      gone.length = 0;
      added.length = 0;
    };
    for (const [cid, m] of this.byColl) {
      const ids = [...m.keys()].sort();
      for (const k of ids) {
        this.writeDoc(cid, m.get(k)!, gone, added);
        // Memory stays bounded when documents hold large arrays on indexed fields (many keys each).
        if (gone.length + added.length >= MAX_KEY_ROWS) writeKeys(cid);
      }
      writeKeys(cid);
    }
    this.byColl.clear();
    this.ops = 0;
    this.bytes = 0;
  }

  /**
   * The key rows of the documents inserted on arrival, sorted: first, so that the batch's other
   * operations on those documents find the file as one-by-one application leaves it.
   */
  private writeFreshKeys(): void {
    for (const [cid, rows] of this.fresh) {
      rows.sort(compareKeyRows);
      for (const r of rows) this.w.insertKey(cid, r.f, r.key, r.rid);
    }
    this.fresh.clear();
    this.freshRows = 0;
  }

  /** One document's operations folded onto its stored version and written; its key changes collected. */
  private writeDoc(cid: number, p: Pending, gone: KeyRow[], added: KeyRow[]): void {
    const w = this.w;
    const only = p.ops.length === 1 ? p.ops[0]! : null;
    // An insert of an _id the file does not have (most inserts): written without reading first.
    if (only?.op === 'insert' && w.insertNewDoc(only.rid, cid, p.id, only.doc)) {
      for (const f of p.fields) for (const key of keysAt(only.doc, f)) added.push(keyRow(f, key, only.rid));
      return;
    }
    // A lone delete (most deletes): the row deleted and returned by one statement.
    if (only?.op === 'delete') {
      const gone1 = w.deleteDocById(cid, p.id);
      if (gone1)
        for (const f of p.fields)
          for (const key of keysAt(gone1.doc, f)) gone.push(keyRow(f, key, gone1.rid));
      return;
    }
    const before = w.getDoc(cid, p.id) ?? null;
    let rid = before ? before.rid : -1;
    let doc: Buffer | null = before ? before.doc : null;
    let storedGone = false;
    for (const o of p.ops) {
      if (o.op === 'delete') {
        if (rid === -1) continue;
        if (before && rid === before.rid) storedGone = true;
        rid = -1;
        doc = null;
      } else {
        // An update applies to what the previous operation of the batch left.
        doc = o.op === 'insert' ? o.doc : applyUpdateEntry(doc, o.update, o.o2);
        if (rid === -1) rid = o.rid;
      }
    }
    // The stored row goes before a new one takes its (cid, _id).
    if (before && storedGone) {
      for (const f of p.fields)
        for (const key of keysAt(before.doc, f)) gone.push(keyRow(f, key, before.rid));
      w.deleteDoc(before.rid);
    }
    if (rid === -1 || doc === null) return;
    if (before && rid === before.rid) {
      for (const f of p.fields) {
        const a = keysAt(before.doc, f);
        const b = keysAt(doc, f);
        if (a.length === b.length && a.every((x, i) => x.equals(b[i]!))) continue;
        for (const key of a) gone.push(keyRow(f, key, rid));
        for (const key of b) added.push(keyRow(f, key, rid));
      }
      w.updateDoc(rid, doc);
    } else {
      w.insertDocAt(rid, cid, p.id, doc);
      for (const f of p.fields) for (const key of keysAt(doc, f)) added.push(keyRow(f, key, rid));
    }
  }

  /** After rows were added behind the batch's back (a snapshot loaded): row ids are read again. */
  resetRids(): void {
    this.nextRid = -1;
  }
}
