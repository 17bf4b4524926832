/**
 * The working file of one point-in-time view (views/view-<id>.sqlite in the
 * data dir): every document of a source at one point as raw BSON, keyed by
 * collection, the `_id`'s order-preserving key (views/index-keys.ts) and its
 * exact bytes, plus the collections' options and indexes and a key table
 * that serves the view's other index lookups (equality and range on the
 * first field of each index). The docs table's unique index serves `_id`
 * itself: its lookups, ranges and sorts, without a key row per document.
 *
 * A view is a cache that can always be built again from the repository, so
 * it is written without a journal and without fsync while it is built (a
 * crash leaves a temporary file that is removed) and opened read-only once
 * it is ready. SQLite keeps memory at its page cache (`cache_size`),
 * whatever the size of the view.
 */
import Database from 'better-sqlite3';
import { ownerOnlyFile } from '../owner-only.js';
import { setJournal } from './journal-mode.js';
import { openDocStage, type DocStage, type StagedDoc } from './view-stage.js';

export type ViewDb = Database.Database;

/**
 * Page cache of a view connection: memory stays here, however large the view. Building used a
 * larger one (64 MiB) while updates hit the file at random; written sorted (DocBatch), a build
 * measured the same CPU with 16 MiB at 1,000,000 documents + 1,000,000 entries (moving forward
 * 17.3-19.4 CPU s against 17.6-19.7, from scratch 24.8 against 24.5) and 77-90 MB less peak RSS.
 * MBM_VIEW_CACHE_MIB overrides both (the bounded-memory test makes it deliberately small).
 */
const override = Number(process.env.MBM_VIEW_CACHE_MIB);

/**
 * The layout of a view file, in its meta row `format`. A file of another format (built by an
 * older engine) is not read or moved forward: the cache builds the view again.
 * 1: `_id` keys in the key table. 2: `_id` keys in the docs table (column k). 3: the null key of
 * a dotted path wherever it stops short in an array (`a.b` of `[{b: 1}, {}]`), and arrays entered
 * at every level of the path, as mongod's key generator (index-keys.ts keysAt).
 */
export const VIEW_FORMAT = '3';
const BUILD_CACHE_KIB = (override > 0 ? override : 16) * 1024;
const READ_CACHE_KIB = (override > 0 ? override : 16) * 1024;
const READ_BUSY_MS = 100;

/**
 * Tables first, indexes after the snapshot is loaded (indexViewFile): SQLite builds an index from
 * a full table by sorting, many times faster than keeping it up to date row by row, and in bounded
 * memory (it sorts through temporary files).
 */
const TABLES = `
  CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  CREATE TABLE collections (
    cid INTEGER PRIMARY KEY,
    ns TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    options BLOB NOT NULL,
    indexes BLOB NOT NULL
  );
  CREATE TABLE docs (
    rid INTEGER PRIMARY KEY,
    cid INTEGER NOT NULL,
    k BLOB NOT NULL,
    id BLOB NOT NULL,
    doc BLOB NOT NULL
  );
  CREATE TABLE keys (cid INTEGER NOT NULL, field TEXT NOT NULL, key BLOB NOT NULL, rid INTEGER NOT NULL);
`;

/**
 * (cid, k, id) is unique exactly when (cid, id) is (k is a function of the _id); k first, so that
 * the index walks in MongoDB's `_id` order and serves ranges on `_id`.
 */
const DOCS_BY_ID = 'CREATE UNIQUE INDEX docs_by_id ON docs (cid, k, id)';

/**
 * Indexes of a freshly loaded view. A snapshot that holds one _id twice in a collection (a
 * document moved while a logical copy read it) keeps the later copy, as replaying inserts does.
 */
export function indexViewFile(db: ViewDb): void {
  // With a journal: the unique index may fail on a repeated _id, and only a journal rolls a
  // failed statement back (without one SQLite leaves the file undefined). In memory: an index
  // build writes new pages, which are not journaled, so the journal holds a few pages (the
  // schema, the free list); and no journal file is left beside the view (one opened in
  // exclusive locking mode stays when the mode goes back to off).
  setJournal(db, 'memory');
  try {
    indexTables(db);
  } finally {
    setJournal(db, 'off');
  }
}

