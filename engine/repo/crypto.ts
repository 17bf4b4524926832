/**
 * Repository encryption: one random 256-bit data key per repository, wrapped
 * (AES-256-GCM) by a key derived from the passphrase with scrypt. Files are
 * encrypted frame by frame with AES-256-GCM and the AAD binds each frame to
 * the file's header and its position (so frames cannot be reordered, dropped
 * or moved between files, and the header cannot be altered).
 *
 * Container version 2 encrypts each file under its own key, derived with
 * HKDF-SHA256 from the data key and a random 128-bit file salt, and uses the
 * frame index as the nonce: nonces never repeat under one key, and two files
 * share a key only if their salts collide (probability below n^2 / 2^129 for
 * n files, 2^-65 at four billion files). Version 1 (a random 64-bit nonce
 * prefix per file under the one data key) is still read. The bound is in
 * docs/repository-format.md.
 */
import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  hkdfSync,
  randomBytes,
  scryptSync,
  timingSafeEqual,
} from 'node:crypto';
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

/**
 * OWASP's scrypt recommendation (N = 2^17, r = 8, p = 1): 128 MiB and about
 * 0.4 s on a workstation, paid once when a repository is unlocked.
 */
export const DEFAULT_SCRYPT = { N: 1 << 17, r: 8, p: 1 };

/**
 * What a repository.json may ask for. The parameters are read before the
 * passphrase can be checked, so a crafted file must not be able to make
 * unlocking cost minutes or gigabytes: memory (128 * N * r bytes) is capped
 * at 256 MiB and work (N * r * p) at 8 times our default. The floor (2^10)
 * only keeps nonsense out; the wrapped key cannot be opened with parameters
 * other than the ones it was wrapped with, so a lowered cost gains nothing.
 */
export const SCRYPT_BOUNDS = {
  minN: 1 << 10,
  maxMemoryBytes: 256 * 1024 * 1024,
  maxWork: 8 * DEFAULT_SCRYPT.N * DEFAULT_SCRYPT.r * DEFAULT_SCRYPT.p,
  maxR: 32,
  maxP: 16,
  minSaltBytes: 16,
};

export function newKdfParams(cost: { N: number; r: number; p: number } = DEFAULT_SCRYPT): KdfParams {
  return { name: 'scrypt', ...cost, salt: randomBytes(16).toString('base64') };
}

/** CORRUPT unless the key derivation parameters are scrypt within SCRYPT_BOUNDS. */
export function checkKdfParams(kdf: unknown, label: string): asserts kdf is KdfParams {
  const bad = (why: string) => new ApiError('CORRUPT', `${label}: scrypt parameters refused (${why}).`);
  const k = kdf as Partial<KdfParams> | null;
  if (!k || typeof k !== 'object' || k.name !== 'scrypt')
    throw new ApiError('CORRUPT', `${label}: unknown key derivation ${String(k?.name)}.`);
  const { N, r, p, salt } = k;
  const int = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v);
  if (!int(N) || N < SCRYPT_BOUNDS.minN || (N & (N - 1)) !== 0)
    throw bad(`N must be a power of two of at least ${SCRYPT_BOUNDS.minN}, got ${String(N)}`);
  if (!int(r) || r < 1 || r > SCRYPT_BOUNDS.maxR) throw bad(`r must be 1 to ${SCRYPT_BOUNDS.maxR}`);
  if (!int(p) || p < 1 || p > SCRYPT_BOUNDS.maxP) throw bad(`p must be 1 to ${SCRYPT_BOUNDS.maxP}`);
  if (128 * N * r > SCRYPT_BOUNDS.maxMemoryBytes)
    throw bad(`N = ${N}, r = ${r} needs ${(128 * N * r) / 2 ** 20} MiB, more than 256 MiB`);
  if (N * r * p > SCRYPT_BOUNDS.maxWork)
    throw bad(`N * r * p = ${N * r * p} is more than ${SCRYPT_BOUNDS.maxWork}`);
  if (typeof salt !== 'string' || Buffer.from(salt, 'base64').length < SCRYPT_BOUNDS.minSaltBytes)
    throw bad(`the salt must be at least ${SCRYPT_BOUNDS.minSaltBytes} bytes`);
}

export function deriveKek(passphrase: string, kdf: KdfParams): Buffer {
  checkKdfParams(kdf, 'repository.json');
  return scryptSync(passphrase.normalize('NFC'), Buffer.from(kdf.salt, 'base64'), 32, {
    N: kdf.N,
    r: kdf.r,
    p: kdf.p,
    maxmem: 128 * kdf.N * kdf.r + 128 * kdf.r * kdf.p + 1024 * 1024,
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
/** Container version 1: random nonce prefix per file, all files under the data key. */
export const NONCE_PREFIX_BYTES = 8;
/** Container version 2: random salt per file from which the file's own key is derived. */
export const FILE_SALT_BYTES = 16;

/**
 * How one file's frames are encrypted: the key, and the 8 bytes put in front
 * of the 4-byte frame index to make the nonce (the file's random prefix in
 * version 1, zeros in version 2 where the key is the file's own).
 */
export interface FileCipher {
  key: Buffer;
  prefix: Buffer;
}

export function v1FileCipher(dataKey: Buffer, prefix: Buffer): FileCipher {
  return { key: dataKey, prefix };
}

export function v2FileCipher(dataKey: Buffer, salt: Buffer, info = 'mbm-file-key-v2'): FileCipher {
  const key = Buffer.from(hkdfSync('sha256', dataKey, salt, info, 32));
  return { key, prefix: Buffer.alloc(NONCE_PREFIX_BYTES) };
}

/** A key for one purpose (header MACs, manifest and lock MACs), so no key serves two. */
export function subkey(dataKey: Buffer, purpose: string): Buffer {
  return createHmac('sha256', dataKey).update(purpose).digest();
}

export function hmacHex(key: Buffer, text: string | Buffer): string {
  return createHmac('sha256', key).update(text).digest('hex');
}

/** Constant-time comparison of two hex MACs. */
export function sameMac(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y);
}

function frameNonce(prefix: Buffer, index: number): Buffer {
  const n = Buffer.alloc(12);
  prefix.copy(n, 0, 0, NONCE_PREFIX_BYTES);
  n.writeUInt32BE(index, NONCE_PREFIX_BYTES);
  return n;
}

export function encryptFrame(cipher: FileCipher, index: number, aad: Buffer, plain: Uint8Array): Buffer {
  const c = createCipheriv('aes-256-gcm', cipher.key, frameNonce(cipher.prefix, index));
  c.setAAD(aad);
  const out = Buffer.concat([c.update(plain), c.final(), c.getAuthTag()]);
  return out;
}

export function decryptFrame(
  cipher: FileCipher,
  index: number,
  aad: Buffer,
  stored: Uint8Array,
  label: string,
): Buffer {
  if (stored.length < TAG_BYTES) throw new ApiError('CORRUPT', `${label}: frame ${index} is too short.`);
  try {
    const d = createDecipheriv('aes-256-gcm', cipher.key, frameNonce(cipher.prefix, index));
    d.setAAD(aad);
    d.setAuthTag(stored.subarray(stored.length - TAG_BYTES));
    return Buffer.concat([d.update(stored.subarray(0, stored.length - TAG_BYTES)), d.final()]);
  } catch {
    throw new ApiError('CORRUPT', `${label}: frame ${index} fails authentication (tampered or damaged).`);
  }
}
