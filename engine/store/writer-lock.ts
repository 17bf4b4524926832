/**
 * One writing engine per data directory and per repository. Two engines
 * writing the same place would capture the same source twice, run schedulers
 * and retention twice, and remove each other's temporaries at start-up.
 *
 * Node has no flock(), so the OS-level lock is SQLite's: `engine.lock` is an
 * empty SQLite database held in `BEGIN EXCLUSIVE` with `locking_mode =
 * EXCLUSIVE` for as long as the engine runs. SQLite takes it with POSIX
 * advisory locks (LockFileEx on Windows), which the kernel drops when the
 * process ends in any way, SIGKILL and power loss included, and which also
 * exclude a second connection inside the same process. So a lock left by a
 * dead process is never "held": taking it over needs no guessing from pids
 * or clocks, and two contenders can never both win. This is why it is
 * preferred to a pid file with O_EXCL (a reused pid or a crash during
 * takeover leaves it wrong) and to `proper-lockfile` (mtime heartbeats, so
 * staleness is a timeout). better-sqlite3 is already a dependency.
 *
 * `engine.lock.json` beside it names the holder (pid, host, mode, since) so
 * that a refused engine can say who holds the place. It is written after the
 * lock is taken and removed on release; one left behind names a dead holder,
 * which the next engine reports as a stale lock it took over.
 */
import Database from 'better-sqlite3';
import { readFileSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { ApiError } from '../errors.js';
import { ensureDirDurable, writeFileDurableSync } from '../repo/durable-file.js';

export const LOCK_FILE = 'engine.lock';
export const LOCK_HOLDER_FILE = 'engine.lock.json';

/** The lock and its companions (holder, SQLite journal): per place, never copied or verified. */
export const isWriterLockFile = (name: string): boolean => name.startsWith(LOCK_FILE);

export interface LockHolder {
  pid: number;
  host: string;
  mode: string;
  since: string;
}

function readHolder(dir: string): LockHolder | null {
  try {
    const h = JSON.parse(readFileSync(join(dir, LOCK_HOLDER_FILE), 'utf8')) as LockHolder;
    return typeof h.pid === 'number' && typeof h.host === 'string' ? h : null;
  } catch {
    return null;
  }
}

const describeHolder = (h: LockHolder | null) =>
  h ? `pid ${h.pid} on ${h.host} (${h.mode}), since ${h.since}` : 'another engine (it has not said who yet)';

export class WriterLock {
  private constructor(
    readonly dir: string,
    private readonly db: Database.Database,
    readonly holder: LockHolder,
    /** The holder named by a lock file left behind by a process that has ended. */
    readonly tookOverFrom: LockHolder | null,
  ) {}

  /**
   * Takes the lock of `dir` (a data directory or a repository) or throws CONFLICT naming the
   * holder. `what` names the place in the message ("the data directory /x").
   */
  static acquire(dir: string, what: string, mode: string): WriterLock {
    ensureDirDurable(dir);
    // An empty database of its own, never the catalog: no SQL runs on it, it is only held.
    const lockDb = new Database(join(dir, LOCK_FILE), { timeout: 0 });
    try {
      lockDb.pragma('locking_mode = EXCLUSIVE');
      lockDb.exec('BEGIN EXCLUSIVE');
    } catch (err) {
      lockDb.close();
      if ((err as { code?: string }).code !== 'SQLITE_BUSY') throw err;
      const holder = readHolder(dir);
      throw new ApiError(
        'CONFLICT',
        `${what} is in use by another engine: ${describeHolder(holder)}. Only one engine writes to it at a time; ` +
          'stop that one first, or use read-only commands (status, info, list, plan, queries) alongside it.',
        { path: dir, holder },
      );
    }
    const stale = readHolder(dir);
    const holder: LockHolder = { pid: process.pid, host: hostname(), mode, since: new Date().toISOString() };
    try {
      writeFileDurableSync(join(dir, LOCK_HOLDER_FILE), `${JSON.stringify(holder)}\n`);
    } catch (err) {
      lockDb.close();
      throw err;
    }
    return new WriterLock(dir, lockDb, holder, stale);
  }

  /** Releases the lock (the holder file first, so nobody reads us as holder of a lock we dropped). */
  release(): void {
    if (!this.db.open) return;
    rmSync(join(this.dir, LOCK_HOLDER_FILE), { force: true });
    this.db.close();
  }
}
