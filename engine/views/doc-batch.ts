/**
 * The document writes of a view build, staged and written together. Each
 * update, delete, and insert of an `_id` the stage already holds is staged
 * in a temporary database (catalog/view-stage.ts), not in memory; at
 * `write` SQLite's sorter streams them back by collection and `_id`, and one
 * pass in that order reads each row once, folds its operations onto the
 * stored version (an update's `$v:2` diff applies to the version the
 * previous operation left) and writes only the outcome: rows deleted,
 * inserted or replaced, and the key rows that differ.
 *
 * Why staged, and why in one pass: a view moved forward over 1,000,000
 * entries of random updates dirtied a 16 KiB page per update and wrote it
 * back once per batch of 20,000 (12.5 GB written for a 1.9 GB file). Sorted
 * across the whole stage, the pass walks the file in the index's order and
 * each page is read and written about once.
 *
 * The outcome is the one the operations applied one by one give: an insert
 * of an existing `_id` replaces it in place, an update of a missing one
 * upserts, a document deleted and inserted again is a new row after every
 * other (rows keep the order a collection scan shows). New rows take their
 * row ids when their operation arrives, so that order is the operations'
 * order, whatever the stage does.
 *
 * An insert of an `_id` the stage holds nothing for (most inserts: new
 * ObjectIds) is written at once instead, under the row id it takes then:
 * the file then shows it as one-by-one application would, and a later
 * staged operation on it reads it from there. Key row changes are staged
 * too and written last (see keyChanges for why their order is free).
 *
 * Collection-level operations (drop, rename, index builds…) are barriers:
 * the sink writes the batch before applying one.
 */
import { ApiError } from '../errors.js';
import { applyUpdateEntry } from '../oplog/update-entry.js';
import type { DocId, StagedDoc, ViewWriter } from '../catalog/view-store.js';
import { keysAt } from './index-keys.js';
import { StagedIds } from './staged-ids.js';

const INSERT = 1;
const UPDATE = 2;
const DELETE = 3;

/**
 * When the stage is written before the end (or the next barrier): it lives in temporary files,
 * so this bounds them, not memory (about 150 bytes per staged update). While it is sorted the
 * stage and SQLite's sort runs exist together: about twice STAGE_BYTES at most. The stage's
 * file keeps its size until the build ends (freed pages are reused by the next write).
 */
export const STAGE_OPS = 1_000_000;
const STAGE_BYTES = 256 * 1024 * 1024;
const STAGE_KEY_ROWS = 4_000_000;
/** Staged operations folded between two checkpoints (progress and cancellation) of a write. */
const PAGE = 1000;

/**
 * The keys a document's new version drops and adds, each once. Only the difference: the staged
 * key rows are written inserts first, then deletes, which is right only while no key row is
 * deleted and inserted again between two writes. A row of the stored version is deleted by the
 * one fold of its document, which inserts only keys it did not have; a row inserted on arrival
 * has a new row id, which nothing staged before it names.
 */
function keyChanges(before: Buffer[], after: Buffer[]): { gone: Buffer[]; added: Buffer[] } {
  if (before.length === 1 && after.length === 1)
    return before[0]!.equals(after[0]!) ? { gone: [], added: [] } : { gone: before, added: after };
  const was = new Set(before.map((k) => k.toString('latin1')));
  const is = new Set(after.map((k) => k.toString('latin1')));
  return {
    gone: before.filter((k) => !is.has(k.toString('latin1'))),
    added: after.filter((k) => !was.has(k.toString('latin1'))),
  };
}

/** One `_id`'s staged operations, folded as they are read. */
interface Fold {
  cid: number;
  id: DocId;
  /** The first operation, held until a second shows whether the lone-operation shortcuts apply. */
  first: StagedDoc | null;
  before: { rid: number; doc: Buffer } | null;
  rid: number;
  doc: Buffer | null;
  storedGone: boolean;
}

export class DocBatch {
  private staged = 0;
  private stagedBytes = 0;
  private stagedKeys = 0;
  private nextRid = -1;
  private failed = false;
  private readonly ids = new StagedIds();
  /** The key table's fields of each collection with staged operations (a barrier precedes any change). */
  private readonly fieldsOf = new Map<number, string[]>();

  constructor(
    private readonly w: ViewWriter,
    /**
     * Runs between pages of a write (up to a million operations, seconds) with the operations
     * folded so far: a build's progress and cancellation.
     */
    private readonly checkpoint: (done: number, total: number) => void = () => undefined,
  ) {}

  /** Staged operations and key rows not yet written. */
  get size(): number {
    return this.staged + this.stagedKeys;
  }

  /** Whether the batch should be written now (its temporary file stays bounded). */
  get full(): boolean {
    return this.staged >= STAGE_OPS || this.stagedBytes >= STAGE_BYTES || this.stagedKeys >= STAGE_KEY_ROWS;
  }

  private rid(): number {
    if (this.nextRid < 0) this.nextRid = this.w.maxRid() + 1;
    return this.nextRid++;
  }

  /** An insert: written at once when the stage holds nothing for its `_id` and the file lacks it, else staged. */
  insert(cid: number, fields: string[], id: DocId, doc: Buffer): void {
    const rid = this.rid();
    if (!this.ids.mayHold(cid, id.id) && this.w.insertNewDoc(rid, cid, id, doc)) {
      this.stageKeys(cid, fields, doc, rid, true);
      return;
    }
    this.stage(cid, fields, id, INSERT, rid, doc, null);
  }

  update(cid: number, fields: string[], id: DocId, update: Buffer, o2: Buffer): void {
    this.stage(cid, fields, id, UPDATE, this.rid(), update, o2);
  }

