/** The sources table: the MongoDB deployments protected, their connection settings and topology. */
import { ApiError } from '../errors.js';
import type { CatalogDb } from './open-catalog.js';

export interface SourceRow {
  id: string;
  name: string;
  repository_id: string;
  uri_redacted: string | null;
  created_at: string;
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

/** The source of that name, or undefined (getSourceByName says NOT_FOUND instead). */
export function findSourceByName(db: CatalogDb, name: string): SourceRow | undefined {
  return db.prepare('SELECT * FROM sources WHERE name = ?').get(name) as SourceRow | undefined;
}

export function sourceExists(db: CatalogDb, sourceId: string): boolean {
  return !!db.prepare('SELECT 1 FROM sources WHERE id = ?').get(sourceId);
}

export function sourceNameById(db: CatalogDb, sourceId: string): string | null {
  return (
    (db.prepare('SELECT name FROM sources WHERE id = ?').pluck().get(sourceId) as string | undefined) ?? null
  );
}

export function getSourceByName(db: CatalogDb, name: string): SourceRow {
  const row = findSourceByName(db, name);
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

/** A standalone has no oplog: snapshots only. Unknown (older catalogs) counts as a replica set. */
export function sourceIsReplicaSet(db: CatalogDb, sourceId: string): boolean {
  const json = db.prepare('SELECT options_json FROM sources WHERE id = ?').pluck().get(sourceId) as
    string | null | undefined;
  const o = JSON.parse(json ?? '{}') as { topology?: string };
  return (o.topology ?? 'replicaSet') === 'replicaSet';
}

/** Records the topology the last test found (replicaSet, standalone). */
export function setSourceTopology(db: CatalogDb, sourceId: string, topology: string): void {
  db.prepare('UPDATE sources SET options_json = ? WHERE id = ?').run(JSON.stringify({ topology }), sourceId);
}

/** Removes a source's catalog row (its segments and snapshots must be gone already). */
export function deleteSource(db: CatalogDb, sourceId: string): void {
  db.prepare('DELETE FROM sources WHERE id = ?').run(sourceId);
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

/**
 * Rewrites a source's connection and secrets in one statement, only while the row still holds
 * `expected` (an edit in between wins; false then). For secrets an older version left in clear in
 * connection_json: secure_delete zeroes the old row's bytes where the page keeps freed space, and a
 * TRUNCATE checkpoint copies the page into the file and empties the WAL that held them.
 */
export function replaceSourceConnection(
  db: CatalogDb,
  sourceId: string,
  expected: SourceConnectionRow,
  connection: unknown,
  secret: unknown | null,
): boolean {
  const secureDelete = db.pragma('secure_delete', { simple: true }) as number;
  db.pragma('secure_delete = ON');
  try {
    const r = db
      .prepare(
        'UPDATE sources SET connection_json = ?, secret_json = ? WHERE id = ? AND connection_json IS ? AND secret_json IS ?',
      )
      .run(
        JSON.stringify(connection),
        secret === null ? null : JSON.stringify(secret),
        sourceId,
        expected.connection_json,
        expected.secret_json,
      );
    if (r.changes !== 1) return false;
    db.pragma('wal_checkpoint(TRUNCATE)');
    return true;
  } finally {
    db.pragma(`secure_delete = ${secureDelete ? 'ON' : 'OFF'}`);
  }
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
