import type { ApiErrorShape } from '../../../../engine/api/client';

/** A typed error from the engine, as the renderer sees it. */
export class ClientError extends Error {
  readonly code: string;
  readonly details?: unknown;
  constructor(shape: ApiErrorShape | { code: string; message: string; details?: unknown }) {
    super(shape.message);
    this.name = 'ClientError';
    this.code = shape.code;
    this.details = shape.details;
  }
}
