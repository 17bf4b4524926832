/** zstd (through zstd-napi, a maintained binding) or gzip (node:zlib) for stored frames. */
import { gunzipSync, gzipSync, constants as zlibConstants } from 'node:zlib';
// The binding's CCtx and DCtx give one-shot (de)compression into buffers we size (CommonJS: default import).
import zstdBinding from 'zstd-napi/binding.js';
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

let cctx: InstanceType<typeof zstdBinding.CCtx> | null = null;
let scratch: Buffer | null = null;

/**
 * One-shot ZSTD_compressCCtx with one context per thread and one output buffer reused from frame
 * to frame (the frame is then copied out at its size): zstd-napi's compress() allocates a
 * compressBound-sized buffer (over 1 MiB) for every frame, and resets its parameters each time.
 */
function zstdCompressFrame(raw: Uint8Array, level: number): Buffer {
  cctx ??= new zstdBinding.CCtx();
  const bound = zstdBinding.compressBound(raw.length);
  if (!scratch || scratch.length < bound) scratch = Buffer.allocUnsafeSlow(bound);
  const n = cctx.compress(scratch, raw, level);
  return Buffer.from(scratch.subarray(0, n));
}

export function compressFrame(raw: Uint8Array, c: CompressionSettings): Buffer {
  switch (c.algorithm) {
    case 'zstd':
      return zstdCompressFrame(raw, c.level);
    case 'gzip':
      return gzipSync(raw, { level: Math.min(Math.max(c.level, 1), 9) });
    default:
      return Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  }
}

let dctx: InstanceType<typeof zstdBinding.DCtx> | null = null;

/**
 * zstd into a buffer of exactly the frame's declared raw length: one-shot
 * ZSTD_decompressDCtx writes straight into it and fails ("destination buffer
 * is too small") as soon as the data would run past it, whatever size the
 * zstd frame header claims. zstd-napi's own decompress() allocates what the
 * frame header says (or grows without limit when it says nothing): a 64 KiB
 * frame of RLE blocks would cost 2 GiB.
 */
function zstdDecompressCapped(stored: Uint8Array, rawLength: number): Buffer {
  dctx ??= new zstdBinding.DCtx();
  const out = Buffer.allocUnsafe(rawLength);
  const n = dctx.decompress(out, stored);
  return n === rawLength ? out : out.subarray(0, n);
}

/**
 * Decompresses one frame, never producing (or allocating) more than
 * `rawLength` bytes, the size the frame's head declares: a frame that would
 * expand further is CORRUPT before its output exists.
 */
export function decompressFrame(
  stored: Uint8Array,
  algorithm: CompressionAlgorithm,
  rawLength: number,
  label: string,
): Buffer {
  try {
    const out =
      algorithm === 'zstd'
        ? zstdDecompressCapped(stored, rawLength)
        : algorithm === 'gzip'
          ? gunzipSync(stored, {
              finishFlush: zlibConstants.Z_SYNC_FLUSH,
              // zlib stops with an error once the output would exceed this.
              maxOutputLength: Math.max(rawLength, 1),
            })
          : Buffer.from(stored);
    if (out.length !== rawLength) throw new Error(`expected ${rawLength} bytes, got ${out.length}`);
    return out;
  } catch (err) {
    if (err instanceof ApiError) throw err;
    throw new ApiError('CORRUPT', `${label}: cannot decompress (${(err as Error).message}).`);
  }
}
