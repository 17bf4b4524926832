/** The restore history: who restored what, from which point, where, with which options and outcome. */
import type { CatalogDb } from './open-catalog.js';

export type RestoreState = 'running' | 'succeeded' | 'failed' | 'cancelled';

export interface RestoreRow {
  id: string;
  source_id: string;
  point_json: string;
  kind: string;
  state: RestoreState;
  started_at: string;
  finished_at: string | null;
  details_json: string | null;
}

export function insertRestore(
  db: CatalogDb,
  r: { id: string; sourceId: string; point: unknown; kind: string; details: unknown; startedAt?: Date },
): void {
  db.prepare(
    `INSERT INTO restores (id, source_id, point_json, kind, state, started_at, details_json)
     VALUES (?, ?, ?, ?, 'running', ?, ?)`,
  ).run(
    r.id,
    r.sourceId,
    JSON.stringify(r.point),
    r.kind,
    (r.startedAt ?? new Date()).toISOString(),
    JSON.stringify(r.details),
  );
}

/** Ends a restore; `details` replaces what was recorded at the start (it includes it). */
export function finishRestore(db: CatalogDb, id: string, state: RestoreState, details: unknown): void {
  db.prepare('UPDATE restores SET state = ?, finished_at = ?, details_json = ? WHERE id = ?').run(
    state,
    new Date().toISOString(),
    JSON.stringify(details),
    id,
  );
}

export function listRestores(db: CatalogDb, limit = 200): RestoreRow[] {
  return db.prepare('SELECT * FROM restores ORDER BY started_at DESC, id LIMIT ?').all(limit) as RestoreRow[];
}

export function getRestore(db: CatalogDb, id: string): RestoreRow | undefined {
  return db.prepare('SELECT * FROM restores WHERE id = ?').get(id) as RestoreRow | undefined;
}

/** The newest restore of a kind for a source (the last restore test, for the schedule and the dashboard). */
export function lastRestoreOfKind(db: CatalogDb, sourceId: string, kind: string): RestoreRow | undefined {
  return db
    .prepare('SELECT * FROM restores WHERE source_id = ? AND kind = ? ORDER BY started_at DESC, id LIMIT 1')
    .get(sourceId, kind) as RestoreRow | undefined;
}

/** Restores of a kind for a source still marked running (a crash leaves them so). */
export function runningRestoresOfKind(db: CatalogDb, sourceId: string, kind: string): RestoreRow[] {
  return db
    .prepare("SELECT * FROM restores WHERE source_id = ? AND kind = ? AND state = 'running'")
    .all(sourceId, kind) as RestoreRow[];
}

/** The newest restores of a kind for a source, newest first. */
export function recentRestoresOfKind(
  db: CatalogDb,
  sourceId: string,
  kind: string,
  limit: number,
): RestoreRow[] {
  return db
    .prepare('SELECT * FROM restores WHERE source_id = ? AND kind = ? ORDER BY started_at DESC, id LIMIT ?')
    .all(sourceId, kind, limit) as RestoreRow[];
}
