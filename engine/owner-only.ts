/**
 * The data dir holds the catalog (source settings, sealed secrets, the audit
 * log) and the desktop's keychain blobs: only its owner may read it. New
 * directories are made 0700 and files 0600; ones that an older version (or
 * the umask) left open to others are tightened when opened. POSIX only: on
 * Windows the per-user profile folder's ACL already does this.
 */
import { chmodSync, closeSync, mkdirSync, openSync, statSync } from 'node:fs';

const posix = process.platform !== 'win32';

function tighten(path: string, mode: number): void {
  let st;
  try {
    st = statSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  // Only our own: a data dir given as a shared folder is not re-moded behind its owner's back.
  if ((st.mode & 0o777) !== mode && st.uid === process.getuid?.()) chmodSync(path, mode);
}

export function ownerOnlyDir(path: string): void {
  mkdirSync(path, { recursive: true, mode: 0o700 });
  if (posix) tighten(path, 0o700);
}

/** Creates the file empty if it does not exist, 0600 either way (SQLite gives its -wal and -shm the same mode). */
export function ownerOnlyFile(path: string): void {
  closeSync(openSync(path, 'a', 0o600));
  if (posix) tighten(path, 0o600);
}

/** Tightens a file only if it exists. */
export function ownerOnlyIfPresent(path: string): void {
  if (posix) tighten(path, 0o600);
}

/** True when a group or other users may read or write the file (POSIX); false on Windows. */
export function openToOthers(path: string): boolean {
  return posix && (statSync(path).mode & 0o077) !== 0;
}
