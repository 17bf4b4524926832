/** Repositories and sources known to this catalog. */
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

export interface SourceRow {
  id: string;
  name: string;
  repository_id: string;
  uri_redacted: string | null;
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

export function upsertSource(
  db: CatalogDb,
  s: { id: string; name: string; repositoryId: string; createdAt: string; uriRedacted?: string | null },
): void {
  const clash = db.prepare('SELECT id FROM sources WHERE name = ? AND id <> ?').get(s.name, s.id);
  if (clash) throw new ApiError('CONFLICT', `Another source is already named "${s.name}".`);
  db.prepare(
    `INSERT INTO sources (id, name, repository_id, uri_redacted, created_at) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT(id) DO UPDATE SET name = excluded.name, repository_id = excluded.repository_id`,
  ).run(s.id, s.name, s.repositoryId, s.uriRedacted ?? null, s.createdAt);
}

export function getSourceByName(db: CatalogDb, name: string): SourceRow {
  const row = db.prepare('SELECT * FROM sources WHERE name = ?').get(name) as SourceRow | undefined;
  if (!row) throw new ApiError('NOT_FOUND', `No source named "${name}".`);
  return row;
}

export function listSources(db: CatalogDb, repositoryId?: string): SourceRow[] {
  return (
    repositoryId
      ? db.prepare('SELECT * FROM sources WHERE repository_id = ? ORDER BY name').all(repositoryId)
      : db.prepare('SELECT * FROM sources ORDER BY name').all()
  ) as SourceRow[];
}

export interface SourceConnectionRow {
  connection_json: string | null;
  secret_json: string | null;
}

export function setSourceConnection(
  db: CatalogDb,
  sourceId: string,
  connection: unknown,
  secret: unknown | null,
): void {
  db.prepare('UPDATE sources SET connection_json = ?, secret_json = ? WHERE id = ?').run(
    JSON.stringify(connection),
    secret === null ? null : JSON.stringify(secret),
    sourceId,
  );
}

export function getSourceConnection(db: CatalogDb, sourceId: string): SourceConnectionRow {
  return db
    .prepare('SELECT connection_json, secret_json FROM sources WHERE id = ?')
    .get(sourceId) as SourceConnectionRow;
}

/**
 * An imported source came from a mongodump (import): no connection, nothing
 * to capture or schedule. Kept in options_json beside the probed topology,
 * which is what decides whether capture starts.
 */
export const IMPORTED_TOPOLOGY = 'imported';

export function markImportedSource(db: CatalogDb, sourceId: string): void {
  db.prepare('UPDATE sources SET options_json = ? WHERE id = ?').run(
    JSON.stringify({ topology: IMPORTED_TOPOLOGY }),
    sourceId,
  );
}

export function isImportedSource(db: CatalogDb, sourceId: string): boolean {
  const json = db.prepare('SELECT options_json FROM sources WHERE id = ?').pluck().get(sourceId) as
    string | undefined;
  return (JSON.parse(json ?? '{}') as { topology?: string }).topology === IMPORTED_TOPOLOGY;
}

/** A replica set has an oplog; a standalone (and an imported dump) has none of its own. */
export function sourceHasOplog(db: CatalogDb, sourceId: string): boolean {
  const json = db.prepare('SELECT options_json FROM sources WHERE id = ?').pluck().get(sourceId) as
    string | undefined;
  return ((JSON.parse(json ?? '{}') as { topology?: string }).topology ?? 'replicaSet') === 'replicaSet';
}

/** Forgets a source row (an import that failed before writing anything of it). */
export function deleteSourceRow(db: CatalogDb, sourceId: string): void {
  db.transaction(() => {
    db.prepare('DELETE FROM backup_jobs WHERE source_id = ?').run(sourceId);
    db.prepare('DELETE FROM sources WHERE id = ?').run(sourceId);
  })();
}
