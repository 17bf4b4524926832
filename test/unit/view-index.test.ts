/**
 * The view cache's index of touched _ids per segment (catalog/view-index.ts):
 * a v1 file (rows keyed by repository, hash and path) is brought to v2 with
 * its views kept and its segment rows dropped (a cache, filled again as
 * segments are read); a segment recorded again answers with its new hashes
 * only; a newer file is refused without being changed; one SQLite cannot
 * read is set aside and the cache starts again.
 */
import Database from 'better-sqlite3';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  compactSegmentIds,
  forgetSegments,
  isSegmentIndexed,
  listViews,
  openViewIndex,
  recordSegmentIds,
  segmentsTouching,
} from '../../engine/catalog/view-index.js';
import { ViewCache } from '../../engine/views/view-cache.js';
import { tempDir } from '../support/temp-dir.js';

/** A segment's payload hash, as the catalog records it. */
const P = 'a1'.repeat(32);

const dirs: { remove: () => void }[] = [];
afterEach(() => dirs.splice(0).forEach((d) => d.remove()));
const fileIn = () => {
  const d = tempDir('mbm-view-index-');
  dirs.push(d);
  return join(d.path, 'views', 'views.sqlite');
};

/** The v1 layout, as an engine before schema 2 left it, with one view and one indexed segment. */
function writeV1(path: string): void {
  const first = openViewIndex(path); // creates the directory and the current schema
  first.close();
  const db = new Database(path);
  db.exec(`
    DROP TABLE segment_ids; DROP TABLE segments_indexed; ALTER TABLE views DROP COLUMN for_latest;
    CREATE TABLE segments_indexed (repository_id TEXT NOT NULL, segment_path TEXT NOT NULL,
      commands INTEGER NOT NULL, PRIMARY KEY (repository_id, segment_path)) WITHOUT ROWID;
    CREATE TABLE segment_ids (repository_id TEXT NOT NULL, h INTEGER NOT NULL, segment_path TEXT NOT NULL,
      PRIMARY KEY (repository_id, h, segment_path)) WITHOUT ROWID;
    INSERT INTO segments_indexed VALUES ('repo', 'oplog/a.seg', 0);
    INSERT INTO segment_ids VALUES ('repo', 42, 'oplog/a.seg');
    INSERT INTO views (source_id, source_name, repository_id, snapshot_id, bound_t, bound_i, file, state,
      created_at, last_used_at) VALUES ('s1', 'rs', 'repo', 'snap', 10, 1, 'view-1.sqlite', 'ready', 'x', 'x');
  `);
  db.pragma('user_version = 1');
  db.close();
}

