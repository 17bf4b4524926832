/**
 * The index of the view cache (views/views.sqlite in the data dir), beside
 * the catalog and not in it: views are a cache that any engine run may build
 * (a CLI query beside a running serve included), and SQLite's own locking
 * lets several processes share this file, where the catalog belongs to the
 * one writing engine. Two families of rows:
 *  - `views`: one row per materialised view (source, snapshot, bound, file,
 *    state, size), for listing, reuse, moving forward and eviction;
 *  - `segment_ids` / `segments_indexed`: which documents each oplog segment
 *    touches (a 48-bit hash of the `_id`'s index key), so that a document's
 *    history reads only the segments that can hold its entries. Rebuildable
 *    from the repository at any time (it is filled when a segment is read).
 */
import Database from 'better-sqlite3';
import { dirname } from 'node:path';
import { ApiError } from '../errors.js';
import { ownerOnlyDir, ownerOnlyFile } from '../owner-only.js';

export type ViewIndexDb = Database.Database;

/**
 * 1: segment_ids keyed by (repository, hash, segment path).
 * 2: segments numbered (segments_indexed.sid) and segment_ids keyed by (hash, sid): rows of a few
 *    bytes, not ~120 (a repository id and a path each), and no delete that scans the repository's
 *    rows. Measured at 1,000,000 entries, recording v1's rows took more CPU than materialising.
 * 3: retired_sids: the numbers of segments recorded again or gone from the repository, whose rows
 *    are garbage, so that they are removed (compactSegmentIds) instead of kept for ever: at 5,000
 *    writes a second, about 15 bytes per touched _id per segment came to gigabytes a day.
 * 4: views.for_latest: a view built because `latest` was asked, which the next `latest` of the
 *    same snapshot may move forward in place instead of copying (views/view-cache.ts); and
 *    segments_indexed.payload_sha256, so that a record is trusted only for the segment it was made
 *    of (earlier records are dropped: filled again as segments are read).
 * 5: the same tables as 4; an index left at 4 by a development build without payload_sha256 is
 *    migrated again (its segment records dropped), not read with a column it lacks.
 */
const SCHEMA_VERSION = 5;

const VIEWS = `
  CREATE TABLE IF NOT EXISTS views (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    source_id TEXT NOT NULL,
    source_name TEXT NOT NULL,
    repository_id TEXT NOT NULL,
    snapshot_id TEXT NOT NULL,
    bound_t INTEGER NOT NULL,
    bound_i INTEGER NOT NULL,
    file TEXT NOT NULL,
    state TEXT NOT NULL,
    bytes INTEGER NOT NULL DEFAULT 0,
    documents INTEGER NOT NULL DEFAULT 0,
    namespaces INTEGER NOT NULL DEFAULT 0,
    entries_applied INTEGER NOT NULL DEFAULT 0,
    open_transactions INTEGER NOT NULL DEFAULT 0,
    moved_from_t INTEGER,
    moved_from_i INTEGER,
    file_mtime_ms REAL,
    for_latest INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    last_used_at TEXT NOT NULL
  );
  CREATE INDEX IF NOT EXISTS views_by_point ON views (source_id, snapshot_id, bound_t, bound_i);
`;

/**
 * A segment's number is never reused (AUTOINCREMENT): a segment recorded again gets a new one, and
 * the old number's rows, which no segments_indexed row names any more, are never read.
 */
const SEGMENT_IDS = `
  CREATE TABLE segments_indexed (
    sid INTEGER PRIMARY KEY AUTOINCREMENT,
    repository_id TEXT NOT NULL,
    segment_path TEXT NOT NULL,
    commands INTEGER NOT NULL,
    payload_sha256 TEXT NOT NULL DEFAULT '',
    UNIQUE (repository_id, segment_path)
  );
  CREATE TABLE segment_ids (
    h INTEGER NOT NULL,
    sid INTEGER NOT NULL,
    PRIMARY KEY (h, sid)
  ) WITHOUT ROWID;
`;

/** Segment numbers whose segment_ids rows no segments_indexed row names any more (see compactSegmentIds). */
const RETIRED_SIDS = 'CREATE TABLE retired_sids (sid INTEGER PRIMARY KEY)';

