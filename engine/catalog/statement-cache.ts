/**
 * Prepared statements kept per catalog connection, for the few that run
 * several times a second while capture runs (the journal tail at every group
 * commit): better-sqlite3's `prepare` compiles the SQL each time it is
 * called. Only for statements used as they are (no `.pluck()` / `.raw()`,
 * which change a statement for every later caller).
 */
import type { Statement } from 'better-sqlite3';
import type { CatalogDb } from './open-catalog.js';

const cache = new WeakMap<CatalogDb, Map<string, Statement>>();

export function cachedStatement(db: CatalogDb, sql: string): Statement {
  let byDb = cache.get(db);
  if (!byDb) cache.set(db, (byDb = new Map()));
  let s = byDb.get(sql);
  if (!s) byDb.set(sql, (s = db.prepare(sql)));
  return s;
}
