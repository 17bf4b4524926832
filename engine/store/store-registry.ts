/**
 * Opens registered repositories on demand, unlocks encrypted ones with the
 * passphrase this run was given (or the one in the secret store), and
 * reconciles each once per engine run before it is used.
 */
import { ApiError } from '../errors.js';
import type { CatalogDb } from '../catalog/open-catalog.js';
import { getRepository, listRepositories, upsertRepository, type RepositoryRow } from '../catalog/sources.js';
import { Repository } from '../repo/repository.js';
import { repositoryPassphraseKey, type SecretStore } from '../secrets.js';
import { BackupStore } from './backup-store.js';
import { reconcileRepository, type ReconcileReport } from './reconcile.js';

/**
 * CONFLICT when repository.json no longer says what the catalog recorded
 * about encryption: setting `"encryption": null` must not switch encryption
 * off silently (the next snapshot would be written in clear).
 */
function checkEncryptionUnchanged(row: RepositoryRow | undefined, repo: Repository): void {
  if (!row || !!row.encrypted === repo.encrypted) return;
  throw new ApiError(
    'CONFLICT',
    row.encrypted
      ? `${repo.root} was created encrypted, but its repository.json now says "encryption": null. Nothing will be written in clear: put back the "encryption" section (from a secondary copy or a backup of repository.json).`
      : `${repo.root} was registered unencrypted, but its repository.json now says it is encrypted: it is not the repository this catalog knows; attach it again after checking where it comes from.`,
  );
}

export class StoreRegistry {
  private readonly open = new Map<string, BackupStore>();
  readonly lastReconcile = new Map<string, ReconcileReport>();

  constructor(
    private readonly db: CatalogDb,
    private readonly secrets: SecretStore,
    /** A passphrase given for this run (CLI / headless --passphrase-env). */
    private readonly runPassphrase: string | null,
  ) {}

  private tryUnlock(repo: Repository): void {
    if (!repo.encrypted || repo.unlocked) return;
    const candidates = [this.secrets.get(repositoryPassphraseKey(repo.id)), this.runPassphrase].filter(
      (p): p is string => !!p,
    );
    let lastErr: unknown = null;
    for (const p of candidates) {
      try {
        repo.unlock(p);
        return;
      } catch (err) {
        lastErr = err;
      }
    }
    if (lastErr) throw lastErr; // WRONG_PASSPHRASE: say so rather than "locked"
  }

  /** The store for a repository (id or path; optional when only one is registered). */
  async get(idOrPath?: string): Promise<BackupStore> {
    const row = getRepository(this.db, idOrPath);
    const cached = this.open.get(row.id);
    if (cached) {
      this.tryUnlock(cached.repo);
      return cached;
    }
    const repo = Repository.open(row.path);
    if (repo.id !== row.id) {
      throw new ApiError(
        'CONFLICT',
        `${row.path} now holds a different repository (${repo.id}); attach it again.`,
      );
    }
    checkEncryptionUnchanged(row, repo);
    const store = new BackupStore(this.db, repo);
    this.open.set(row.id, store);
    try {
      this.tryUnlock(repo);
    } finally {
      // Headers, manifests' presence and locks are readable without the key.
      this.lastReconcile.set(repo.id, await reconcileRepository(this.db, repo));
    }
    return store;
  }

  /** Registers a repository that exists on disk (new, or carried from elsewhere) and indexes it. */
  async attach(repo: Repository): Promise<BackupStore> {
    checkEncryptionUnchanged(
      listRepositories(this.db).find((r) => r.id === repo.id),
      repo,
    );
    upsertRepository(this.db, repo.root, repo.config);
    this.open.delete(repo.id);
    const store = new BackupStore(this.db, repo);
    this.open.set(repo.id, store);
    try {
      this.tryUnlock(repo); // first, so that new files can be authenticated and registered
    } finally {
      this.lastReconcile.set(repo.id, await reconcileRepository(this.db, repo));
    }
    return store;
  }

  /** Unlocks with a passphrase (WRONG_PASSPHRASE if it does not fit) and remembers it in the secret store. */
  async unlock(idOrPath: string | undefined, passphrase: string): Promise<BackupStore> {
    const row = getRepository(this.db, idOrPath);
    const repo = this.open.get(row.id)?.repo ?? Repository.open(row.path);
    repo.unlock(passphrase);
    this.secrets.set(repositoryPassphraseKey(repo.id), passphrase);
    if (!this.open.has(repo.id)) return this.attach(repo);
    // Files found while locked were left unregistered (they need the key to be authenticated).
    this.lastReconcile.set(repo.id, await reconcileRepository(this.db, repo));
    return this.get(repo.id);
  }

  all(): Promise<BackupStore[]> {
    return Promise.all(listRepositories(this.db).map((r) => this.get(r.id)));
  }

  forget(id: string): void {
    this.open.delete(id);
  }
}
