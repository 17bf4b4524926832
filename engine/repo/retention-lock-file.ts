/**
 * Retention locks live in the repository (it is the truth) as small JSON
 * files: sources/<id>/locks/snapshot-<snapshotId>.json or
 * segment-<file name>.json. A lock can be extended, never shortened.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileDurable } from './durable-file.js';
import type { Repository } from './repository.js';

export type LockKind = 'snapshot' | 'segment';

export interface RetentionLock {
  type: 'retention-lock';
  kind: LockKind;
  sourceId: string;
  /** Snapshot id, or the segment's path relative to the repository. */
  target: string;
  until: string;
  reason: string;
  createdAt: string;
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

export async function writeLockFile(
  repo: Repository,
  lock: Omit<RetentionLock, 'type'>,
): Promise<RetentionLock> {
  const body: RetentionLock = { type: 'retention-lock', ...lock };
  await writeFileDurable(join(repo.locksDir(lock.sourceId), lockName(lock.kind, lock.target)), [
    Buffer.from(`${JSON.stringify(body, null, 2)}\n`),
  ]);
  return body;
}

export async function readLockFiles(repo: Repository, sourceId: string): Promise<RetentionLock[]> {
  let names: string[];
  try {
    names = await readdir(repo.locksDir(sourceId));
  } catch {
    return [];
  }
  const out: RetentionLock[] = [];
  for (const n of names.filter((x) => x.endsWith('.json'))) {
    try {
      const l = JSON.parse(await readFile(join(repo.locksDir(sourceId), n), 'utf8')) as RetentionLock;
      if (l.type === 'retention-lock') out.push(l);
    } catch {
      // A damaged lock file must not release anything: treat it as locked for ever (until rewritten).
      const m = /^(snapshot|segment)-(.+)\.json$/.exec(n);
      const seg = m?.[1] === 'segment' ? /^(\d+)-(\d+)_(\d+)-(\d+)$/.exec(m[2]!) : null;
      if (m?.[1] === 'snapshot' || seg) {
        out.push({
          type: 'retention-lock',
          kind: m![1] as LockKind,
          sourceId,
          target: seg
            ? repo.segmentRelPath(
                sourceId,
                { t: Number(seg[1]), i: Number(seg[2]) },
                { t: Number(seg[3]), i: Number(seg[4]) },
              )
            : m![2]!,
          until: FOREVER,
          reason: `damaged lock file ${n}`,
          createdAt: new Date(0).toISOString(),
        });
      }
    }
  }
  return out;
}
