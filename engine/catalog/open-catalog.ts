/**
 * Opens (or creates) the SQLite catalog and brings its schema up to date.
 * The catalog is an index over the repository (DESIGN.md rule 5), so WAL
 * mode with synchronous=NORMAL is enough: a lost last transaction is
 * re-registered from the repository on the next start.
 */
import Database from 'better-sqlite3';
import { existsSync, renameSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ownerOnlyDir, ownerOnlyFile, ownerOnlyIfPresent } from '../owner-only.js';
import { ApiError } from '../errors.js';
import { LATEST_SCHEMA_VERSION, migrations, type Migration } from './migrations.js';

export type CatalogDb = Database.Database;

export interface OpenCatalogResult {
  db: CatalogDb;
  schemaVersion: number;
  applied: number[];
}

export function openCatalog(path: string, available: readonly Migration[] = migrations): OpenCatalogResult {
  // Owner-only before SQLite opens it: the -wal and -shm it creates copy the database file's mode.
  ownerOnlyDir(dirname(path));
  ownerOnlyFile(path);
  for (const side of ['-wal', '-shm', '-journal']) ownerOnlyIfPresent(`${path}${side}`);
  const db = new Database(path);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    const applied = migrate(db, available);
    return { db, schemaVersion: currentVersion(db), applied };
  } catch (err) {
    db.close();
    throw err;
  }
}

/** SQLite's own words for "this is not a database" and "this database is damaged". */
const DAMAGED = new Set(['SQLITE_NOTADB', 'SQLITE_CORRUPT']);

export interface SetAside {
  /** Where the damaged catalog now is. */
  path: string;
  reason: string;
  /** Repository paths read from the damaged catalog, when it still yielded them. */
  repositoryPaths: string[];
}

/** Throws CORRUPT when the catalog is damaged (not a SQLite file, or fails `quick_check`). */
function checkIntact(db: CatalogDb): void {
  const rows = db.pragma('quick_check') as { quick_check: string }[];
  if (rows.length !== 1 || rows[0]!.quick_check !== 'ok')
    throw Object.assign(new Error(rows.map((r) => r.quick_check).join('; ')), { code: 'SQLITE_CORRUPT' });
}

/**
 * Opens the catalog; one that is damaged is set aside (renamed `catalog.sqlite.corrupt-<time>`,
 * with its -wal and -shm) and a new one created in its place, to be rebuilt from the repositories
 * (DESIGN.md rule 5): the catalog is only an index, and a damaged index must not stop every
 * command. `check` runs SQLite's quick_check too (long-lived engines, at start-up). Only the
 * engine holding the data dir's writer lock may do this.
 */
export function openCatalogOrSetAside(
  path: string,
  opts: { check: boolean },
): OpenCatalogResult & { setAside: SetAside | null } {
  try {
    const opened = openCatalog(path);
    try {
      if (opts.check) checkIntact(opened.db);
    } catch (err) {
      opened.db.close();
      throw err;
    }
    return { ...opened, setAside: null };
  } catch (err) {
    const code = (err as { code?: string }).code ?? '';
    if (!DAMAGED.has(code)) throw err;
    const repositoryPaths = salvageRepositoryPaths(path);
    const stamp = new Date().toISOString().replace(/[-:.]/g, '');
    const aside = join(dirname(path), `${basename(path)}.corrupt-${stamp}`);
    for (const suffix of ['', '-wal', '-shm'])
      if (existsSync(path + suffix)) renameSync(path + suffix, aside + suffix);
    return {
      ...openCatalog(path),
      setAside: { path: aside, reason: `${code}: ${(err as Error).message}`, repositoryPaths },
    };
  }
}

function salvageRepositoryPaths(path: string): string[] {
  try {
    const db = new Database(path, { readonly: true, fileMustExist: true });
    try {
      return db.prepare('SELECT path FROM repositories').pluck().all() as string[];
    } finally {
      db.close();
    }
  } catch {
    return [];
  }
}

function currentVersion(db: CatalogDb): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/** Applies pending migrations; refuses, without writing, a catalog from a newer version. */
export function migrate(db: CatalogDb, available: readonly Migration[] = migrations): number[] {
  const latest = available.length ? available[available.length - 1]!.version : 0;
  const version = currentVersion(db);
  if (version > latest) {
    throw new ApiError(
      'CATALOG_TOO_NEW',
      `The catalog was written by a newer version of this app (schema ${version}; this version knows up to ${latest}). ` +
        'Upgrade the app, or rebuild the catalog from the repository with a matching version. The catalog was not modified.',
      { catalogSchemaVersion: version, supportedSchemaVersion: latest },
    );
  }
  const applied: number[] = [];
  for (const m of available) {
    if (m.version <= version) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(
        m.version,
        m.name,
        new Date().toISOString(),
      );
      db.pragma(`user_version = ${m.version}`);
    })();
    applied.push(m.version);
  }
  return applied;
}

export { LATEST_SCHEMA_VERSION };
