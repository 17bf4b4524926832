/**
 * Retention locks live in the repository (it is the truth) as small JSON
 * files: sources/<id>/locks/snapshot-<snapshotId>.json or
 * segment-<file name>.json. A lock can be extended, never shortened.
 *
 * Version 2 locks carry an integrity value over their JSON: HMAC-SHA256 under
 * a subkey of the data key in an encrypted repository (so a lock cannot be
 * edited without the passphrase), SHA-256 otherwise (damage only). What a
 * lock holds and for which source comes from its place (directory and file
 * name); a file whose contents disagree is CORRUPT. A lock that is CORRUPT
 * holds its target for ever, so damage never releases anything. Version-1
 * locks (no integrity) are still honoured as written: a lock can only hold
 * data, the catalog never shortens a lock because of a file, and removing the
 * file would release as much as editing it, so accepting them gives an
 * attacker nothing more.
 */
import { createHash } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ApiError } from '../errors.js';
import { sameMac } from './crypto.js';
import { writeFileDurable } from './durable-file.js';
import { readRepoFile } from './repo-file.js';
import type { Repository } from './repository.js';

export type LockKind = 'snapshot' | 'segment';

export const LOCK_FORMAT_VERSION = 2;
const MAX_LOCK_BYTES = 64 * 1024;
const LOCK_MAC_PURPOSE = 'mbm-lock-mac';

export interface RetentionLock {
  type: 'retention-lock';
  /** 2 for locks with `integrity`; absent in version-1 locks. */
  formatVersion?: number;
  kind: LockKind;
  sourceId: string;
  /** Snapshot id, or the segment's path relative to the repository. */
  target: string;
  until: string;
  reason: string;
  createdAt: string;
  integrity?: { algorithm: 'sha256' | 'hmac-sha256'; value: string };
}

export interface ReadLock extends RetentionLock {
  /** The MAC was checked with the key (an encrypted repository, unlocked, a version-2 lock). */
  authenticated: boolean;
}

export const FOREVER = '9999-12-31T23:59:59.999Z';

const lockName = (kind: LockKind, target: string) =>
  `${kind}-${
    kind === 'segment'
      ? target
          .split('/')
          .pop()!
          .replace(/\.seg$/, '')
      : target
  }.json`;

function integrityOf(repo: Repository, body: RetentionLock): NonNullable<RetentionLock['integrity']> {
  const text = JSON.stringify({ ...body, integrity: undefined });
  const mac = repo.encrypted ? repo.macFor(LOCK_MAC_PURPOSE, text) : null;
  return mac
    ? { algorithm: 'hmac-sha256', value: mac }
    : { algorithm: 'sha256', value: createHash('sha256').update(text).digest('hex') };
}

export async function writeLockFile(
  repo: Repository,
  lock: Omit<RetentionLock, 'type' | 'formatVersion' | 'integrity'>,
): Promise<RetentionLock> {
  const body: RetentionLock = { type: 'retention-lock', formatVersion: LOCK_FORMAT_VERSION, ...lock };
  const sealed = { ...body, integrity: integrityOf(repo, body) };
  await writeFileDurable(join(repo.locksDir(lock.sourceId), lockName(lock.kind, lock.target)), [
    Buffer.from(`${JSON.stringify(sealed, null, 2)}\n`),
  ]);
  return sealed;
}

/** Kind and target as the file's name says (its place), or null for a name that is not a lock's. */
function fromName(
  repo: Repository,
  sourceId: string,
  name: string,
): { kind: LockKind; target: string } | null {
  const m = /^(snapshot|segment)-(.+)\.json$/.exec(name);
  if (!m) return null;
  if (m[1] === 'snapshot') return /^[\w-]+$/.test(m[2]!) ? { kind: 'snapshot', target: m[2]! } : null;
  const seg = /^(\d+)-(\d+)_(\d+)-(\d+)$/.exec(m[2]!);
  if (!seg) return null;
  return {
    kind: 'segment',
    target: repo.segmentRelPath(
      sourceId,
      { t: Number(seg[1]), i: Number(seg[2]) },
      { t: Number(seg[3]), i: Number(seg[4]) },
    ),
  };
}

/** Reads and checks one lock file: CORRUPT when damaged, edited, unauthenticated or out of place. */
export async function readLockFile(repo: Repository, sourceId: string, name: string): Promise<ReadLock> {
  const rel = join('sources', sourceId, 'locks', name);
  const corrupt = (why: string) => new ApiError('CORRUPT', `${rel}: ${why}`);
  const place = fromName(repo, sourceId, name);
  if (!place) throw corrupt('not the name of a lock file.');
  let l: RetentionLock;
  try {
    l = JSON.parse(
      (await readRepoFile(join(repo.locksDir(sourceId), name), MAX_LOCK_BYTES)).toString('utf8'),
    );
  } catch (err) {
    if (err instanceof ApiError || (err as NodeJS.ErrnoException).code === 'ENOENT') throw err;
    throw corrupt('not valid JSON.');
  }
  if (l?.type !== 'retention-lock') throw corrupt('not a retention lock.');
  if (l.kind !== place.kind || l.sourceId !== sourceId || l.target !== place.target)
    throw corrupt(
      `says it locks ${String(l.kind)} ${String(l.target)} of source ${String(l.sourceId)}, not what its place says.`,
    );
  if (typeof l.until !== 'string' || Number.isNaN(Date.parse(l.until))) throw corrupt('until is not a date.');
  if (l.formatVersion === undefined) {
    if (l.integrity !== undefined) throw corrupt('a version-1 lock cannot carry integrity.');
    return { ...l, authenticated: false };
  }
  if (l.formatVersion !== LOCK_FORMAT_VERSION)
    throw corrupt(`lock format ${String(l.formatVersion)} is unknown.`);
  if (!l.integrity || typeof l.integrity.value !== 'string') throw corrupt('has no MAC.');
  const wanted = repo.encrypted ? 'hmac-sha256' : 'sha256';
  if (l.integrity.algorithm !== wanted) throw corrupt(`integrity must be ${wanted} in this repository.`);
  // The MAC needs the key: while locked the lock is honoured as written (it can only hold data).
  if (wanted === 'hmac-sha256' && !repo.unlocked) return { ...l, authenticated: false };
  if (!sameMac(integrityOf(repo, l).value, l.integrity.value))
    throw corrupt(repo.encrypted ? 'MAC mismatch (edited without the key).' : 'checksum mismatch.');
  return { ...l, authenticated: repo.encrypted };
}

/**
 * Every lock of a source. A lock file that is CORRUPT must not release
 * anything: it holds the target its name gives for ever (until rewritten),
 * and is reported in `problems`.
 */
export async function readLockFiles(
  repo: Repository,
  sourceId: string,
  problems?: { path: string; error: string }[],
): Promise<RetentionLock[]> {
  let names: string[];
  try {
    names = await readdir(repo.locksDir(sourceId));
  } catch {
    return [];
  }
  const out: RetentionLock[] = [];
  for (const n of names.filter((x) => x.endsWith('.json'))) {
    try {
      out.push(await readLockFile(repo, sourceId, n));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // removed meanwhile
      problems?.push({ path: join('sources', sourceId, 'locks', n), error: (err as Error).message });
      const place = fromName(repo, sourceId, n);
      if (place) {
        out.push({
          type: 'retention-lock',
          ...place,
          sourceId,
          until: FOREVER,
          reason: `damaged lock file ${n}`,
          createdAt: new Date(0).toISOString(),
        });
      }
    }
  }
  return out;
}