export function openViewIndex(path: string): ViewIndexDb {
  ownerOnlyDir(dirname(path));
  ownerOnlyFile(path);
  const db = new Database(path);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('busy_timeout = 10000');
    migrate(db);
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

/**
 * Brings the file to SCHEMA_VERSION. The segment index is a cache of what the repository's
 * segments hold: an older one is dropped, not converted, and filled again as segments are read.
 * BEGIN IMMEDIATE: two engines opening the file at once migrate it once.
 */
function migrate(db: ViewIndexDb): void {
  if ((db.pragma('user_version', { simple: true }) as number) === SCHEMA_VERSION) return;
  db.transaction(() => {
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version === SCHEMA_VERSION) return;
    if (version > SCHEMA_VERSION)
      throw new ApiError(
        'CATALOG_TOO_NEW',
        `views/views.sqlite was written by a newer version of this app (schema ${version}; this version knows up to ${SCHEMA_VERSION}). It was not modified.`,
      );
    db.exec(VIEWS);
    // A views table of v1-v3 (kept by CREATE … IF NOT EXISTS) gets the column; its views stay copied.
    const cols = db.prepare('SELECT name FROM pragma_table_info(?)').pluck().all('views') as string[];
    if (!cols.includes('for_latest'))
      db.exec('ALTER TABLE views ADD COLUMN for_latest INTEGER NOT NULL DEFAULT 0');
    // Segment records before v4 name no payload hash: none can be trusted, all are read again.
    db.exec(
      'DROP TABLE IF EXISTS segment_ids; DROP TABLE IF EXISTS segments_indexed; DROP TABLE IF EXISTS retired_sids;',
    );
    db.exec(SEGMENT_IDS);
    db.exec(RETIRED_SIDS);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }).immediate();
}

export interface ViewRow {
  id: number;
  source_id: string;
  source_name: string;
  repository_id: string;
  snapshot_id: string;
  bound_t: number;
  bound_i: number;
  file: string;
  state: 'building' | 'ready' | 'damaged';
  bytes: number;
  documents: number;
  namespaces: number;
  entries_applied: number;
  open_transactions: number;
  moved_from_t: number | null;
  moved_from_i: number | null;
  file_mtime_ms: number | null;
  /** 1: built because `latest` was asked (the next `latest` may move it forward in place). */
  for_latest: number;
  created_at: string;
  last_used_at: string;
}

export function listViews(db: ViewIndexDb): ViewRow[] {
  return db.prepare('SELECT * FROM views ORDER BY last_used_at DESC, id DESC').all() as ViewRow[];
}

export function getView(db: ViewIndexDb, id: number): ViewRow | undefined {
  return db.prepare('SELECT * FROM views WHERE id = ?').get(id) as ViewRow | undefined;
}

/** The ready view of exactly this point, if any. */
export function viewAt(db: ViewIndexDb, sourceId: string, snapshotId: string, t: number, i: number) {
  return db
    .prepare(
      `SELECT * FROM views WHERE source_id = ? AND snapshot_id = ? AND bound_t = ? AND bound_i = ? AND state = 'ready'
       ORDER BY id DESC LIMIT 1`,
    )
    .get(sourceId, snapshotId, t, i) as ViewRow | undefined;
}

/** The newest ready view of the same snapshot before the point: the one to move forward. */
export function viewBefore(db: ViewIndexDb, sourceId: string, snapshotId: string, t: number, i: number) {
  return db
    .prepare(
      `SELECT * FROM views WHERE source_id = ? AND snapshot_id = ? AND state = 'ready' AND (bound_t, bound_i) < (?, ?)
       ORDER BY bound_t DESC, bound_i DESC LIMIT 1`,
    )
    .get(sourceId, snapshotId, t, i) as ViewRow | undefined;
}

export function insertView(
  db: ViewIndexDb,
  v: Pick<
    ViewRow,
    'source_id' | 'source_name' | 'repository_id' | 'snapshot_id' | 'bound_t' | 'bound_i' | 'for_latest'
  > & {
    fileFor: (id: number) => string;
  },
): ViewRow {
  const now = new Date().toISOString();
  return db.transaction(() => {
    const id = Number(
      db
        .prepare(
          `INSERT INTO views (source_id, source_name, repository_id, snapshot_id, bound_t, bound_i, for_latest, file, state, created_at, last_used_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, '', 'building', ?, ?)`,
        )
        .run(
          v.source_id,
          v.source_name,
          v.repository_id,
          v.snapshot_id,
          v.bound_t,
          v.bound_i,
          v.for_latest,
          now,
          now,
        ).lastInsertRowid,
    );
    db.prepare('UPDATE views SET file = ? WHERE id = ?').run(v.fileFor(id), id);
    return getView(db, id)!;
  })();
}

export function markViewReady(
  db: ViewIndexDb,
  id: number,
  r: Pick<
    ViewRow,
    | 'bytes'
    | 'documents'
    | 'namespaces'
    | 'entries_applied'
    | 'open_transactions'
    | 'moved_from_t'
    | 'moved_from_i'
    | 'file_mtime_ms'
  >,
): boolean {
  return (
    db
      .prepare(
        `UPDATE views SET state = 'ready', bytes = ?, documents = ?, namespaces = ?, entries_applied = ?, open_transactions = ?,
       moved_from_t = ?, moved_from_i = ?, file_mtime_ms = ?, last_used_at = ? WHERE id = ?`,
      )
      .run(
        r.bytes,
        r.documents,
        r.namespaces,
        r.entries_applied,
        r.open_transactions,
        r.moved_from_t,
        r.moved_from_i,
        r.file_mtime_ms,
        new Date().toISOString(),
        id,
      ).changes === 1
  );
}