  delete(cid: number, fields: string[], id: DocId): void {
    this.stage(cid, fields, id, DELETE, 0, null, null);
  }

  /** SQLite copies the bytes when it stores them: `a` and `b` may be views of a frame. */
  private stage(
    cid: number,
    fields: string[],
    id: DocId,
    op: number,
    rid: number,
    a: Buffer | null,
    b: Buffer | null,
  ): void {
    this.fieldsOf.set(cid, fields);
    this.ids.add(cid, id.id);
    this.w.stageDoc(cid, id, op, rid, a, b);
    this.staged++;
    this.stagedBytes += 64 + id.k.length + id.id.length + (a?.length ?? 0) + (b?.length ?? 0);
  }

  /** Every key row of `doc` (its keys of each field the key table holds), to insert or delete. */
  private stageKeys(cid: number, fields: string[], doc: Buffer, rid: number, ins: boolean): void {
    for (const f of fields) this.stageKeyRows(cid, f, keysAt(doc, f), rid, ins);
  }

  private stageKeyRows(cid: number, field: string, keys: Buffer[], rid: number, ins: boolean): void {
    for (const key of keys) this.w.stageKey(cid, field, key, rid, ins);
    this.stagedKeys += keys.length;
  }

  /**
   * Writes the batch's outcome to the file (inside the caller's transaction) and empties it. A
   * write that throws (a damaged update, a full disk, a cancellation between pages) leaves the
   * file and the stage half written: the batch refuses any further use, and the build that owns
   * it fails and deletes its file.
   */
  write(): void {
    if (this.failed) throw new ApiError('INTERNAL', 'A view build went on after its writes failed.');
    try {
      if (this.staged > 0) this.writeDocs();
      if (this.stagedKeys > 0) {
        this.w.applyStagedKeys();
        this.stagedKeys = 0;
      }
    } catch (err) {
      this.failed = true;
      throw err;
    }
  }

  /** The staged operations in (collection, `_id`) order, one `_id` folded at a time. */
  private writeDocs(): void {
    const total = this.staged;
    let done = 0;
    this.staged = 0;
    this.stagedBytes = 0;
    this.ids.clear();
    let f: Fold | null = null;
    for (const r of this.w.sortedDocs()) {
      if (f && r[0] === f.cid && r[2].equals(f.id.id)) this.step(f, r);
      else {
        if (f) this.finish(f);
        f = {
          cid: r[0],
          id: { k: r[1], id: r[2] },
          first: r,
          before: null,
          rid: -1,
          doc: null,
          storedGone: false,
        };
      }
      if (++done % PAGE === 0) this.checkpoint(done, total);
    }
    if (f) this.finish(f);
    this.checkpoint(done, total);
    this.fieldsOf.clear();
  }

  /** A further operation on the fold's `_id`: the stored version read once, then each applied in order. */
  private step(f: Fold, r: StagedDoc): void {
    if (f.first) this.open(f);
    this.apply(f, r);
  }

  /** Reads the stored version and applies the held first operation to it. */
  private open(f: Fold): void {
    f.before = this.w.getDoc(f.cid, f.id) ?? null;
    f.rid = f.before ? f.before.rid : -1;
    f.doc = f.before ? f.before.doc : null;
    const first = f.first!;
    f.first = null;
    this.apply(f, first);
  }

  private apply(f: Fold, r: StagedDoc): void {
    if (r[3] === DELETE) {
      if (f.rid === -1) return;
      if (f.before && f.rid === f.before.rid) f.storedGone = true;
      f.rid = -1;
      f.doc = null;
      return;
    }
    f.doc = r[3] === INSERT ? r[5]! : applyUpdateEntry(f.doc, r[5]!, r[6]!);
    if (f.rid === -1) f.rid = r[4];
  }

  /** The fold's outcome written, with its key row changes staged. */
  private finish(f: Fold): void {
    const w = this.w;
    const fields = this.fieldsOf.get(f.cid) ?? [];
    const only = f.first;
    if (only) {
      // An insert the file does not have (an _id the stage held by a false "maybe"): no read first.
      if (only[3] === INSERT && w.insertNewDoc(only[4], f.cid, f.id, only[5]!)) {
        this.stageKeys(f.cid, fields, only[5]!, only[4], true);
        return;
      }
      // A lone delete (most deletes): the row deleted and returned by one statement.
      if (only[3] === DELETE) {
        const gone = w.deleteDocById(f.cid, f.id);
        if (gone) this.stageKeys(f.cid, fields, gone.doc, gone.rid, false);
        return;
      }
      this.open(f);
    }
    const { before, rid, doc } = f;
    // The stored row goes before a new one takes its (cid, _id).
    if (before && f.storedGone) {
      this.stageKeys(f.cid, fields, before.doc, before.rid, false);
      w.deleteDoc(before.rid);
    }
    if (rid === -1 || doc === null) return;
    if (before && rid === before.rid) {
      for (const fl of fields) {
        const { gone, added } = keyChanges(keysAt(before.doc, fl), keysAt(doc, fl));
        this.stageKeyRows(f.cid, fl, gone, rid, false);
        this.stageKeyRows(f.cid, fl, added, rid, true);
      }
      w.updateDoc(rid, doc);
    } else {
      w.insertDocAt(rid, f.cid, f.id, doc);
      this.stageKeys(f.cid, fields, doc, rid, true);
    }
  }

  /** After rows were added behind the batch's back (a snapshot loaded): row ids are read again. */
  resetRids(): void {
    this.nextRid = -1;
  }
}