function indexTables(db: ViewDb): void {
  try {
    db.exec(DOCS_BY_ID);
  } catch (err) {
    if (!String((err as { code?: string }).code).startsWith('SQLITE_CONSTRAINT')) throw err;
    db.exec(`
      DELETE FROM docs WHERE rid NOT IN (SELECT max(rid) FROM docs GROUP BY cid, id);
      DELETE FROM keys WHERE rid NOT IN (SELECT rid FROM docs);
      ${DOCS_BY_ID};
    `);
  }
  db.exec(`
    CREATE TABLE keys_sorted (
      cid INTEGER NOT NULL,
      field TEXT NOT NULL,
      key BLOB NOT NULL,
      rid INTEGER NOT NULL,
      PRIMARY KEY (cid, field, key, rid)
    ) WITHOUT ROWID;
    INSERT OR IGNORE INTO keys_sorted SELECT cid, field, key, rid FROM keys ORDER BY cid, field, key, rid;
    DROP TABLE keys;
    ALTER TABLE keys_sorted RENAME TO keys;
  `);
}

export interface CollectionRow {
  cid: number;
  ns: string;
  kind: string;
  options: Buffer;
  indexes: Buffer;
}

/** Creates an empty view file to build into. */
export function createViewFile(path: string): ViewDb {
  ownerOnlyFile(path);
  const db = new Database(path);
  // 16 KiB pages: documents of a few KiB fit several to a page, and the trees are shallower.
  db.pragma('page_size = 16384');
  tuneForBuild(db);
  db.exec(TABLES);
  return db;
}

/** Opens an existing view file to move it forward (a copy of a ready view). */
export function openViewForWrite(path: string): ViewDb {
  const db = new Database(path, { fileMustExist: true });
  tuneForBuild(db);
  return db;
}

/**
 * A ready view opened to be moved forward in place, with SQLite's exclusive lock on it taken now
 * and held until the connection closes; null when any connection holds it (a reader's shared
 * lock, in this process or another: see openViewForRead), so that the caller copies it instead.
 * No wait: a reader may hold it for as long as its engine runs.
 */
export function lockViewForMove(path: string): ViewDb | null {
  const db = new Database(path, { fileMustExist: true, timeout: 0 });
  try {
    tuneForBuild(db); // exclusive locking mode: the lock BEGIN EXCLUSIVE takes outlives its COMMIT
    db.exec('BEGIN EXCLUSIVE; COMMIT');
    return db;
  } catch (err) {
    db.close();
    if ((err as { code?: string }).code === 'SQLITE_BUSY') return null;
    throw err;
  }
}

function tuneForBuild(db: ViewDb): void {
  // Only the build's own connection ever opens a file being built (readers get it once it is
  // ready, renamed and closed): holding the lock for the whole build spares SQLite taking and
  // checking it per transaction (measured about a fifth of SQLite's time on a replay mix).
  db.pragma('locking_mode = EXCLUSIVE');
  setJournal(db, 'off');
  db.pragma('synchronous = OFF');
  db.pragma(`cache_size = -${BUILD_CACHE_KIB}`);
  db.pragma('temp_store = FILE');
  // The key stage's temporary tables (see STAGE) need no journal either: a failed build is deleted.
  // With one, each staged row was journaled: 28.2 CPU s against 18.1-18.6 moving a view forward.
  setJournal(db, 'off', 'temp');
}

/**
 * Opens a ready view to read; throws (SQLITE_NOTADB, SQLITE_CORRUPT) when the file is damaged.
 *
 * The connection holds a read transaction, and so SQLite's shared lock on the file, until it is
 * closed: a view is never written once ready, except by a move forward in place
 * (lockViewForMove), which takes it only when no connection of any process holds it. The caller
 * checks the file's meta row against its index row after this returns (with the lock held): a
 * file moved in place between the lookup of its row and this open no longer matches it.
 */
