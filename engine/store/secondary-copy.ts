/**
 * Secondary copy: mirrors a repository's durable files into a second
 * directory (a NAS mount, a removable disk). Each file is copied to a
 * temporary name, fsynced, renamed, then read back and compared by SHA-256
 * with the source before the catalog records it. Interrupted runs resume:
 * recorded files are skipped, and a file already present at the target is
 * accepted only if its checksum matches. Snapshot manifests are copied after
 * their data files, so an interrupted copy never holds a manifest whose data
 * is incomplete.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { ApiError } from '../errors.js';
import type { CatalogDb } from '../catalog/open-catalog.js';
import {
  copiedFiles,
  copyRecorder,
  insertCopyTarget,
  recordCopyRun,
  type CopyTargetRow,
} from '../catalog/copy-targets.js';
import type { TaskContext } from '../tasks/task-runner.js';
import { DurableFile, isTempName, removeTemporaries } from '../repo/durable-file.js';
import { openRepoFile } from '../repo/repo-file.js';
import { isWriterLockFile } from './writer-lock.js';
import { REPOSITORY_FILE, type Repository } from '../repo/repository.js';
import { MANIFEST_FILE, fileSha256 } from '../repo/snapshot-files.js';

export type { CopyTargetRow };

export function addCopyTarget(db: CatalogDb, repo: Repository, path: string): CopyTargetRow {
  const abs = resolve(path);
  if (abs === repo.root || abs.startsWith(`${repo.root}/`)) {
    throw new ApiError('INVALID_INPUT', 'The secondary copy must be outside the repository.');
  }
  return insertCopyTarget(db, repo.id, abs);
}

/**
 * Durable files of the repository in copy order: config, sources, locks,
 * segments, snapshot data, manifests last (not the capture journal). Only regular files and real
 * directories are taken: a symbolic link (to /etc/passwd, to a directory
 * elsewhere) or a device is never followed and is listed in `skipped`, so it
 * shows as a failed file of the run instead of carrying outside data.
 */
async function filesToCopy(repo: Repository): Promise<{ files: string[]; skipped: string[] }> {
  const out: string[] = [];
  const manifests: string[] = [];
  const skipped: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    const entries = await readdir(repo.abs(rel), { withFileTypes: true }).catch(() => []);
    for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (isTempName(e.name) || (!rel && isWriterLockFile(e.name))) continue; // the lock belongs to this place
      const p = rel ? join(rel, e.name) : e.name;
      // The capture journal changes while it is copied and is gone seconds later: its entries
      // reach the copy as the segments they are sealed into.
      if (e.isDirectory() && e.name === 'journal' && /^sources[\\/][^\\/]+$/.test(rel)) continue;
      if (e.isDirectory()) await walk(p);
      else if (!e.isFile()) skipped.push(p);
      else if (e.name === MANIFEST_FILE) manifests.push(p);
      else out.push(p);
    }
  };
  await walk('');
  // repository.json first, so a partial copy is recognisable as a repository.
  out.sort((a, b) => (a === REPOSITORY_FILE ? -1 : b === REPOSITORY_FILE ? 1 : 0));
  return { files: [...out, ...manifests], skipped };
}

/** Copies one file; returns the source checksum after verifying the copy against it. */
async function copyVerified(src: string, dst: string): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  const out = await DurableFile.create(dst);
  try {
    // No symbolic link even if one replaced the file after the listing.
    const fh = await openRepoFile(src);
    try {
      for await (const chunk of fh.createReadStream({ highWaterMark: 1 << 20 })) {
        hash.update(chunk as Buffer);
        await out.write([chunk as Buffer]);
      }
    } finally {
      await fh.close();
    }
    await out.commit();
  } catch (err) {
    await out.abort();
    throw err;
  }
  const sha256 = hash.digest('hex');
  const written = await fileSha256(dst);
  if (written !== sha256)
    throw new ApiError(
      'CORRUPT',
      `Copy of ${src} does not match after writing (target storage is unreliable).`,
    );
  return { sha256, bytes: out.bytes };
}

export interface CopyReport {
  targetId: string;
  path: string;
  copied: number;
  alreadyPresent: number;
  bytesCopied: number;
  failed: { path: string; error: string }[];
}

export async function runSecondaryCopy(
  db: CatalogDb,
  repo: Repository,
  target: CopyTargetRow,
  ctx?: TaskContext,
  /** Test hook: called before each file; throwing simulates an interruption. */
  beforeFile?: (rel: string, index: number) => void,
): Promise<CopyReport> {
  const report: CopyReport = {
    targetId: target.id,
    path: target.path,
    copied: 0,
    alreadyPresent: 0,
    bytesCopied: 0,
    failed: [],
  };
  if (!existsSync(dirname(target.path))) {
    throw new ApiError(
      'UNAVAILABLE',
      `The secondary copy location ${dirname(target.path)} is not mounted or does not exist.`,
    );
  }
  await removeTemporaries(target.path);
  const recorded = copiedFiles(db, target.id);
  const listed = await filesToCopy(repo);
  for (const p of listed.skipped)
    report.failed.push({ path: p, error: 'not a regular file (a symbolic link or a device): not copied' });
  const files = listed.files.filter((f) => !recorded.has(f) || f === REPOSITORY_FILE);
  const record = copyRecorder(db);
  let index = 0;
  try {
    for (const rel of files) {
      ctx?.throwIfCancelled();
      beforeFile?.(rel, index++);
      const src = repo.abs(rel);
      const dst = join(target.path, rel);
      try {
        const srcSha = await fileSha256(src);
        if (existsSync(dst) && (await fileSha256(dst)) === srcSha) {
          report.alreadyPresent++;
          record(target.id, rel, srcSha, 0);
          continue;
        }
        const { sha256, bytes } = await copyVerified(src, dst);
        record(target.id, rel, sha256, bytes);
        report.copied++;
        report.bytesCopied += bytes;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT' && !existsSync(src)) continue; // deleted meanwhile
        if ((err as NodeJS.ErrnoException).code === 'ENOSPC')
          throw new ApiError('UNAVAILABLE', `The secondary copy location is full (${target.path}).`);
        report.failed.push({ path: rel, error: (err as Error).message });
      }
      ctx?.progress({
        done: index,
        total: files.length,
        unit: 'files',
        message: `Copying to ${target.path}`,
      });
    }
    recordCopyRun(db, target.id, report.failed.length ? `${report.failed.length} file(s) failed` : null);
  } catch (err) {
    recordCopyRun(db, target.id, (err as Error).message);
    throw err;
  }
  return report;
}
