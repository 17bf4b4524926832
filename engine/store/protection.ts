/** Keeps sources/<id>/protection.json in line with the catalog, and the catalog with it after a rebuild. */
import { ConnectionString } from 'mongodb-connection-string-url';
import type { CatalogDb } from '../catalog/open-catalog.js';
import { findBackupJob } from '../catalog/backup-jobs.js';
import { readProtectionRows, restoreProtectionRows, type ProtectionRows } from '../catalog/protection.js';
import { readProtectionFile, writeProtectionFile } from '../repo/protection-file.js';
import type { Repository } from '../repo/repository.js';

/** Connection-string options that carry secrets: never written to a repository. */
const SECRET_OPTIONS = ['tlsCertificateKeyFilePassword', 'authMechanismProperties', 'proxyPassword'];

/** The connection with secret options removed from its URI (they are asked for again after a rebuild). */
function withoutSecrets(connection: unknown): unknown {
  const c = connection as { uri?: unknown } | null;
  if (!c || typeof c.uri !== 'string') return connection;
  try {
    const cs = new ConnectionString(c.uri);
    for (const [k] of [...cs.searchParams])
      if (SECRET_OPTIONS.some((o) => o.toLowerCase() === k.toLowerCase())) cs.searchParams.delete(k);
    return { ...c, uri: cs.toString() };
  } catch {
    return { ...c, uri: null };
  }
}

/**
 * The repository's view: no secrets, and a Misconfigured job stored as Active (its cause is
 * runtime, the DBA's intent is to protect).
 */
function intended(rows: ProtectionRows): ProtectionRows {
  return {
    ...rows,
    connection: withoutSecrets(rows.connection),
    job: rows.job && {
      state: rows.job.state === 'misconfigured' ? 'active' : rows.job.state,
      policy: rows.job.policy,
    },
  };
}

export async function saveProtection(db: CatalogDb, repo: Repository, sourceId: string): Promise<void> {
  const rows = intended(readProtectionRows(db, sourceId));
  await writeProtectionFile(repo, { sourceId, updatedAt: new Date().toISOString(), ...rows });
}

export interface ProtectionSync {
  /** What the catalog took from the file: connection restored, job restored or assumed. */
  restored: ReturnType<typeof restoreProtectionRows>;
  /** The file was (re)written from the catalog (absent in an older repository, or out of date). */
  mirrored: boolean;
  unreadable: string | null;
}

/**
 * Reconcile's step for one source: fill the catalog from the file where it lacks the connection
 * or the job (a rebuild), then write the file from the catalog where it is missing or stale
 * (repositories from before this file, or a change made while the repository was away). An
 * assumed job is never written back: the file must only ever hold a policy somebody chose.
 */
export async function syncProtection(
  db: CatalogDb,
  repo: Repository,
  sourceId: string,
  newlyIndexed: boolean,
): Promise<ProtectionSync> {
  let unreadable: string | null = null;
  const file = await readProtectionFile(repo, sourceId).catch((err: Error) => {
    unreadable = err.message;
    return null;
  });
  const restored = restoreProtectionRows(db, sourceId, file, newlyIndexed);
  let mirrored = false;
  const rows = intended(readProtectionRows(db, sourceId));
  const origin = findBackupJob(db, sourceId)?.policy_origin;
  const same =
    file &&
    JSON.stringify([file.connection, file.options, file.job]) ===
      JSON.stringify([rows.connection, rows.options, rows.job]);
  if (!same && !unreadable && origin !== 'assumed' && (!repo.encrypted || repo.unlocked)) {
    try {
      await writeProtectionFile(repo, { sourceId, updatedAt: new Date().toISOString(), ...rows });
      mirrored = true;
    } catch {
      // Read-only media: nothing can be kept there anyway.
    }
  }
  return { restored, mirrored, unreadable };
}
