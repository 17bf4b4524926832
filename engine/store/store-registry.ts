/**
 * Opens registered repositories on demand, unlocks encrypted ones with the
 * passphrase this run was given (or the one in the secret store), and
 * reconciles each once per engine run before it is used. A writing engine
 * takes each repository's writer lock first (writer-lock.ts), so only the one
 * engine that writes a repository removes its temporaries; a read-only engine
 * (a CLI status beside a running serve) neither locks nor reconciles.
 */
import { ApiError } from '../errors.js';
import type { CatalogDb } from '../catalog/open-catalog.js';
import {
  getRepository,
  listRepositories,
  upsertRepository,
  type RepositoryRow,
} from '../catalog/repositories.js';
import { Repository } from '../repo/repository.js';
import { repositoryPassphraseKey, type SecretStore } from '../secrets.js';
import { BackupStore, type SegmentListener } from './backup-store.js';
import { reconcileRepository, restoreAudit, type ReconcileReport } from './reconcile.js';
import { WriterLock } from './writer-lock.js';
import { readFileSync } from 'node:fs';
import { setAuditMirror, type AuditEntry } from '../catalog/audit.js';
import { appendAuditRecord } from '../repo/audit-log-file.js';
import { writeFileDurableSync } from '../repo/durable-file.js';

/** Errors of a repository on read-only or write-protected media: nobody can write there, so no lock is needed. */
const CANNOT_WRITE = new Set(['EROFS', 'EACCES', 'EPERM']);

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
  /** Writer locks by repository root; null where the medium cannot be written at all. */
  private readonly locks = new Map<string, WriterLock | null>();
  readonly lastReconcile = new Map<string, ReconcileReport>();
  /** Told about every segment a store of this registry appends (set by the composition root). */
  onSegmentAppended: SegmentListener | null = null;
  private readonly segmentAppended: SegmentListener = (sourceId, info, payload) =>
    this.onSegmentAppended?.(sourceId, info, payload);

  constructor(
    private readonly db: CatalogDb,
    private readonly secrets: SecretStore,
    /** A passphrase given for this run (CLI / headless --passphrase-env). */
    private readonly runPassphrase: string | null,
    /** The engine's mode when it writes (named in the lock); null for a read-only engine. */
    private readonly writerMode: string | null = 'cli',
    /**
     * `repositories.json` in the data dir: the paths of repositories this data dir has written,
     * kept outside the catalog so that a catalog damaged beyond reading can still be rebuilt.
     */
    private readonly knownFile: string | null = null,
  ) {
    if (writerMode) setAuditMirror(db, (e) => this.mirrorAudit(e));
  }

  /** Appends an audit entry to the audit.log of each repository this engine writes (or the one it names). */
  private mirrorAudit(e: AuditEntry & { at: string }): void {
    for (const store of this.open.values()) {
      if (e.repositoryId && e.repositoryId !== store.repo.id) continue;
      if (!this.locks.get(store.repo.root)) continue; // not ours to write
      try {
        appendAuditRecord(store.repo, {
          at: e.at,
          actor: e.actor,
          action: e.action,
          target: e.target ?? null,
          outcome: e.outcome,
          details: e.details ?? null,
        });
      } catch (err) {
        // A locked (encrypted) or unwritable repository: the catalog still has the entry.
        console.error(`[audit] not written to ${store.repo.root}: ${(err as Error).message}`);
      }
    }
  }

  /** Repositories to index again before anything else (the catalog was set aside as damaged). */
  private pending: string[] = [];
  private recovering: Promise<void> | null = null;

  /** Paths from `repositories.json` (empty when it is absent or unreadable). */
  knownPaths(): string[] {
    if (!this.knownFile) return [];
    try {
      const v = JSON.parse(readFileSync(this.knownFile, 'utf8')) as unknown;
      return Array.isArray(v) ? v.filter((p): p is string => typeof p === 'string') : [];
    } catch {
      return [];
    }
  }

  private remember(root: string): void {
    if (!this.knownFile) return;
    const known = this.knownPaths();
    if (known.includes(root)) return;
    writeFileDurableSync(this.knownFile, `${JSON.stringify([...known, root], null, 2)}\n`);
  }

  /** Indexes these repositories again at the first use of the registry (see recover()). */
  scheduleRecovery(paths: string[]): void {
    this.pending = [...new Set(paths)];
  }

  /**
   * Rebuilds the index of the repositories scheduled by scheduleRecovery(); every door awaits
   * this before a command, so the first command after a damaged catalog sees it rebuilt. A
   * repository that cannot be opened is skipped (its path is still in repositories.json).
   */
  async recover(): Promise<void> {
    if (this.pending.length === 0) return;
    this.recovering ??= (async () => {
      const paths = this.pending;
      const repos: Repository[] = [];
      for (const p of paths) {
        try {
          repos.push((await this.attach(Repository.open(p))).repo);
        } catch (err) {
          console.error(`[catalog] could not re-index ${p}: ${(err as Error).message}`);
        }
      }
      restoreAudit(this.db, repos);
      this.pending = [];
    })().finally(() => {
      this.recovering = null;
    });
    await this.recovering;
  }

  /**
   * Takes the repository's writer lock for this engine (CONFLICT naming the holder when another
   * engine has it). True when this engine may clean up the repository's temporaries.
   */
  hold(repo: Repository): boolean {
    if (!this.writerMode) return false;
    if (this.locks.has(repo.root)) return this.locks.get(repo.root) !== null;
    try {
      this.locks.set(
        repo.root,
        WriterLock.acquire(repo.root, `The repository ${repo.root}`, this.writerMode),
      );
      this.remember(repo.root);
      return true;
    } catch (err) {
      if (!CANNOT_WRITE.has((err as NodeJS.ErrnoException).code ?? '')) throw err;
      this.locks.set(repo.root, null);
      return false;
    }
  }

  private async reconcile(repo: Repository): Promise<void> {
    if (!this.writerMode) return; // read-only: the writing engine keeps the catalog in line
    const removeTemporaries = this.hold(repo);
    this.lastReconcile.set(repo.id, await reconcileRepository(this.db, repo, { removeTemporaries }));
  }

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
    this.hold(repo); // CONFLICT before anything is cached when another engine writes here
    const store = new BackupStore(this.db, repo, this.segmentAppended);
    this.open.set(row.id, store);
    try {
      this.tryUnlock(repo);
    } finally {
      // Headers, manifests' presence and locks are readable without the key.
      await this.reconcile(repo);
    }
    return store;
  }

  /** Registers a repository that exists on disk (new, or carried from elsewhere) and indexes it. */
  async attach(repo: Repository): Promise<BackupStore> {
    checkEncryptionUnchanged(
      listRepositories(this.db).find((r) => r.id === repo.id),
      repo,
    );
    this.hold(repo);
    upsertRepository(this.db, repo.root, repo.config);
    this.open.delete(repo.id);
    const store = new BackupStore(this.db, repo, this.segmentAppended);
    this.open.set(repo.id, store);
    try {
      this.tryUnlock(repo); // first, so that new files can be authenticated and registered
    } finally {
      await this.reconcile(repo);
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

  /** Releases every repository lock (engine close). */
  close(): void {
    for (const l of this.locks.values()) l?.release();
    this.locks.clear();
  }
}
