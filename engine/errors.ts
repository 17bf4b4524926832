/**
 * Typed errors that cross the API boundary. Every transport (IPC, WebSocket,
 * CLI) turns a failure into `{code, message, details}` and nothing else: no
 * stack traces reach the UI or a script's stdout.
 */
export const ERROR_CODES = [
  'INVALID_INPUT',
  'NOT_FOUND',
  'CONFLICT',
  'UNAVAILABLE',
  'INTERNAL',
  'CATALOG_TOO_NEW',
  'CANCELLED',
  'WRONG_PASSPHRASE',
  'LOCKED',
  'CORRUPT',
  'INVALID_BSON',
  'RETENTION_LOCKED',
  'UNREACHABLE',
  'AUTH_FAILED',
  'UNSUPPORTED',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface ApiErrorShape {
  code: ErrorCode;
  message: string;
  details?: unknown;
}

export class ApiError extends Error {
  readonly code: ErrorCode;
  readonly details?: unknown;

  constructor(code: ErrorCode, message: string, details?: unknown) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.details = details;
  }

  toJSON(): ApiErrorShape {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }
}

/**
 * Anything thrown inside the engine becomes a typed error: a failing disk (full, read-only,
 * I/O errors, met by Node or by SQLite) is UNAVAILABLE and says so; unknown ones are INTERNAL.
 */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  return (
    storageError(err, 'a file operation') ??
    new ApiError('INTERNAL', 'Internal engine error; see the engine log for details.')
  );
}

/** The envelope every transport carries. */
export type ApiResult<T> = { ok: true; result: T } | { ok: false; error: ApiErrorShape };

const FS_REASONS: Record<string, string> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'the file system is read-only',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOENT: 'a file or directory is missing',
  EIO: 'input/output error (the device may be failing or disconnected)',
  EMFILE: 'too many open files',
};

/** The syscalls of Node's fs module (network errors such as ENOTFOUND from getaddrinfo are not these). */
const FS_SYSCALLS = new Set([
  'open',
  'read',
  'write',
  'writev',
  'close',
  'fsync',
  'fdatasync',
  'rename',
  'mkdir',
  'rmdir',
  'rm',
  'unlink',
  'stat',
  'lstat',
  'fstat',
  'scandir',
  'opendir',
  'copyfile',
  'ftruncate',
  'link',
  'symlink',
  'readlink',
  'access',
  'chmod',
  'fchmod',
  'utime',
  'futime',
]);

/** The fields of a Node system error (declared here: this file is shared with the renderer's types). */
export interface SystemError extends Error {
  code?: string;
  syscall?: string;
  path?: string;
}

/** A Node file-system error (a string `code` such as ENOSPC from one of fs's syscalls). */
export function isFileSystemError(err: unknown): err is SystemError {
  const e = err as SystemError | null;
  return !!e && typeof e.code === 'string' && typeof e.syscall === 'string' && FS_SYSCALLS.has(e.syscall);
}

/**
 * Names the real cause of a failed file operation (`what`: "writing to the repository at /r"):
 * a full disk is a full disk, a missing file during a rename is not a TLS problem.
 */
export function fileSystemError(err: unknown, what: string): ApiError {
  if (err instanceof ApiError) return err;
  if (!isFileSystemError(err))
    return new ApiError('INTERNAL', `${what}: ${String((err as Error)?.message ?? err)}`);
  const code = err.code!;
  return new ApiError(
    'UNAVAILABLE',
    `Failed ${what}: ${FS_REASONS[code] ?? code} (${code}, ${err.syscall}${err.path ? ` ${err.path}` : ''}).`,
    { reason: 'filesystem', errno: code, syscall: err.syscall, ...(err.path ? { path: err.path } : {}) },
  );
}

/** SQLite's result codes about its files, as the file-system errors they stand for. */
const SQLITE_FILE_ERRORS: Record<string, string> = {
  SQLITE_FULL: 'ENOSPC',
  SQLITE_IOERR: 'EIO',
  SQLITE_READONLY: 'EROFS',
  SQLITE_CANTOPEN: 'ENOENT',
};

/**
 * A failure of the disk under a file the engine writes, named as such whether Node's fs or
 * SQLite met it (SQLite turns ENOSPC into SQLITE_FULL, a failing device into SQLITE_IOERR_*);
 * null for anything else (a bug, a damaged file), which the caller handles as before.
 */
export function storageError(err: unknown, what: string): ApiError | null {
  if (err instanceof ApiError) return null;
  if (isFileSystemError(err)) return fileSystemError(err, what);
  const code = String((err as { code?: unknown } | null)?.code ?? '');
  // An extended code (SQLITE_IOERR_WRITE, SQLITE_READONLY_DBMOVED) by its primary one.
  const errno = SQLITE_FILE_ERRORS[/^SQLITE_[A-Z]+/.exec(code)?.[0] ?? ''];
  if (!errno) return null;
  return new ApiError('UNAVAILABLE', `Failed ${what}: ${FS_REASONS[errno]} (${code}).`, {
    reason: 'filesystem',
    errno,
    sqlite: code,
  });
}
