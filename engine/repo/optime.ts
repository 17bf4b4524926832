/**
 * Oplog timestamps (BSON Timestamp: seconds `t` and increment `i`). They are
 * kept as two plain numbers everywhere (files, catalog columns) so that no
 * 64-bit packing or BigInt is needed and the full uint32 range of `t` works.
 */
import { ApiError } from '../errors.js';

export interface OpTime {
  t: number;
  i: number;
}

export const MAX_INCREMENT = 0xffffffff;

export function compareOpTime(a: OpTime, b: OpTime): number {
  return a.t !== b.t ? a.t - b.t : a.i - b.i;
}

export const formatOpTime = (ts: OpTime): string => `${ts.t}:${ts.i}`;

export function isOpTime(v: unknown): v is OpTime {
  const o = v as OpTime;
  return (
    !!o &&
    Number.isInteger(o.t) &&
    Number.isInteger(o.i) &&
    o.t >= 0 &&
    o.i >= 0 &&
    o.t <= 0xffffffff &&
    o.i <= MAX_INCREMENT
  );
}

/** Parses `t:i` (e.g. `1763805600:12`). */
export function parseOpTime(text: string): OpTime {
  const m = /^(\d{1,10}):(\d{1,10})$/.exec(text.trim());
  const ts = m ? { t: Number(m[1]), i: Number(m[2]) } : null;
  if (!ts || !isOpTime(ts)) {
    throw new ApiError('INVALID_INPUT', `"${text}" is not an oplog timestamp of the form seconds:increment.`);
  }
  return ts;
}

export const opTimeToDate = (ts: OpTime): Date => new Date(ts.t * 1000);