describe('the segment _id index', () => {
  it('migrates a v1 file: views kept, segment rows dropped, then filled again', () => {
    const path = fileIn();
    writeV1(path);
    withIndex((db) => {
      expect(db.pragma('user_version', { simple: true })).toBe(5);
      expect(listViews(db).map((v) => v.file)).toEqual(['view-1.sqlite']);
      // Dropped: the segment is read whole again by the next history or build, which records it.
      expect(isSegmentIndexed(db, 'repo', 'oplog/a.seg', P)).toBeNull();
      expect(segmentsTouching(db, 'repo', 42).size).toBe(0);
      recordSegmentIds(db, 'repo', 'oplog/a.seg', [42, 7], false, P);
      expect(isSegmentIndexed(db, 'repo', 'oplog/a.seg', P)).toEqual({ commands: false });
      expect([...segmentsTouching(db, 'repo', 42)]).toEqual(['oplog/a.seg']);
    }, path);
  });

  it('answers a hash with the segments of that repository that touch it, and the ones holding commands', () => {
    withIndex((db) => {
      const big = 2 ** 48 - 1; // the largest 48-bit hash
      recordSegmentIds(db, 'repo', 'oplog/a.seg', new Set([5, 3, big]), false, P);
      recordSegmentIds(db, 'repo', 'oplog/b.seg', [3], false, P);
      recordSegmentIds(db, 'repo', 'oplog/c.seg', [], true, P);
      recordSegmentIds(db, 'other', 'oplog/a.seg', [5], false, P);
      expect([...segmentsTouching(db, 'repo', 3)].sort()).toEqual([
        'oplog/a.seg',
        'oplog/b.seg',
        'oplog/c.seg',
      ]);
      expect([...segmentsTouching(db, 'repo', big)].sort()).toEqual(['oplog/a.seg', 'oplog/c.seg']);
      expect([...segmentsTouching(db, 'repo', 4)]).toEqual(['oplog/c.seg']);
      expect([...segmentsTouching(db, 'other', 5)]).toEqual(['oplog/a.seg']);
      expect(isSegmentIndexed(db, 'repo', 'oplog/c.seg', P)).toEqual({ commands: true });
    });
  });

  it('answers a segment recorded again with its new hashes only', () => {
    withIndex((db) => {
      recordSegmentIds(db, 'repo', 'oplog/a.seg', [1, 2], true, P);
      recordSegmentIds(db, 'repo', 'oplog/a.seg', [2, 3], false, P);
      expect(segmentsTouching(db, 'repo', 1).size).toBe(0);
      expect([...segmentsTouching(db, 'repo', 2)]).toEqual(['oplog/a.seg']);
      expect([...segmentsTouching(db, 'repo', 3)]).toEqual(['oplog/a.seg']);
      expect(isSegmentIndexed(db, 'repo', 'oplog/a.seg', P)).toEqual({ commands: false });
    });
  });

  it('trusts a record only for the segment it was made of (the payload hash the catalog has)', () => {
    withIndex((db) => {
      recordSegmentIds(db, 'repo', 'oplog/a.seg', [1, 2], false, P);
      // The path written again with other entries (a capture started over, a repository put back).
      const other = 'b2'.repeat(32);
      expect(isSegmentIndexed(db, 'repo', 'oplog/a.seg', other)).toBeNull();
      recordSegmentIds(db, 'repo', 'oplog/a.seg', [3], false, other);
      expect(isSegmentIndexed(db, 'repo', 'oplog/a.seg', other)).toEqual({ commands: false });
      expect(isSegmentIndexed(db, 'repo', 'oplog/a.seg', P)).toBeNull();
      expect(segmentsTouching(db, 'repo', 1).size).toBe(0);
      expect([...segmentsTouching(db, 'repo', 3)]).toEqual(['oplog/a.seg']);
    });
  });

  it('never records nor trusts a segment of no known payload (one registered corrupt)', () => {
    withIndex((db) => {
      recordSegmentIds(db, 'repo', 'oplog/a.seg', [1], false, '');
      expect(isSegmentIndexed(db, 'repo', 'oplog/a.seg', '')).toBeNull();
      expect(rowsOf(db)).toEqual([]);
    });
  });

  it('migrates a v2, v3 or development v4 file: its views kept (none moved in place), its segment records dropped', () => {
    for (const version of [2, 3, 4]) {
      const path = fileIn();
      const v = openViewIndex(path);
      recordSegmentIds(v, 'repo', 'oplog/a.seg', [1, 2], false, P);
      v.close();
      // As v2 and v3 left it: no payload hash, no for_latest (and v2 no retired_sids); as a
      // development v4 left it: for_latest, and no payload hash.
      const old = new Database(path);
      old.exec(`
        ${version === 2 ? 'DROP TABLE retired_sids;' : ''}
        ${version === 4 ? '' : 'ALTER TABLE views DROP COLUMN for_latest;'}
        ALTER TABLE segments_indexed DROP COLUMN payload_sha256;
        INSERT INTO views (source_id, source_name, repository_id, snapshot_id, bound_t, bound_i, file, state,
          created_at, last_used_at) VALUES ('s1', 'rs', 'repo', 'snap', 10, 1, 'view-1.sqlite', 'ready', 'x', 'x');
      `);
      old.pragma(`user_version = ${version}`);
      old.close();
      withIndex((db) => {
        expect(db.pragma('user_version', { simple: true })).toBe(5);
        expect(listViews(db).map((r) => [r.file, r.for_latest])).toEqual([['view-1.sqlite', 0]]);
        // Records without a payload hash cannot say which segment they were made of: read again.
        expect(rowsOf(db)).toEqual([]);
        expect(isSegmentIndexed(db, 'repo', 'oplog/a.seg', P)).toBeNull();
        recordSegmentIds(db, 'repo', 'oplog/a.seg', [1], false, P);
        expect([...segmentsTouching(db, 'repo', 1)]).toEqual(['oplog/a.seg']);
      }, path);
    }
  });

  it('forgets deleted segments, and removes their rows once they are as many as the live ones', () => {
    withIndex((db) => {
      const paths = Array.from({ length: 200 }, (_, k) => `oplog/${String(k).padStart(3, '0')}.seg`);
      paths.forEach((p, k) => recordSegmentIds(db, 'repo', p, [k, 1000 + k], false, P));
      recordSegmentIds(db, 'other', paths[0]!, [0], false, P);
      // 90 gone: no longer indexed nor answered, their rows kept until garbage outweighs the rest.
      forgetSegments(db, 'repo', paths.slice(0, 90));
      expect(isSegmentIndexed(db, 'repo', paths[0]!, P)).toBeNull();
      expect(isSegmentIndexed(db, 'other', paths[0]!, P)).toEqual({ commands: false });
      expect([...segmentsTouching(db, 'repo', 5)]).toEqual([]);
      expect([...segmentsTouching(db, 'repo', 150)]).toEqual([paths[150]]);
      expect(rowsOf(db)).toHaveLength(401);
      // 10 more (100 retired, 101 live): still kept; 1 more: retired outnumber live, rows removed.
      forgetSegments(db, 'repo', paths.slice(90, 100));
      expect(rowsOf(db)).toHaveLength(401);
      forgetSegments(db, 'repo', [paths[100]!, 'oplog/never-indexed.seg']);
      expect(rowsOf(db)).toHaveLength(401 - 2 * 101);
      expect(db.prepare('SELECT count(*) FROM retired_sids').pluck().get()).toBe(0);
      expect([...segmentsTouching(db, 'repo', 1150)]).toEqual([paths[150]]);
      expect([...segmentsTouching(db, 'other', 0)]).toEqual([paths[0]]);
    });
  });

  it('retires the rows of a segment recorded again: a compaction removes them', () => {
    withIndex((db) => {
      // Hashes at both ends and beyond 48 bits (a crafted file): every range of the pass is covered.
      recordSegmentIds(db, 'repo', 'oplog/a.seg', [-5, 1, 2, 2 ** 47, 2 ** 48 - 1, 2 ** 53], false, P);
      recordSegmentIds(db, 'repo', 'oplog/a.seg', [2, 3], false, P);
      expect(rowsOf(db)).toHaveLength(8);
      expect(compactSegmentIds(db, true)).toBe(6);
      expect(rowsOf(db).map(([h]) => h)).toEqual([2, 3]);
      expect(compactSegmentIds(db, true)).toBe(0);
    });
  });

  it('refuses a file of a newer schema without changing it', () => {
    const path = fileIn();
    openViewIndex(path).close();
    const raw = new Database(path);
    raw.pragma('user_version = 9');
    raw.close();
    expect(() => openViewIndex(path)).toThrow(expect.objectContaining({ code: 'CATALOG_TOO_NEW' }));
    const again = new Database(path, { readonly: true });
    expect(again.pragma('user_version', { simple: true })).toBe(9);
    again.close();
  });
});

