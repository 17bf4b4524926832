/**
 * A backup repository: a directory that describes itself (DESIGN.md rule 5).
 *
 *   repository.json                       format, id, compression, encryption (never the key)
 *   sources/<sourceId>/source.json        the source's id and name
 *   sources/<sourceId>/snapshots/<id>/    manifest.json + one data file per collection
 *   sources/<sourceId>/oplog/YYYY/MM/DD/<t>-<i>_<t>-<i>.seg
 *   sources/<sourceId>/locks/<kind>-<id>.json   retention locks
 */
import { randomBytes, randomUUID, createHmac } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ApiError } from '../errors.js';
import { DEFAULT_COMPRESSION, type CompressionSettings } from './compression.js';
import {
  DEFAULT_SCRYPT,
  deriveKek,
  newKdfParams,
  unwrapKey,
  wrapKey,
  type KdfParams,
  type WrappedKey,
} from './crypto.js';
import { NODE_IO, writeFileDurable, type FileIo } from './durable-file.js';
import type { OpTime } from './optime.js';

export const REPOSITORY_FILE = 'repository.json';
export const REPOSITORY_FORMAT = 'mongo-backup-manager-repository';
export const REPOSITORY_FORMAT_VERSION = 1;

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
    try {
      config = JSON.parse(readFileSync(join(root, REPOSITORY_FILE), 'utf8')) as RepositoryConfig;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new ApiError('NOT_FOUND', `No repository at ${root} (${REPOSITORY_FILE} is missing).`);
      }
      throw new ApiError('CORRUPT', `${join(root, REPOSITORY_FILE)} is not valid JSON.`);
    }
    if (config.format !== REPOSITORY_FORMAT)
      throw new ApiError('CORRUPT', `${root} is not a repository of this app.`);
    if (config.formatVersion > REPOSITORY_FORMAT_VERSION) {
      throw new ApiError(
        'CATALOG_TOO_NEW',
        `Repository format ${config.formatVersion} is newer than this app supports.`,
      );
    }
    const repo = new Repository(root, config, null);
    if (passphrase !== undefined && config.encryption) repo.unlock(passphrase);
    return repo;
  }

  /** WRONG_PASSPHRASE when it does not unwrap the key. */
  unlock(passphrase: string): void {
    const enc = this.config.encryption;
    if (!enc) return;
    this.dataKey = unwrapKey(enc.wrappedKey, deriveKek(passphrase, enc.kdf), keyAad(this.id));
  }

  /** Authenticates JSON files (manifests, locks) of an encrypted repository with a key derived from the data key. */
  mac(text: string): string | null {
    const key = this.key();
    if (!key) return null;
    const macKey = createHmac('sha256', key).update('mbm-manifest-mac').digest();
    return createHmac('sha256', macKey).update(text).digest('hex');
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
