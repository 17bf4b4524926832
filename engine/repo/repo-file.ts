/**
 * Opening the files of a repository that may have been crafted: never through
 * a symbolic link (O_NOFOLLOW on the last component, so `x.seg -> /dev/zero`
 * or `lock.json -> /etc/passwd` is refused), only regular files, and never
 * reading more than a bound into memory. ENOENT is passed on as is: callers
 * turn a missing file into NOT_FOUND or a gap.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { ApiError } from '../errors.js';

// Windows has no O_NOFOLLOW; there the regular-file check after opening still applies.
const NOFOLLOW = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0);

function refused(path: string, err: NodeJS.ErrnoException): Error {
  if (err.code === 'ELOOP') return new ApiError('CORRUPT', `${path} is a symbolic link; not read.`);
  return err;
}

const notRegular = (path: string) =>
  new ApiError('CORRUPT', `${path} is not a regular file (a link, a device or a directory); not read.`);

/** A file descriptor on a regular file; the caller closes it. */
export function openRepoFileSync(path: string): number {
  let fd: number;
  try {
    fd = openSync(path, NOFOLLOW);
  } catch (err) {
    throw refused(path, err as NodeJS.ErrnoException);
  }
  if (!fstatSync(fd).isFile()) {
    closeSync(fd);
    throw notRegular(path);
  }
  return fd;
}

export async function openRepoFile(path: string): Promise<FileHandle> {
  let fh: FileHandle;
  try {
    fh = await open(path, NOFOLLOW);
  } catch (err) {
    throw refused(path, err as NodeJS.ErrnoException);
  }
  if (!(await fh.stat()).isFile()) {
    await fh.close();
    throw notRegular(path);
  }
  return fh;
}

const tooLarge = (path: string, size: number, max: number) =>
  new ApiError('CORRUPT', `${path} has ${size} bytes, more than the ${max} such a file can hold.`);

/** The whole file, CORRUPT when it is larger than `maxBytes`. */
export function readRepoFileSync(path: string, maxBytes: number): Buffer {
  const fd = openRepoFileSync(path);
  try {
    const size = fstatSync(fd).size;
    if (size > maxBytes) throw tooLarge(path, size, maxBytes);
    const buf = Buffer.alloc(size);
    let off = 0;
    while (off < size) {
      const n = readSync(fd, buf, off, size - off, off);
      if (n === 0) break;
      off += n;
    }
    return off === size ? buf : buf.subarray(0, off);
  } finally {
    closeSync(fd);
  }
}

export async function readRepoFile(path: string, maxBytes: number): Promise<Buffer> {
  const fh = await openRepoFile(path);
  try {
    const size = (await fh.stat()).size;
    if (size > maxBytes) throw tooLarge(path, size, maxBytes);
    const buf = Buffer.alloc(size);
    let off = 0;
    while (off < size) {
      const { bytesRead } = await fh.read(buf, off, size - off, off);
      if (bytesRead === 0) break;
      off += bytesRead;
    }
    return off === size ? buf : buf.subarray(0, off);
  } finally {
    await fh.close();
  }
}
