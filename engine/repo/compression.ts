/** zstd (through zstd-napi, a maintained binding) or gzip (node:zlib) for stored frames. */
import { gunzipSync, gzipSync, constants as zlibConstants } from 'node:zlib';
import { compress as zstdCompress, decompress as zstdDecompress } from 'zstd-napi';
import { ApiError } from '../errors.js';

export type CompressionAlgorithm = 'zstd' | 'gzip' | 'none';
export interface CompressionSettings {
  algorithm: CompressionAlgorithm;
  level: number;
}

export const DEFAULT_COMPRESSION: CompressionSettings = { algorithm: 'zstd', level: 3 };

export const COMPRESSION_CODES: Record<CompressionAlgorithm, number> = { none: 0, zstd: 1, gzip: 2 };

export function compressionFromCode(code: number): CompressionAlgorithm {
  const found = (Object.keys(COMPRESSION_CODES) as CompressionAlgorithm[]).find(
    (k) => COMPRESSION_CODES[k] === code,
  );
  if (!found) throw new ApiError('CORRUPT', `Unknown compression code ${code}.`);
  return found;
}

export function compressFrame(raw: Uint8Array, c: CompressionSettings): Buffer {
  switch (c.algorithm) {
    case 'zstd':
      return zstdCompress(raw, { compressionLevel: c.level });
    case 'gzip':
      return gzipSync(raw, { level: Math.min(Math.max(c.level, 1), 9) });
    default:
      return Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  }
}

export function decompressFrame(
  stored: Uint8Array,
  algorithm: CompressionAlgorithm,
  rawLength: number,
  label: string,
): Buffer {
  try {
    const out =
      algorithm === 'zstd'
        ? zstdDecompress(stored)
        : algorithm === 'gzip'
          ? gunzipSync(stored, { finishFlush: zlibConstants.Z_SYNC_FLUSH })
          : Buffer.from(stored);
    if (out.length !== rawLength) throw new Error(`expected ${rawLength} bytes, got ${out.length}`);
    return out;
  } catch (err) {
    if (err instanceof ApiError) throw err;
    throw new ApiError('CORRUPT', `${label}: cannot decompress (${(err as Error).message}).`);
  }
}