/** Runs `fn` on the index file at `path` (a new one by default), closed after. */
function withIndex(fn: (db: Database.Database) => void, path = fileIn()): void {
  const db = openViewIndex(path);
  try {
    fn(db);
  } finally {
    db.close();
  }
}

/** segment_ids as (hash, segment number) rows, in key order. */
function rowsOf(db: Database.Database): [number, number][] {
  return db.prepare('SELECT h, sid FROM segment_ids ORDER BY h, sid').raw().all() as [number, number][];
}

describe('the view cache forgetting segments', () => {
  it('does not create a cache that was never opened', () => {
    const path = fileIn();
    const cache = new ViewCache(dirname(path));
    cache.forgetSegments('repo', ['oplog/a.seg']);
    cache.close();
    expect(existsSync(dirname(path))).toBe(false);
  });

  it('keeps reading when a segment cannot be recorded: the segment stays unindexed, nothing half-written', () => {
    const path = fileIn();
    const db = openViewIndex(path);
    recordSegmentIds(db, 'repo', 'oplog/a.seg', [1], false, P);
    // A file that refuses the second record's rows (as a busy or full disk would refuse them).
    db.exec(
      `CREATE TRIGGER refuse BEFORE INSERT ON segment_ids WHEN NEW.h = 99 BEGIN SELECT RAISE(ABORT, 'no'); END`,
    );
    db.close();
    const cache = new ViewCache(dirname(path));
    try {
      expect(() => cache.recordSegment('repo', 'oplog/b.seg', [2, 99], false, P)).not.toThrow();
      expect(cache.segmentIndexed('repo', 'oplog/b.seg', P)).toBeNull();
      expect([...cache.segmentsTouching('repo', 2)]).toEqual([]);
      expect([...cache.segmentsTouching('repo', 1)]).toEqual(['oplog/a.seg']);
    } finally {
      cache.close();
    }
  });

  it('drops the row of a build that died, not that of a build under way', () => {
    const path = fileIn();
    const db = openViewIndex(path);
    const add = (id: number, createdAt: string) =>
      db
        .prepare(
          `INSERT INTO views (id, source_id, source_name, repository_id, snapshot_id, bound_t, bound_i, file,
             state, created_at, last_used_at) VALUES (?, 's1', 'rs', 'repo', 'snap', 10, ?, ?, 'building', ?, ?)`,
        )
        .run(id, id, `view-${id}.sqlite`, createdAt, createdAt);
    const old = new Date(Date.now() - 3_600_000).toISOString();
    add(1, old); // its process died (or its failure could not delete it): no temporary file
    add(2, old); // a long build of this process: its temporary file is there
    add(3, new Date().toISOString()); // just inserted, its file not created yet
    db.close();
    writeFileSync(join(dirname(path), `.tmp-view-2-${process.pid}.sqlite`), '');
    const cache = new ViewCache(dirname(path));
    try {
      expect(
        cache
          .list()
          .map((r) => r.id)
          .sort(),
      ).toEqual([2, 3]);
    } finally {
      cache.close();
    }
    expect(readdirSync(dirname(path))).toContain(`.tmp-view-2-${process.pid}.sqlite`);
  });
});