export function markViewDamaged(db: ViewIndexDb, id: number): void {
  db.prepare(`UPDATE views SET state = 'damaged' WHERE id = ?`).run(id);
}

/**
 * A view used again; `named`: by a point named exactly (a `t:i`, a time, a snapshot), which someone
 * relies on (Browse holds its point so): no longer moved in place by the next `latest`.
 */
export function touchView(db: ViewIndexDb, id: number, named = false): void {
  db.prepare(`UPDATE views SET last_used_at = ?${named ? ', for_latest = 0' : ''} WHERE id = ?`).run(
    new Date().toISOString(),
    id,
  );
}

/**
 * A view taken for a move in place that did not change its file (stopped, or failed, before its
 * first write): the 'building' row goes and the view's own row comes back as it was, under its own
 * id (so that a reader holding that row reads it again). Whether it did.
 */
export function giveBackView(db: ViewIndexDb, buildingId: number, base: ViewRow): boolean {
  return db.transaction(() => {
    if (!deleteBuildingView(db, buildingId)) return false;
    const cols = Object.keys(base);
    db.prepare(`INSERT INTO views (${cols.join(', ')}) VALUES (${cols.map((c) => '@' + c).join(', ')})`).run(
      base,
    );
    return true;
  })();
}

/**
 * A ready view taken to be moved forward in place, in one transaction: its row goes (only if it
 * is still ready: another engine may have discarded it) and a 'building' row of the new point
 * names the same file. Null when the row was gone.
 */
export function takeOverView(
  db: ViewIndexDb,
  base: ViewRow,
  v: Pick<ViewRow, 'bound_t' | 'bound_i'>,
): ViewRow | null {
  const now = new Date().toISOString();
  return db.transaction(() => {
    if (db.prepare(`DELETE FROM views WHERE id = ? AND state = 'ready'`).run(base.id).changes !== 1)
      return null;
    const id = Number(
      db
        .prepare(
          `INSERT INTO views (source_id, source_name, repository_id, snapshot_id, bound_t, bound_i, for_latest, file, state, created_at, last_used_at)
           VALUES (?, ?, ?, ?, ?, ?, 1, ?, 'building', ?, ?)`,
        )
        .run(
          base.source_id,
          base.source_name,
          base.repository_id,
          base.snapshot_id,
          v.bound_t,
          v.bound_i,
          base.file,
          now,
          now,
        ).lastInsertRowid,
    );
    return getView(db, id)!;
  })();
}

/** Deletes a row only while it is 'building' (a dead build's); whether it did. */
export function deleteBuildingView(db: ViewIndexDb, id: number): boolean {
  return db.prepare(`DELETE FROM views WHERE id = ? AND state = 'building'`).run(id).changes === 1;
}

/** Whether a row other than `id` names this file (a view moved in place keeps its file). */
export function fileNamedByOther(db: ViewIndexDb, file: string, id: number): boolean {
  return db.prepare('SELECT 1 FROM views WHERE file = ? AND id != ?').get(file, id) !== undefined;
}

export function deleteView(db: ViewIndexDb, id: number): void {
  db.prepare('DELETE FROM views WHERE id = ?').run(id);
}

// ---- The per-segment index of touched _ids ----

/**
 * The record of a segment, if it is of the segment the path names now: a path holds another
 * segment once the repository's was deleted and written again (a capture started over after a
 * rollback, a repository put back from elsewhere), whose _ids the record does not list.
 */
export function isSegmentIndexed(
  db: ViewIndexDb,
  repositoryId: string,
  path: string,
  payload: string,
): { commands: boolean } | null {
  if (payload === '') return null; // a segment of no known payload (registered corrupt): never trusted
  const r = db
    .prepare(
      'SELECT commands FROM segments_indexed WHERE repository_id = ? AND segment_path = ? AND payload_sha256 = ?',
    )
    .get(repositoryId, path, payload) as { commands: number } | undefined;
  return r ? { commands: r.commands === 1 } : null;
}

/**
 * Records the _id hashes a segment touches and whether it holds namespace commands, in one
 * transaction. The hashes go in ascending order: each lands next to the one before it in the
 * tree, so a segment's thousands of rows touch each page once.
 */
