/**
 * Repository passphrases and source passwords in the OS keychain, through
 * Electron's safeStorage (DPAPI on Windows, Keychain on macOS,
 * libsecret/kwallet on Linux). Only the encrypted blobs are written to disk
 * (secrets.json, 0600, written durably: temp, fsync, rename); when the OS
 * offers no encryption, secrets are kept in memory for this run only.
 *
 * On Linux, safeStorage falls back to the `basic_text` backend when no
 * secret service runs: it "encrypts" with a password hard-coded in Chromium,
 * which protects nothing. That backend counts as no OS encryption, and the
 * reason is given as `warning` (the engine raises KEYCHAIN_UNPROTECTED).
 *
 * A secrets.json that cannot be parsed is never overwritten: the blobs in it
 * may still be recoverable by hand. The store then keeps new secrets in
 * memory and says so in `warning`.
 *
 * safeStorage is passed in (main.ts gives Electron's) so that this logic
 * runs in the unit tests, where there is no Electron binary.
 */
import { readFileSync } from 'node:fs';
import { writeFileDurableSync } from '../../engine/repo/durable-file.js';
import type { SecretStore } from '../../engine/secrets.js';

/** The part of Electron's safeStorage this store uses. */
export interface SafeStorage {
  isEncryptionAvailable(): boolean;
  encryptString(plain: string): Buffer;
  decryptString(encrypted: Buffer): string;
  /** Linux only in Electron: 'basic_text', 'gnome_libsecret', 'kwallet', 'kwallet5', 'kwallet6' or 'unknown'. */
  getSelectedStorageBackend?(): string;
}

/** Backends whose "encryption" uses a key anyone can know. */
const UNPROTECTED_BACKENDS = new Set(['basic_text']);

export class KeychainSecretStore implements SecretStore {
  private readonly blobs: Record<string, string>;
  private readonly memory = new Map<string, string>();
  /** Set when secrets.json exists but cannot be parsed: then it is never written. */
  private readonly damaged: string | null = null;

  constructor(
    private readonly file: string,
    private readonly safe: SafeStorage,
  ) {
    let text: string | null = null;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    this.blobs = {};
    if (text !== null) {
      try {
        const parsed = JSON.parse(text) as unknown;
        if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
        this.blobs = parsed as Record<string, string>;
      } catch (err) {
        this.damaged = `${file} cannot be read (${(err as Error).message}); it is left untouched and secrets are kept in memory for this run only. Repair or remove it, then restart.`;
      }
    }
  }

  private get backend(): string | null {
    try {
      return this.safe.getSelectedStorageBackend?.() ?? null;
    } catch {
      return null; // not Linux: the method does not apply there
    }
  }

  /** True only when the OS really encrypts and secrets.json can be written. */
  get persistent(): boolean {
    return this.osEncrypts && this.damaged === null;
  }

  private get osEncrypts(): boolean {
    const b = this.backend;
    return this.safe.isEncryptionAvailable() && !(b !== null && UNPROTECTED_BACKENDS.has(b));
  }

  get warning(): string | null {
    const b = this.backend;
    if (b !== null && UNPROTECTED_BACKENDS.has(b))
      return `The OS keychain is Chromium's ${b} backend (a fixed, publicly known password; no secret service such as GNOME Keyring or KWallet is running): passphrases and source passwords are not saved and are asked again after a restart.`;
    return this.damaged;
  }

  get(key: string): string | null {
    const inMemory = this.memory.get(key);
    if (inMemory) return inMemory;
    const blob = this.blobs[key];
    if (!blob || !this.osEncrypts) return null;
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
    if (this.damaged !== null || !(key in this.blobs)) return;
    delete this.blobs[key];
    this.save();
  }

  private save(): void {
    writeFileDurableSync(this.file, JSON.stringify(this.blobs));
  }
}
