/**
 * Where repository passphrases come from. The CLI and headless mode take one
 * from an environment variable (--passphrase-env VAR), held in memory only;
 * the desktop app plugs in the OS keychain (Electron safeStorage) through
 * this interface, so the engine never imports Electron.
 */
export interface SecretStore {
  /** True when values survive a restart (the OS keychain); false for memory only. */
  readonly persistent: boolean;
  /** Why secrets are not kept across restarts although the user may expect it (shown as an alert), or null. */
  readonly warning?: string | null;
  get(key: string): string | null;
  set(key: string, value: string): void;
  delete(key: string): void;
}

export class MemorySecretStore implements SecretStore {
  readonly persistent = false;
  private readonly values = new Map<string, string>();
  get(key: string): string | null {
    return this.values.get(key) ?? null;
  }
  set(key: string, value: string): void {
    this.values.set(key, value);
  }
  delete(key: string): void {
    this.values.delete(key);
  }
}

export const repositoryPassphraseKey = (repositoryId: string) => `repository:${repositoryId}`;
export const sourcePasswordKey = (sourceId: string) => `source:${sourceId}`;
export const sourceUriOptionsKey = (sourceId: string) => `source-uri-options:${sourceId}`;
export const restoreTestPasswordKey = (sourceId: string) => `restore-test-password:${sourceId}`;
