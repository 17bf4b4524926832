/**
 * Opens registered repositories on demand, unlocks encrypted ones with the
 * passphrase this run was given (or the one in the secret store), and
 * reconciles each once per engine run before it is used.
 */
import { ApiError } from '../errors.js';
import type { CatalogDb } from '../catalog/open-catalog.js';
import { getRepository, listRepositories, upsertRepository } from '../catalog/sources.js';
import { Repository } from '../repo/repository.js';
import { repositoryPassphraseKey, type SecretStore } from '../secrets.js';
import { BackupStore } from './backup-store.js';
import { reconcileRepository, type ReconcileReport } from './reconcile.js';

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
    upsertRepository(this.db, repo.root, repo.config);
    this.open.delete(repo.id);
    const store = new BackupStore(this.db, repo);
    this.open.set(repo.id, store);
    this.lastReconcile.set(repo.id, await reconcileRepository(this.db, repo));
    this.tryUnlock(repo);
    return store;
  }

  /** Unlocks with a passphrase (WRONG_PASSPHRASE if it does not fit) and remembers it in the secret store. */
  async unlock(idOrPath: string | undefined, passphrase: string): Promise<BackupStore> {
    const row = getRepository(this.db, idOrPath);
    const repo = this.open.get(row.id)?.repo ?? Repository.open(row.path);
    repo.unlock(passphrase);
    this.secrets.set(repositoryPassphraseKey(repo.id), passphrase);
    return this.open.has(repo.id) ? this.get(repo.id) : this.attach(repo);
  }

  all(): Promise<BackupStore[]> {
    return Promise.all(listRepositories(this.db).map((r) => this.get(r.id)));
  }

  forget(id: string): void {
    this.open.delete(id);
  }
}
