/**
 * The document stage of a view build (views/doc-batch.ts): its updates,
 * deletes and inserts of `_id`s already staged, held in a temporary
 * database of their own until the batch is written, then read back sorted
 * by collection and `_id`.
 *
 * Why a connection of its own: better-sqlite3 runs no other statement on a
 * connection while one of its queries is being iterated. On the build's own
 * connection the stage had to be copied, sorted, into a second table and
 * read back in pages of a thousand rows (two queries each); here SQLite's
 * sorter streams it, one row at a time, while the build's connection reads
 * and writes the view. At 1,000,000 documents + 1,000,000 entries the copy
 * and the pages took 2.8-4.2 s of a 25-30 CPU s move.
 *
 * The database is SQLite's temporary one (`new Database('')`): a file in
 * SQLite's temporary directory, unlinked as soon as it is created, so it is
 * gone with the connection, and with the process however it ends. Memory
 * stays at its page cache and its sorter's runs (both STAGE_CACHE_KIB).
 */
import Database from 'better-sqlite3';
import { setJournal } from './journal-mode.js';

/** A staged document operation as read back in order: [cid, k, id, op, rid, a, b]. */
export type StagedDoc = [number, Buffer, Buffer, number, number, Buffer | null, Buffer | null];

/** Page cache, and the size of each of the sorter's in-memory runs (SQLite takes it from cache_size). */
const STAGE_CACHE_KIB = 8 * 1024;

export interface DocStage {
  /** A document operation held until the batch is written (`a`, `b`: its document or update and o2). */
  add(cid: number, k: Buffer, id: Buffer, op: number, rid: number, a: Buffer | null, b: Buffer | null): void;
  /**
   * Every staged operation in the docs index's order ((cid, k, id), then arrival), streamed from
   * SQLite's sorter (through temporary files past its memory); the stage is emptied once the
   * iteration ends, read to the end or not.
   */
  sorted(): Generator<StagedDoc>;
  close(): void;
}

/** `meter` (the view benchmark's) gets the time spent reading the sorted stage, as `sortedDocs`. */
export function openDocStage(meter?: Record<string, number>): DocStage {
  const db = new Database('');
  db.pragma('locking_mode = EXCLUSIVE');
  setJournal(db, 'off');
  db.pragma('synchronous = OFF');
  db.pragma(`cache_size = -${STAGE_CACHE_KIB}`);
  db.exec(`CREATE TABLE stage_docs (
    seq INTEGER PRIMARY KEY, cid INTEGER NOT NULL, k BLOB NOT NULL, id BLOB NOT NULL,
    op INTEGER NOT NULL, rid INTEGER NOT NULL, a BLOB, b BLOB
  )`);
  const add = db.prepare('INSERT INTO stage_docs (cid, k, id, op, rid, a, b) VALUES (?, ?, ?, ?, ?, ?, ?)');
  const sorted = db
    .prepare('SELECT cid, k, id, op, rid, a, b FROM stage_docs ORDER BY cid, k, id, seq')
    .raw();
  const clear = db.prepare('DELETE FROM stage_docs');
  // One transaction for the stage's life: each insert committing on its own would write its page.
  // Nothing is ever committed or rolled back (the database is thrown away with the connection).
  db.prepare('BEGIN').run();
  return {
    add: (cid, k, id, op, rid, a, b) => void add.run(cid, k, id, op, rid, a, b),
    *sorted() {
      const it = sorted.iterate() as IterableIterator<StagedDoc>;
      try {
        for (;;) {
          const t0 = meter ? performance.now() : 0;
          const r = it.next();
          if (meter) meter.sortedDocs = (meter.sortedDocs ?? 0) + performance.now() - t0;
          if (r.done) return;
          yield r.value;
        }
      } finally {
        it.return?.();
        clear.run();
      }
    },
    close: () => {
      if (db.open) db.close();
    },
  };
}
