/**
 * A backup repository: a directory that describes itself (DESIGN.md rule 5).
 *
 *   repository.json                       format, id, compression, encryption (never the key)
 *   sources/<sourceId>/source.json        the source's id and name
 *   sources/<sourceId>/snapshots/<id>/    manifest.json + one data file per collection
 *   sources/<sourceId>/oplog/YYYY/MM/DD/<t>-<i>_<t>-<i>.seg
 *   sources/<sourceId>/journal/<t>-<i>.jnl  capture journal: the durable, not yet sealed tail
 *   sources/<sourceId>/locks/<kind>-<id>.json   retention locks
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ApiError } from '../errors.js';
import { DEFAULT_COMPRESSION, type CompressionSettings } from './compression.js';
import {
  DEFAULT_SCRYPT,
  checkKdfParams,
  deriveKek,
  hmacHex,
  subkey,
  newKdfParams,
  unwrapKey,
  wrapKey,
  type KdfParams,
  type WrappedKey,
} from './crypto.js';
import { NODE_IO, writeFileDurable, type FileIo } from './durable-file.js';
import type { RepoKeying } from './envelope.js';
import type { OpTime } from './optime.js';
import { readRepoFileSync } from './repo-file.js';

export const REPOSITORY_FILE = 'repository.json';
export const REPOSITORY_FORMAT = 'mongo-backup-manager-repository';
/**
 * 2: data files in container version 2 (per-file keys, authenticated
 * headers), manifests with users and roles in data files, retention locks
 * with a MAC. 3: the capture journal (`sources/<id>/journal/*.jnl`), the
 * unsealed tail of the oplog that planning and restore read too. An older
 * repository is read as it is and becomes version 3 when this app first
 * writes to it (upgradeFormat), so that an older app refuses it as a whole
 * instead of meeting files it cannot read (a version-2 app would ignore the
 * journal and restore less than the catalog promised).
 */
export const REPOSITORY_FORMAT_VERSION = 3;

export interface RepositoryConfig {
  format: typeof REPOSITORY_FORMAT;
  formatVersion: number;
  repositoryId: string;
  createdAt: string;
  compression: CompressionSettings;
  encryption: null | { algorithm: 'AES-256-GCM'; kdf: KdfParams; wrappedKey: WrappedKey };
}

export interface InitOptions {
  compression?: CompressionSettings;
  passphrase?: string;
  /** Lower scrypt cost for tests; production uses DEFAULT_SCRYPT. */
  kdfCost?: { N: number; r: number; p: number };
}

const keyAad = (repositoryId: string) => `mbm-repository-key:${repositoryId}`;

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

export class Repository {
  private constructor(
    readonly root: string,
    readonly config: RepositoryConfig,
    private dataKey: Buffer | null,
  ) {}

  /** The file-system calls data files are written with (tests inject write faults here). */
  io: FileIo = NODE_IO;

  get id(): string {
    return this.config.repositoryId;
  }
  get encrypted(): boolean {
    return this.config.encryption !== null;
  }
  get unlocked(): boolean {
    return !this.encrypted || this.dataKey !== null;
  }

  /** For readers: whether files must be encrypted, and the key when unlocked (never throws). */
  keying(): RepoKeying {
    return { encrypted: this.encrypted, key: this.dataKey };
  }

  /** The data key for reading and writing files; LOCKED when the passphrase was not given. */
  key(): Buffer | null {
    if (!this.encrypted) return null;
    if (!this.dataKey) {
      throw new ApiError(
        'LOCKED',
        `Repository ${this.root} is encrypted: give its passphrase (--passphrase-env VAR).`,
      );
    }
    return this.dataKey;
  }

  static async init(path: string, opts: InitOptions = {}): Promise<Repository> {
    const root = resolve(path);
    if (existsSync(join(root, REPOSITORY_FILE))) {
      throw new ApiError('CONFLICT', `${root} already holds a repository.`);
    }
    if (existsSync(root) && (!statSync(root).isDirectory() || readdirSync(root).length > 0)) {
      throw new ApiError('CONFLICT', `${root} exists and is not an empty directory.`);
    }
    const repositoryId = randomUUID();
    let encryption: RepositoryConfig['encryption'] = null;
    let dataKey: Buffer | null = null;
    if (opts.passphrase !== undefined) {
      if (opts.passphrase.length < 8) {
        throw new ApiError('INVALID_INPUT', 'The passphrase must have at least 8 characters.');
      }
      const kdf = newKdfParams(opts.kdfCost ?? DEFAULT_SCRYPT);
      dataKey = randomBytes(32);
      encryption = {
        algorithm: 'AES-256-GCM',
        kdf,
        wrappedKey: wrapKey(dataKey, deriveKek(opts.passphrase, kdf), keyAad(repositoryId)),
      };
    }
    const config: RepositoryConfig = {
      format: REPOSITORY_FORMAT,
      formatVersion: REPOSITORY_FORMAT_VERSION,
      repositoryId,
      createdAt: new Date().toISOString(),
      compression: opts.compression ?? DEFAULT_COMPRESSION,
      encryption,
    };
    await writeFileDurable(join(root, REPOSITORY_FILE), [
      Buffer.from(`${JSON.stringify(config, null, 2)}\n`),
    ]);
    return new Repository(root, config, dataKey);
  }