export function openViewForRead(path: string, check: boolean): ViewDb {
  // A file held by a mover stays held for the whole move: wait long enough for the instant between
  // a mover's lock and its row's take (or a sweep's look), never as long as better-sqlite3's 5 s
  // default, which would stop this engine's event loop meanwhile.
  const db = new Database(path, { readonly: true, fileMustExist: true, timeout: READ_BUSY_MS });
  try {
    db.pragma(`cache_size = -${READ_CACHE_KIB}`);
    db.exec('BEGIN');
    db.pragma('schema_version'); // reads the header: the shared lock is taken here and kept
    if (check) {
      const rows = db.pragma('quick_check') as { quick_check: string }[];
      if (rows.length !== 1 || rows[0]!.quick_check !== 'ok')
        throw Object.assign(new Error(rows.map((r) => r.quick_check).join('; ')), { code: 'SQLITE_CORRUPT' });
    }
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

/**
 * Written into a view's meta before a move in place changes anything else, and removed with the
 * move's last write (endMove): a file that holds it is half moved (its mover was stopped or died,
 * its journal-less writes cannot be undone), whatever bound its meta still names, and is never read.
 */
export const MOVING_KEY = 'movingFrom';

export function markMoving(db: ViewDb, from: string): void {
  writeMeta(db, { [MOVING_KEY]: from });
}

export function endMove(db: ViewDb): void {
  db.prepare('DELETE FROM meta WHERE key = ?').run(MOVING_KEY);
}

export function readMeta(db: ViewDb): Record<string, string> {
  const rows = db.prepare('SELECT key, value FROM meta').all() as { key: string; value: string }[];
  return Object.fromEntries(rows.map((r) => [r.key, r.value]));
}

export function writeMeta(db: ViewDb, values: Record<string, string>): void {
  const put = db.prepare(
    'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
  );
  db.transaction(() => {
    for (const [k, v] of Object.entries(values)) put.run(k, v);
  })();
}

export function listCollectionRows(db: ViewDb): CollectionRow[] {
  return db
    .prepare('SELECT cid, ns, kind, options, indexes FROM collections ORDER BY ns')
    .all() as CollectionRow[];
}

export function countDocs(db: ViewDb, cid: number): number {
  return (db.prepare('SELECT count(*) AS n FROM docs WHERE cid = ?').get(cid) as { n: number }).n;
}

export function countAllDocs(db: ViewDb): number {
  return (db.prepare('SELECT count(*) AS n FROM docs').get() as { n: number }).n;
}

/**
 * Every document of a collection in row order, read a page at a time (bounded memory, and the
 * connection stays free between pages for the writes a caller makes meanwhile).
 */
export function* iterateDocs(
  db: ViewDb,
  cid: number,
  page = 1000,
  backwards = false,
): Generator<{ rid: number; doc: Buffer }> {
  const s = db.prepare(
    backwards
      ? 'SELECT rid, doc FROM docs WHERE cid = ? AND rid < ? ORDER BY rid DESC LIMIT ?'
      : 'SELECT rid, doc FROM docs WHERE cid = ? AND rid > ? ORDER BY rid LIMIT ?',
  );
  let after = backwards ? Number.MAX_SAFE_INTEGER : 0;
  for (;;) {
    const rows = s.all(cid, after, page) as { rid: number; doc: Buffer }[];
    for (const r of rows) yield r;
    if (rows.length < page) return;
    after = rows[rows.length - 1]!.rid;
  }
}

export function docByRid(db: ViewDb): (rid: number) => Buffer | undefined {
  const s = db.prepare('SELECT doc FROM docs WHERE rid = ?').pluck();
  return (rid) => s.get(rid) as Buffer | undefined;
}

/** Row ids whose key of `field` equals `key` (`_id`: from the docs table's index). */
export function ridsWithKey(db: ViewDb): (cid: number, field: string, key: Buffer) => number[] {
  const s = db.prepare('SELECT rid FROM keys WHERE cid = ? AND field = ? AND key = ?').pluck();
  const id = db.prepare('SELECT rid FROM docs WHERE cid = ? AND k = ?').pluck();
  return (cid, field, key) => (field === '_id' ? id.all(cid, key) : s.all(cid, field, key)) as number[];
}

/** How many key rows `field` has in a collection (equal to its documents when no document holds an array there). */
export function countKeys(db: ViewDb, cid: number, field: string): number {
  if (field === '_id') return countDocs(db, cid); // one key per document, never an array
  return (
    db.prepare('SELECT count(*) AS n FROM keys WHERE cid = ? AND field = ?').get(cid, field) as { n: number }
  ).n;
}

/**
 * The key rows of `field` in key order (then row id), ascending or descending, read a page at a
 * time from the key table's primary key: a sort served by the view's index, in bounded memory.
 */
export function* keysInOrder(
  db: ViewDb,
  cid: number,
  field: string,
  descending: boolean,
  range?: KeyRange,
  page = 1000,
): Generator<{ key: Buffer; rid: number }> {
  const dir = descending ? 'DESC' : 'ASC';
  // `_id` walks the docs table's index (cid, k, id): ties between equal keys go by the exact _id.
  const [col, tie, from] =
    field === '_id'
      ? ['k', 'id', 'docs WHERE cid = @cid']
      : ['key', 'rid', 'keys WHERE cid = @cid AND field = @field'];
  const bounds = range
    ? ` AND ${col} ${range.loInclusive ? '>=' : '>'} @lo AND ${col} ${range.hiInclusive ? '<=' : '<'} @hi`
    : '';
  const first = db.prepare(
    `SELECT ${col} AS key, rid, ${tie} AS tie FROM ${from}${bounds}
     ORDER BY ${col} ${dir}, ${tie} ${dir} LIMIT @page`,
  );
  const after = db.prepare(
    `SELECT ${col} AS key, rid, ${tie} AS tie FROM ${from}${bounds}
       AND (${col}, ${tie}) ${descending ? '<' : '>'} (@key, @tie)
     ORDER BY ${col} ${dir}, ${tie} ${dir} LIMIT @page`,
  );
  const args = {
    cid,
    page,
    ...(field === '_id' ? {} : { field }),
    ...(range ? { lo: range.lo, hi: range.hi } : {}),
  };
  let last: { key: Buffer; tie: unknown } | null = null;
  for (;;) {
    const rows = (last ? after.all({ ...args, key: last.key, tie: last.tie }) : first.all(args)) as {
      key: Buffer;
      rid: number;
      tie: unknown;
    }[];
    for (const r of rows) yield { key: r.key, rid: r.rid };
    if (rows.length < page) return;
    last = rows[rows.length - 1]!;
  }
}

/** Bounds on a key walk (a range the filter allows on the sort's field). */
export interface KeyRange {
  lo: Buffer;
  loInclusive: boolean;
  hi: Buffer;
  hiInclusive: boolean;
}

/** A document's `_id` as the docs table keys it: its order-preserving key and its type + value bytes. */
export interface DocId {
  k: Buffer;
  id: Buffer;
}

/**
 * Where a build's statements report their time (wall-clock ms per writer method; the statements are
 * synchronous, so on a free core this is their CPU). The view benchmark splits a build's cost into
 * SQLite's and the rest with it; nothing else measures, and an unmetered writer pays nothing.
 */
export type StatementMeter = Record<string, number>;

/** The writer with each method timed into `meter`. */
function metered<W extends Record<string, unknown>>(w: W, meter: StatementMeter): W {
  const out: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(w)) {
    if (typeof fn !== 'function') {
      out[name] = fn;
      continue;
    }
    out[name] = (...args: unknown[]) => {
      const t0 = performance.now();
      try {
        return (fn as (...a: unknown[]) => unknown)(...args);
      } finally {
        meter[name] = (meter[name] ?? 0) + performance.now() - t0;
      }
    };
  }
  return out as W;
}

/**
 * The key stage of a build's connection (temporary tables: gone with the connection, a crash
 * included): key row changes held there until the batch is written, then applied in key order
 * by one statement each (view builds hold them in SQLite, not in memory). The document stage has
 * a connection of its own (catalog/view-stage.ts).
 */
const STAGE = `
  CREATE TEMP TABLE IF NOT EXISTS stage_key_ins (cid INTEGER NOT NULL, field TEXT NOT NULL, key BLOB NOT NULL, rid INTEGER NOT NULL);
  CREATE TEMP TABLE IF NOT EXISTS stage_key_del (cid INTEGER NOT NULL, field TEXT NOT NULL, key BLOB NOT NULL, rid INTEGER NOT NULL);
`;

export type { StagedDoc };

/**
 * The statements replay needs, prepared once per build. One row per statement: with
 * better-sqlite3 a prepared statement's run costs about a microsecond, and multi-row forms
 * (`VALUES (…),(…)`, `IN (…)` of 256 rows) measured no faster, their parameter arrays slower.
 */
export function viewWriter(db: ViewDb, meter?: StatementMeter) {
  const s = {
    insertColl: db.prepare('INSERT INTO collections (ns, kind, options, indexes) VALUES (?, ?, ?, ?)'),
    setColl: db.prepare('UPDATE collections SET kind = ?, options = ?, indexes = ? WHERE cid = ?'),
    renameColl: db.prepare('UPDATE collections SET ns = ? WHERE cid = ?'),
    deleteColl: db.prepare('DELETE FROM collections WHERE cid = ?'),
    getDoc: db.prepare('SELECT rid, doc FROM docs WHERE cid = ? AND k = ? AND id = ?'),
    insertDoc: db.prepare('INSERT INTO docs (cid, k, id, doc) VALUES (?, ?, ?, ?)'),
    insertDocAt: db.prepare('INSERT INTO docs (rid, cid, k, id, doc) VALUES (?, ?, ?, ?, ?)'),
    maxRid: db.prepare('SELECT coalesce(max(rid), 0) FROM docs').pluck(),
    appendKey: db.prepare('INSERT INTO keys (cid, field, key, rid) VALUES (?, ?, ?, ?)'),
    updateDoc: db.prepare('UPDATE docs SET doc = ? WHERE rid = ?'),
    deleteDoc: db.prepare('DELETE FROM docs WHERE rid = ?'),
    deleteDocsOf: db.prepare('DELETE FROM docs WHERE cid = ?'),
    insertKey: db.prepare('INSERT OR IGNORE INTO keys (cid, field, key, rid) VALUES (?, ?, ?, ?)'),
    deleteKeysOf: db.prepare('DELETE FROM keys WHERE cid = ?'),
    deleteFieldKeys: db.prepare('DELETE FROM keys WHERE cid = ? AND field = ?'),
    begin: db.prepare('BEGIN'),
    commit: db.prepare('COMMIT'),
    ...stageStatements(db),
  };
  // Opened on the first staged operation: a snapshot load stages none.
  let stage: DocStage | null = null;
  // Prepared on first use: they name docs_by_id, which a snapshot being loaded does not have yet.
  let byId: { insertNewDoc: Database.Statement; deleteById: Database.Statement } | null = null;
  const ids = () =>
    (byId ??= {
      insertNewDoc: db.prepare(
        'INSERT INTO docs (rid, cid, k, id, doc) VALUES (?, ?, ?, ?, ?) ON CONFLICT (cid, k, id) DO NOTHING',
      ),
      deleteById: db.prepare('DELETE FROM docs WHERE cid = ? AND k = ? AND id = ? RETURNING rid, doc'),
    });
  const w = {
    collections: () => listCollectionRows(db),
    insertCollection: (ns: string, kind: string, options: Buffer, indexes: Buffer): number =>
      Number(s.insertColl.run(ns, kind, options, indexes).lastInsertRowid),
    setCollection: (cid: number, kind: string, options: Buffer, indexes: Buffer) =>
      void s.setColl.run(kind, options, indexes, cid),
    renameCollection: (cid: number, ns: string) => void s.renameColl.run(ns, cid),
    /** The collection row and every document and key of it. */
    dropCollection: (cid: number) => {
      s.deleteKeysOf.run(cid);
      s.deleteDocsOf.run(cid);
      s.deleteColl.run(cid);
    },
    emptyCollection: (cid: number) => {
      s.deleteKeysOf.run(cid);
      s.deleteDocsOf.run(cid);
    },
    getDoc: (cid: number, id: DocId) =>
      s.getDoc.get(cid, id.k, id.id) as { rid: number; doc: Buffer } | undefined,
    insertDoc: (cid: number, id: DocId, doc: Buffer): number =>
      Number(s.insertDoc.run(cid, id.k, id.id, doc).lastInsertRowid),
    /** A new row under a row id chosen by the caller (above maxRid). */
    insertDocAt: (rid: number, cid: number, id: DocId, doc: Buffer) =>
      void s.insertDocAt.run(rid, cid, id.k, id.id, doc),
    /**
     * A new row under a row id chosen by the caller, unless the collection already has a row of
     * this `_id` (then nothing is written and false returned): an insert without a read first.
     */
    insertNewDoc: (rid: number, cid: number, id: DocId, doc: Buffer): boolean =>
      ids().insertNewDoc.run(rid, cid, id.k, id.id, doc).changes === 1,
    /** The highest row id in the file (0 when empty). */
    maxRid: (): number => s.maxRid.get() as number,
    /** Deletes the collection's row of this `_id` and returns it (one statement: no read first). */
    deleteDocById: (cid: number, id: DocId) =>
      ids().deleteById.get(cid, id.k, id.id) as { rid: number; doc: Buffer } | undefined,
    updateDoc: (rid: number, doc: Buffer) => void s.updateDoc.run(doc, rid),
    deleteDoc: (rid: number) => void s.deleteDoc.run(rid),
    /** A key row of a snapshot being loaded (before indexViewFile: no uniqueness to check yet). */
    appendKey: (cid: number, field: string, key: Buffer, rid: number) =>
      void s.appendKey.run(cid, field, key, rid),
    insertKey: (cid: number, field: string, key: Buffer, rid: number) =>
      void s.insertKey.run(cid, field, key, rid),
    deleteFieldKeys: (cid: number, field: string) => void s.deleteFieldKeys.run(cid, field),
    iterateDocs: (cid: number) => iterateDocs(db, cid),
    /** A document operation held until the batch is written (`a`, `b`: its document or update and o2). */
    stageDoc: (cid: number, id: DocId, op: number, rid: number, a: Buffer | null, b: Buffer | null) =>
      void (stage ??= openDocStage(meter)).add(cid, id.k, id.id, op, rid, a, b),
    /** The staged operations in the docs index's order, streamed; the stage is empty afterwards. */
    sortedDocs: (): Iterable<StagedDoc> => (stage ? stage.sorted() : []),
    /** Closes the document stage's connection (its temporary file goes with it). */
    closeStage: () => {
      stage?.close();
      stage = null;
    },
    /** A key row to insert (`ins` true) or delete, held until applyStagedKeys. */
    stageKey: (cid: number, field: string, key: Buffer, rid: number, ins: boolean) =>
      void (ins ? s.stageKeyIns : s.stageKeyDel).run(cid, field, key, rid),
    /**
     * The staged key rows written, inserts first (in key order), then deletes (SQLite walks its
     * sorted list of them). Right because between two writes no key row is deleted and then
     * inserted again: see DocBatch.
     */
    applyStagedKeys: () => {
      s.insertStagedKeys.run();
      s.deleteStagedKeys.run();
      s.clearKeyIns.run();
      s.clearKeyDel.run();
    },
    begin: () => void s.begin.run(),
    commit: () => void s.commit.run(),
  };
  return meter ? metered(w, meter) : w;
}
export type ViewWriter = ReturnType<typeof viewWriter>;

function stageStatements(db: ViewDb) {
  db.exec(STAGE);
  return {
    stageKeyIns: db.prepare('INSERT INTO temp.stage_key_ins (cid, field, key, rid) VALUES (?, ?, ?, ?)'),
    stageKeyDel: db.prepare('INSERT INTO temp.stage_key_del (cid, field, key, rid) VALUES (?, ?, ?, ?)'),
    insertStagedKeys: db.prepare(
      `INSERT OR IGNORE INTO main.keys (cid, field, key, rid)
       SELECT cid, field, key, rid FROM temp.stage_key_ins ORDER BY cid, field, key, rid`,
    ),
    deleteStagedKeys: db.prepare(
      `DELETE FROM main.keys WHERE (cid, field, key, rid) IN
       (SELECT cid, field, key, rid FROM temp.stage_key_del)`,
    ),
    clearKeyIns: db.prepare('DELETE FROM temp.stage_key_ins'),
    clearKeyDel: db.prepare('DELETE FROM temp.stage_key_del'),
  };
}

/** Makes the file as small as its contents once the build is done (a view is read many times). */
export function finishBuild(db: ViewDb): void {
  db.pragma('optimize');
}

/**
 * Every key as (namespace, field, key, _id bytes), the `_id` keys of the docs table included: a
 * view's keys compared across builds.
 */
export function keyRows(db: ViewDb): { ns: string; field: string; key: Buffer; id: Buffer }[] {
  return db
    .prepare(
      `SELECT c.ns AS ns, k.field AS field, k.key AS key, d.id AS id FROM keys k
         JOIN docs d ON d.rid = k.rid JOIN collections c ON c.cid = k.cid
       UNION ALL
       SELECT c.ns, '_id', d.k, d.id FROM docs d JOIN collections c ON c.cid = d.cid
       ORDER BY 1, 2, 3, 4`,
    )
    .all() as { ns: string; field: string; key: Buffer; id: Buffer }[];
}