describe('a damaged view index', () => {
  it('is kept aside as views.sqlite.damaged, and the cache starts again without the view files it named', () => {
    const path = fileIn();
    mkdirSync(dirname(path), { recursive: true });
    const garbage = Buffer.alloc(8192, 0x41);
    writeFileSync(path, garbage);
    const orphan = join(dirname(path), 'view-3.sqlite');
    writeFileSync(orphan, 'a view the damaged index named');
    const other = join(dirname(path), 'notes.txt');
    writeFileSync(other, 'not the cache');
    const cache = new ViewCache(dirname(path));
    try {
      expect(cache.list()).toEqual([]);
      expect(cache.segmentIndexed('repo', 'oplog/a.seg', P)).toBeNull();
      cache.recordSegment('repo', 'oplog/a.seg', [1], false, P);
      expect([...cache.segmentsTouching('repo', 1)]).toEqual(['oplog/a.seg']);
    } finally {
      cache.close();
    }
    expect(readFileSync(`${path}.damaged`)).toEqual(garbage);
    expect(existsSync(orphan)).toBe(false);
    expect(existsSync(other)).toBe(true);
  });
});

describe('a crafted view row', () => {
  it('naming a file outside the cache is never read nor removed: the row is dropped as damaged', () => {
    const path = fileIn();
    const dir = dirname(path);
    const cache = new ViewCache(dir);
    try {
      const victim = join(dir, '..', 'victim.txt');
      writeFileSync(victim, 'outside the cache');
      const victim2 = join(dir, '..', 'victim2.txt');
      writeFileSync(victim2, 'outside the cache too');
      const db = openViewIndex(path);
      for (const [id, file] of [
        [1, '../victim.txt'],
        [2, `../../${dirname(dir).split('/').pop()}/victim2.txt`],
      ] as const)
        db.prepare(
          `INSERT INTO views (id, source_id, source_name, repository_id, snapshot_id, bound_t, bound_i, file, state,
             bytes, file_mtime_ms, created_at, last_used_at)
           VALUES (?, 's1', 'rs', 'repo', 'snap', ?, 1, ?, 'ready', 17, 0, 'x', 'x')`,
        ).run(id, 10 + id, file);
      db.close();
      // Looking the point up finds the row untrusted (no file of the cache's): discarded, nothing read.
      expect(cache.existing('s1', 'snap', { t: 11, i: 1 })).toBeUndefined();
      expect(cache.get(1)).toBeUndefined();
      cache.drop(2);
      expect(cache.list()).toEqual([]);
      expect(readFileSync(victim, 'utf8')).toBe('outside the cache');
      expect(readFileSync(victim2, 'utf8')).toBe('outside the cache too');
    } finally {
      cache.close();
    }
  });
});
