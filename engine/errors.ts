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

/** Anything thrown inside the engine becomes a typed error; unknown ones are INTERNAL. */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  return new ApiError('INTERNAL', 'Internal engine error; see the engine log for details.');
}

/** The envelope every transport carries. */
export type ApiResult<T> = { ok: true; result: T } | { ok: false; error: ApiErrorShape };
