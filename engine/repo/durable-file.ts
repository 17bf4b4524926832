/**
 * Crash-safe file writes (DESIGN.md rule 4): write to a temporary name in the
 * same directory, fsync, rename over the final name, fsync the directory. A
 * reader (or the start-up scan) therefore sees either nothing or the whole
 * file; temporaries left by a crash are recognised by their marker and removed.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { open, readdir, rename, rm, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export const TEMP_MARKER = '.tmp-';
export const isTempName = (name: string): boolean => name.includes(TEMP_MARKER);

export function fsyncDir(dir: string): void {
  // Windows cannot open directories for fsync; NTFS metadata is journaled there.
  if (process.platform === 'win32') return;
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** mkdir -p that also makes the new directory entries durable. */
export function ensureDirDurable(dir: string): void {
  const created = mkdirSync(dir, { recursive: true });
  if (created === undefined) return;
  // fsync every directory from the first created one's parent downwards.
  let d = dir;
  const chain: string[] = [];
  while (d.length >= created.length) {
    chain.unshift(d);
    d = dirname(d);
  }
  fsyncDir(dirname(created));
  for (const c of chain) fsyncDir(c);
}

/**
 * The file-system calls a durable write makes. A repository carries one (`Repository.io`) so that
 * tests can make writes fail the way a full or read-only disk does (ENOSPC, EROFS) where no small
 * file system can be mounted; production always uses NODE_IO.
 */
export interface FileIo {
  open(path: string, flags: 'wx', mode: number): Promise<FileHandle>;
  rename(from: string, to: string): Promise<void>;
}
export const NODE_IO: FileIo = { open, rename };

/** Temporaries this process is writing now: start-up cleanup never removes these. */
const inFlight = new Set<string>();

export class DurableFile {
  private constructor(
    readonly path: string,
    readonly tempPath: string,
    private readonly fh: FileHandle,
    private readonly io: FileIo,
  ) {}

  bytes = 0;

  static async create(path: string, io: FileIo = NODE_IO): Promise<DurableFile> {
    ensureDirDurable(dirname(path));
    const tempPath = join(
      dirname(path),
      `${basename(path)}${TEMP_MARKER}${process.pid}-${randomBytes(4).toString('hex')}`,
    );
    const fh = await io.open(tempPath, 'wx', 0o600);
    inFlight.add(tempPath);
    return new DurableFile(path, tempPath, fh, io);
  }

  async write(parts: readonly Uint8Array[]): Promise<void> {
    if (parts.length === 0) return;
    const { bytesWritten } = await this.fh.writev(parts as Uint8Array[]);
    const expected = parts.reduce((n, p) => n + p.byteLength, 0);
    if (bytesWritten !== expected) {
      // writev may write partially (e.g. a signal); finish the rest.
      let skip = bytesWritten;
      for (const p of parts) {
        if (skip >= p.byteLength) {
          skip -= p.byteLength;
          continue;
        }
        await this.fh.write(p.subarray(skip));
        skip = 0;
      }
    }
    this.bytes += expected;
  }

  /** fsync, rename into place, fsync the directory. After this the file is durable. */
  async commit(): Promise<void> {
    await this.fh.sync();
    await this.fh.close();
    await this.io.rename(this.tempPath, this.path);
    inFlight.delete(this.tempPath);
    fsyncDir(dirname(this.path));
  }

  async abort(): Promise<void> {
    await this.fh.close().catch(() => {});
    await unlink(this.tempPath).catch(() => {});
    inFlight.delete(this.tempPath);
  }
}

export async function writeFileDurable(
  path: string,
  parts: readonly Uint8Array[],
  io: FileIo = NODE_IO,
): Promise<number> {
  const f = await DurableFile.create(path, io);
  try {
    await f.write(parts);
    await f.commit();
    return f.bytes;
  } catch (err) {
    await f.abort();
    throw err;
  }
}

/**
 * The same (temp 0600, fsync, rename, fsync the directory) for small files
 * written by synchronous code: the token file, the desktop's secrets.json.
 */
export function writeFileDurableSync(path: string, data: string | Uint8Array): void {
  const tempPath = join(
    dirname(path),
    `${basename(path)}${TEMP_MARKER}${process.pid}-${randomBytes(4).toString('hex')}`,
  );
  const fd = openSync(tempPath, 'wx', 0o600);
  try {
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    let off = 0;
    while (off < bytes.byteLength) off += writeSync(fd, bytes, off);
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tempPath, path);
  } catch (err) {
    try {
      closeSync(fd);
    } catch {
      /* already closed */
    }
    try {
      unlinkSync(tempPath);
    } catch {
      /* renamed or never written */
    }
    throw err;
  }
  fsyncDir(dirname(path));
}

/**
 * Removes temporaries under `root` left by a crash; returns them. Only the engine holding the
 * repository's writer lock calls this (store/writer-lock.ts), so the temporaries of another live
 * engine are never touched; this process's own files in flight are skipped too.
 */
export async function removeTemporaries(root: string): Promise<string[]> {
  const removed: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(dir, e.name);
      if (isTempName(e.name)) {
        if (inFlight.has(p)) continue;
        await rm(p, { recursive: true, force: true });
        removed.push(p);
      } else if (e.isDirectory()) await walk(p);
    }
  };
  await walk(root);
  return removed;
}