export function recordSegmentIds(
  db: ViewIndexDb,
  repositoryId: string,
  path: string,
  hashes: Iterable<number>,
  commands: boolean,
  payload: string,
): void {
  if (payload === '') return; // nothing to check a record against later: read whole each time
  const sorted = Float64Array.from(hashes).sort();
  db.transaction(() => {
    unrecord(db, repositoryId, path);
    const sid = Number(
      db
        .prepare(
          'INSERT INTO segments_indexed (repository_id, segment_path, commands, payload_sha256) VALUES (?, ?, ?, ?)',
        )
        .run(repositoryId, path, commands ? 1 : 0, payload).lastInsertRowid,
    );
    const put = db.prepare('INSERT OR IGNORE INTO segment_ids (h, sid) VALUES (?, ?)');
    for (const h of sorted) put.run(h, sid);
  })();
  compactSegmentIds(db);
}

/** Takes a segment's record out (if it has one) and retires its number: its rows are garbage now. */
function unrecord(db: ViewIndexDb, repositoryId: string, path: string): void {
  const sids = db
    .prepare('DELETE FROM segments_indexed WHERE repository_id = ? AND segment_path = ? RETURNING sid')
    .pluck()
    .all(repositoryId, path) as number[];
  const put = db.prepare('INSERT OR IGNORE INTO retired_sids (sid) VALUES (?)');
  for (const sid of sids) put.run(sid);
}

/**
 * Forgets segments that are gone from the repository (retention deleted them): their rows are
 * retired, and removed by the next compaction. Segments not recorded are ignored.
 */
export function forgetSegments(db: ViewIndexDb, repositoryId: string, paths: Iterable<string>): void {
  db.transaction(() => {
    for (const p of paths) unrecord(db, repositoryId, p);
  })();
  compactSegmentIds(db);
}

/** Fewest retired segments worth a compaction (a small index is not worth a pass). */
const MIN_RETIRED = 64;

/**
 * How many hash ranges a compaction deletes one at a time (hashes are 48-bit): about one per
 * segment, so that each range holds about a segment's worth of rows (a few milliseconds).
 */
const compactSlices = (segments: number) => Math.min(65_536, Math.max(64, segments));

/**
 * Removes the rows of retired segments once they are at least as many as the live ones (and
 * MIN_RETIRED), or always with `force`. segment_ids is keyed by hash, so deleting a segment's rows
 * is a pass over the whole table: waiting until at least about half of it is garbage keeps the
 * cost per row written constant, and the table at most about twice its live size. The pass goes
 * one hash range per transaction, so that another engine sharing the file (a CLI beside a serve)
 * waits for one range, not for the whole table; the sids are the ones retired when it began, so a
 * sid retired meanwhile keeps its place in retired_sids until the next compaction. A pass cut
 * short leaves its sids retired: the next one deletes what is left. Returns the rows removed.
 */
export function compactSegmentIds(db: ViewIndexDb, force = false): number {
  const sids = db.prepare('SELECT sid FROM retired_sids').pluck().all() as number[];
  if (sids.length === 0) return 0;
  const live = db.prepare('SELECT count(*) FROM segments_indexed').pluck().get() as number;
  if (!force && (sids.length < MIN_RETIRED || sids.length < live)) return 0;
  // The pass's sids in a table of this connection's own: a lookup per row, not a list to parse.
  db.exec(
    'CREATE TEMP TABLE IF NOT EXISTS compacting (sid INTEGER PRIMARY KEY); DELETE FROM temp.compacting;',
  );
  db.transaction(() => {
    const put = db.prepare('INSERT INTO temp.compacting (sid) VALUES (?)');
    for (const sid of sids) put.run(sid);
  })();
  const del = db.prepare(
    'DELETE FROM segment_ids WHERE h >= ? AND h < ? AND sid IN (SELECT sid FROM temp.compacting)',
  );
  const slices = compactSlices(sids.length + live);
  const width = 2 ** 48 / slices;
  let n = 0;
  for (let k = 0; k < slices; k++) {
    // The first and last ranges are open, for hashes outside 48 bits (a crafted file).
    const lo = k === 0 ? -Number.MAX_VALUE : k * width;
    const hi = k === slices - 1 ? Number.MAX_VALUE : (k + 1) * width;
    n += del.run(lo, hi).changes;
  }
  db.exec(
    'DELETE FROM retired_sids WHERE sid IN (SELECT sid FROM temp.compacting); DELETE FROM temp.compacting;',
  );
  return n;
}

/** Segments (of those given) that touch the hash or hold namespace commands. */
export function segmentsTouching(db: ViewIndexDb, repositoryId: string, h: number): Set<string> {
  const rows = db
    .prepare(
      `SELECT s.segment_path FROM segment_ids i JOIN segments_indexed s ON s.sid = i.sid
         WHERE i.h = ? AND s.repository_id = ?
       UNION SELECT segment_path FROM segments_indexed WHERE repository_id = ? AND commands = 1`,
    )
    .pluck()
    .all(h, repositoryId, repositoryId) as string[];
  return new Set(rows);
}
