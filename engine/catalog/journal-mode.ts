/**
 * The journal mode of a build's connection (a view file, its temporary schema, a doc stage),
 * set and checked.
 */
import type Database from 'better-sqlite3';
import { ApiError } from '../errors.js';

/**
 * Sets the build connection's journal mode and checks that SQLite took it. `off` needs
 * better-sqlite3's unsafe mode for the one pragma: the library turns on SQLite's defensive flag,
 * under which `journal_mode = OFF` is ignored without an error (the mode stays `delete`). Until
 * this was checked, every build wrote a rollback journal of each page it changed: about half of
 * SQLite's write calls while moving a view forward.
 */
export function setJournal(
  db: Database.Database,
  mode: 'off' | 'memory',
  schema: 'main' | 'temp' = 'main',
): void {
  db.unsafeMode(true);
  try {
    const now = db.pragma(`${schema}.journal_mode = ${mode.toUpperCase()}`, { simple: true });
    if (now !== mode)
      throw new ApiError('INTERNAL', `View file: ${schema} journal_mode stayed ${String(now)}, not ${mode}.`);
  } finally {
    db.unsafeMode(false);
  }
}