  /** Opens a repository; an encrypted one stays locked unless the passphrase is given. */
  static open(path: string, passphrase?: string): Repository {
    const root = resolve(path);
    let config: RepositoryConfig;
    const file = join(root, REPOSITORY_FILE);
    try {
      config = JSON.parse(readRepoFileSync(file, 1 << 20).toString('utf8')) as RepositoryConfig;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new ApiError('NOT_FOUND', `No repository at ${root} (${REPOSITORY_FILE} is missing).`);
      }
      if (err instanceof ApiError) throw err;
      throw new ApiError('CORRUPT', `${file} is not valid JSON.`);
    }
    if (config?.format !== REPOSITORY_FORMAT)
      throw new ApiError('CORRUPT', `${root} is not a repository of this app.`);
    if (config.formatVersion > REPOSITORY_FORMAT_VERSION) {
      throw new ApiError(
        'CATALOG_TOO_NEW',
        `Repository format ${config.formatVersion} is newer than this app supports.`,
      );
    }
    checkConfig(config, file);
    const repo = new Repository(root, config, null);
    if (passphrase !== undefined && config.encryption) repo.unlock(passphrase);
    return repo;
  }

  /** Marks an older repository as the current version before the first file of this version is written into it. */
  async upgradeFormat(): Promise<void> {
    if (this.config.formatVersion >= REPOSITORY_FORMAT_VERSION) return;
    const upgraded = { ...this.config, formatVersion: REPOSITORY_FORMAT_VERSION };
    await writeFileDurable(join(this.root, REPOSITORY_FILE), [
      Buffer.from(`${JSON.stringify(upgraded, null, 2)}\n`),
    ]);
    this.config.formatVersion = REPOSITORY_FORMAT_VERSION;
  }

  /** WRONG_PASSPHRASE when it does not unwrap the key. */
  unlock(passphrase: string): void {
    const enc = this.config.encryption;
    if (!enc) return;
    this.dataKey = unwrapKey(enc.wrappedKey, deriveKek(passphrase, enc.kdf), keyAad(this.id));
  }

  /** Authenticates manifests of an encrypted repository with a key derived from the data key. */
  mac(text: string): string | null {
    return this.macFor('mbm-manifest-mac', text);
  }

  /** HMAC-SHA256 under the data key's subkey for one purpose; null when not encrypted, LOCKED when locked. */
  macFor(purpose: string, text: string): string | null {
    const key = this.key();
    if (!key) return null;
    return hmacHex(subkey(key, purpose), text);
  }

  sourceDir(sourceId: string): string {
    return join(this.root, 'sources', sourceId);
  }
  snapshotsDir(sourceId: string): string {
    return join(this.sourceDir(sourceId), 'snapshots');
  }
  oplogDir(sourceId: string): string {
    return join(this.sourceDir(sourceId), 'oplog');
  }
  locksDir(sourceId: string): string {
    return join(this.sourceDir(sourceId), 'locks');
  }

  /** Relative path of a segment: names sort by time and carry the first and last ts. */
  segmentRelPath(sourceId: string, first: OpTime, last: OpTime): string {
    const d = new Date(first.t * 1000);
    return join(
      'sources',
      sourceId,
      'oplog',
      String(d.getUTCFullYear()),
      pad(d.getUTCMonth() + 1),
      pad(d.getUTCDate()),
      `${first.t}-${first.i}_${last.t}-${last.i}.seg`,
    );
  }

  abs(rel: string): string {
    return join(this.root, rel);
  }
}

/** CORRUPT unless repository.json has the shape this app writes (bounded scrypt cost included). */
function checkConfig(config: RepositoryConfig, file: string): void {
  const c = config.compression as Partial<CompressionSettings> | undefined;
  if (typeof config.repositoryId !== 'string' || !/^[\w-]{1,64}$/.test(config.repositoryId))
    throw new ApiError('CORRUPT', `${file}: repositoryId is missing or malformed.`);
  if (!c || !['zstd', 'gzip', 'none'].includes(String(c.algorithm)) || !Number.isInteger(c.level))
    throw new ApiError('CORRUPT', `${file}: compression is missing or unknown.`);
  const enc = config.encryption;
  if (enc === null) return;
  if (!enc || enc.algorithm !== 'AES-256-GCM' || !enc.wrappedKey)
    throw new ApiError('CORRUPT', `${file}: encryption is neither null nor AES-256-GCM.`);
  checkKdfParams(enc.kdf, file);
  const w = enc.wrappedKey;
  const len = (v: unknown) => (typeof v === 'string' ? Buffer.from(v, 'base64').length : -1);
  if (w.algorithm !== 'AES-256-GCM' || len(w.iv) !== 12 || len(w.ciphertext) !== 32 || len(w.tag) !== 16)
    throw new ApiError('CORRUPT', `${file}: the wrapped key is malformed.`);
}
