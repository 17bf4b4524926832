/**
 * Repository encryption: one random 256-bit data key per repository, wrapped
 * (AES-256-GCM) by a key derived from the passphrase with scrypt. Files are
 * encrypted frame by frame with AES-256-GCM; the nonce is a random per-file
 * prefix plus the frame index, and the AAD binds each frame to the file's
 * header and its position (so frames cannot be reordered, dropped or moved
 * between files, and the header cannot be altered).
 */
import { createCipheriv, createDecipheriv, randomBytes, scryptSync } from 'node:crypto';
import { ApiError } from '../errors.js';

export interface KdfParams {
  name: 'scrypt';
  N: number;
  r: number;
  p: number;
  salt: string; // base64
}

export interface WrappedKey {
  algorithm: 'AES-256-GCM';
  iv: string;
  ciphertext: string;
  tag: string;
}

/** ~100 ms and 32 MiB on a workstation: slow enough to resist guessing, fast enough to open a repository. */
export const DEFAULT_SCRYPT = { N: 1 << 15, r: 8, p: 1 };

export function newKdfParams(cost: { N: number; r: number; p: number } = DEFAULT_SCRYPT): KdfParams {
  return { name: 'scrypt', ...cost, salt: randomBytes(16).toString('base64') };
}

export function deriveKek(passphrase: string, kdf: KdfParams): Buffer {
  if (kdf.name !== 'scrypt') throw new ApiError('CORRUPT', `Unknown key derivation ${String(kdf.name)}.`);
  return scryptSync(passphrase.normalize('NFC'), Buffer.from(kdf.salt, 'base64'), 32, {
    N: kdf.N,
    r: kdf.r,
    p: kdf.p,
    maxmem: 256 * kdf.N * kdf.r + 1024 * 1024,
  });
}

export function wrapKey(dataKey: Buffer, kek: Buffer, aad: string): WrappedKey {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', kek, iv);
  c.setAAD(Buffer.from(aad));
  const ciphertext = Buffer.concat([c.update(dataKey), c.final()]);
  return {
    algorithm: 'AES-256-GCM',
    iv: iv.toString('base64'),
    ciphertext: ciphertext.toString('base64'),
    tag: c.getAuthTag().toString('base64'),
  };
}

export function unwrapKey(wrapped: WrappedKey, kek: Buffer, aad: string): Buffer {
  try {
    const d = createDecipheriv('aes-256-gcm', kek, Buffer.from(wrapped.iv, 'base64'));
    d.setAAD(Buffer.from(aad));
    d.setAuthTag(Buffer.from(wrapped.tag, 'base64'));
    return Buffer.concat([d.update(Buffer.from(wrapped.ciphertext, 'base64')), d.final()]);
  } catch {
    throw new ApiError('WRONG_PASSPHRASE', 'The passphrase does not open this repository.');
  }
}

export const TAG_BYTES = 16;
export const NONCE_PREFIX_BYTES = 8;

function frameNonce(prefix: Buffer, index: number): Buffer {
  const n = Buffer.alloc(12);
  prefix.copy(n, 0, 0, NONCE_PREFIX_BYTES);
  n.writeUInt32BE(index, NONCE_PREFIX_BYTES);
  return n;
}

export function encryptFrame(
  key: Buffer,
  prefix: Buffer,
  index: number,
  aad: Buffer,
  plain: Uint8Array,
): Buffer {
  const c = createCipheriv('aes-256-gcm', key, frameNonce(prefix, index));
  c.setAAD(aad);
  const out = Buffer.concat([c.update(plain), c.final(), c.getAuthTag()]);
  return out;
}

export function decryptFrame(
  key: Buffer,
  prefix: Buffer,
  index: number,
  aad: Buffer,
  stored: Uint8Array,
  label: string,
): Buffer {
  if (stored.length < TAG_BYTES) throw new ApiError('CORRUPT', `${label}: frame ${index} is too short.`);
  try {
    const d = createDecipheriv('aes-256-gcm', key, frameNonce(prefix, index));
    d.setAAD(aad);
    d.setAuthTag(stored.subarray(stored.length - TAG_BYTES));
    return Buffer.concat([d.update(stored.subarray(0, stored.length - TAG_BYTES)), d.final()]);
  } catch {
    throw new ApiError('CORRUPT', `${label}: frame ${index} fails authentication (tampered or damaged).`);
  }
}
