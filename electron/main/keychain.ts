/**
 * Repository passphrases in the OS keychain, through Electron's safeStorage
 * (DPAPI on Windows, Keychain on macOS, libsecret/kwallet on Linux). Only the
 * encrypted blobs are written to disk (userData/secrets.json); when the OS
 * offers no encryption, passphrases are kept in memory for this run only.
 */
import { safeStorage } from 'electron';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { SecretStore } from '../../engine/secrets.js';

export class KeychainSecretStore implements SecretStore {
  private readonly blobs: Record<string, string>;
  private readonly memory = new Map<string, string>();

  constructor(private readonly file: string) {
    try {
      this.blobs = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
    } catch {
      this.blobs = {};
    }
  }

  get persistent(): boolean {
    return safeStorage.isEncryptionAvailable();
  }

  get(key: string): string | null {
    const inMemory = this.memory.get(key);
    if (inMemory) return inMemory;
    const blob = this.blobs[key];
    if (!blob || !this.persistent) return null;
    try {
      return safeStorage.decryptString(Buffer.from(blob, 'base64'));
    } catch {
      return null; // keychain changed or blob damaged: ask again
    }
  }

  set(key: string, value: string): void {
    this.memory.set(key, value);
    if (!this.persistent) return;
    this.blobs[key] = safeStorage.encryptString(value).toString('base64');
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
