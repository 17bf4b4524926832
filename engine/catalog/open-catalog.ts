/**
 * Opens (or creates) the SQLite catalog and brings its schema up to date.
 * The catalog is an index over the repository (DESIGN.md rule 5), so WAL
 * mode with synchronous=NORMAL is enough: a lost last transaction is
 * re-registered from the repository on the next start.
 */
import Database from 'better-sqlite3';
import { dirname } from 'node:path';
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
