/**
 * Repository passphrases and source passwords in the OS keychain, through
 * Electron's safeStorage (DPAPI on Windows, Keychain on macOS,
 * libsecret/kwallet on Linux). Only the encrypted blobs are written to disk
 * (secrets.json, mode 0600, temp file then rename); when the OS offers no
 * encryption, secrets are kept in memory for this run only.
 *
 * safeStorage is passed in (main.ts gives Electron's) so that this logic
 * runs in the unit tests, where there is no Electron binary.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { SecretStore } from '../../engine/secrets.js';

/** The part of Electron's safeStorage this store uses. */
export interface SafeStorage {
  isEncryptionAvailable(): boolean;
  encryptString(plain: string): Buffer;
  decryptString(encrypted: Buffer): string;
}

export class KeychainSecretStore implements SecretStore {
  private readonly blobs: Record<string, string>;
  private readonly memory = new Map<string, string>();

  constructor(
    private readonly file: string,
    private readonly safe: SafeStorage,
  ) {
    try {
      this.blobs = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
    } catch {
      this.blobs = {};
    }
  }

  get persistent(): boolean {
    return this.safe.isEncryptionAvailable();
  }

  get(key: string): string | null {
    const inMemory = this.memory.get(key);
    if (inMemory) return inMemory;
    const blob = this.blobs[key];
    if (!blob || !this.persistent) return null;
    try {
      return this.safe.decryptString(Buffer.from(blob, 'base64'));
    } catch {
      return null; // keychain changed or blob damaged: ask again
    }
  }

  set(key: string, value: string): void {
    this.memory.set(key, value);
    if (!this.persistent) return;
    this.blobs[key] = this.safe.encryptString(value).toString('base64');
    this.save();
  }

  delete(key: string): void {
    this.memory.delete(key);
    delete this.blobs[key];
    this.save();
  }

  private save(): void {
    const tmp = `${this.file}.tmp-${process.pid}`;
    writeFileSync(tmp, JSON.stringify(this.blobs), { mode: 0o600 });
    renameSync(tmp, this.file);
  }
}
