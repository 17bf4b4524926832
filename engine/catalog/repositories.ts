/** The repositories table: every repository this catalog indexes, by id and path. */
import { ApiError } from '../errors.js';
import type { RepositoryConfig } from '../repo/repository.js';
import type { CatalogDb } from './open-catalog.js';

export interface RepositoryRow {
  id: string;
  path: string;
  format_version: number;
  compression: string;
  encrypted: number;
  created_at: string;
}

export function upsertRepository(db: CatalogDb, path: string, config: RepositoryConfig): void {
  db.prepare(
    `INSERT INTO repositories (id, path, format_version, compression, encrypted, created_at, registered_at)
     VALUES (?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT(id) DO UPDATE SET path = excluded.path, format_version = excluded.format_version`,
  ).run(
    config.repositoryId,
    path,
    config.formatVersion,
    `${config.compression.algorithm}:${config.compression.level}`,
    config.encryption ? 1 : 0,
    config.createdAt,
    new Date().toISOString(),
  );
}

export function listRepositories(db: CatalogDb): RepositoryRow[] {
  return db.prepare('SELECT * FROM repositories ORDER BY registered_at').all() as RepositoryRow[];
}

export function getRepository(db: CatalogDb, idOrPath?: string): RepositoryRow {
  const all = listRepositories(db);
  if (!idOrPath) {
    if (all.length === 1) return all[0]!;
    throw new ApiError(
      all.length === 0 ? 'NOT_FOUND' : 'INVALID_INPUT',
      all.length === 0
        ? 'No repository yet: create one with `repo init --path P`.'
        : 'Several repositories are registered: say which with --repository (id or path).',
    );
  }
  const found = all.find((r) => r.id === idOrPath || r.path === idOrPath);
  if (!found) throw new ApiError('NOT_FOUND', `No repository ${idOrPath} in this catalog.`);
  return found;
}

/** The path of a registered repository, or null. */
export function repositoryPath(db: CatalogDb, repositoryId: string): string | null {
  return (
    (db.prepare('SELECT path FROM repositories WHERE id = ?').pluck().get(repositoryId) as
      string | undefined) ?? null
  );
}
