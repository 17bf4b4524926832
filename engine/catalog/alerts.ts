/** The alerts table: one row per raised condition, resolved when it clears or is acknowledged. */
import type { AlertKind, AlertSeverity as Severity } from '../api/schemas.js';
import type { CatalogDb } from './open-catalog.js';

export type { AlertKind, Severity };

export interface AlertRow {
  id: number;
  source_id: string | null;
  kind: AlertKind;
  severity: Severity;
  message: string;
  raised_at: string;
  resolved_at: string | null;
  details_json: string | null;
}

export interface NewAlert {
  sourceId: string | null;
  kind: AlertKind;
  severity: Severity;
  message: string;
  details?: unknown;
}

/**
 * Inserts the alert unless one of the same kind is open for the source;
 * returns the new row, or null when it was already open.
 */
export function insertAlertUnlessOpen(db: CatalogDb, a: NewAlert, at = new Date()): AlertRow | null {
  return db.transaction(() => {
    const open = db
      .prepare('SELECT id FROM alerts WHERE kind = ? AND source_id IS ? AND resolved_at IS NULL')
      .get(a.kind, a.sourceId);
    if (open) return null;
    const res = db
      .prepare(
        'INSERT INTO alerts (source_id, kind, severity, message, raised_at, details_json) VALUES (?, ?, ?, ?, ?, ?)',
      )
      .run(
        a.sourceId,
        a.kind,
        a.severity,
        a.message,
        at.toISOString(),
        a.details === undefined ? null : JSON.stringify(a.details),
      );
    return db.prepare('SELECT * FROM alerts WHERE id = ?').get(res.lastInsertRowid) as AlertRow;
  })();
}

/** Resolves the open alerts of one kind for a source (null: not tied to a source); returns how many. */
export function resolveAlerts(db: CatalogDb, sourceId: string | null, kind: AlertKind): number {
  return db
    .prepare('UPDATE alerts SET resolved_at = ? WHERE kind = ? AND source_id IS ? AND resolved_at IS NULL')
    .run(new Date().toISOString(), kind, sourceId).changes;
}

/** Marks one alert resolved; returns it, or null when there is no such alert. */
export function resolveAlertById(db: CatalogDb, id: number): AlertRow | null {
  db.prepare('UPDATE alerts SET resolved_at = ? WHERE id = ? AND resolved_at IS NULL').run(
    new Date().toISOString(),
    id,
  );
  return (db.prepare('SELECT * FROM alerts WHERE id = ?').get(id) as AlertRow | undefined) ?? null;
}

export function listAlerts(db: CatalogDb, opts: { sourceId?: string; open?: boolean } = {}): AlertRow[] {
  const where: string[] = [];
  const args: unknown[] = [];
  if (opts.sourceId) {
    where.push('source_id = ?');
    args.push(opts.sourceId);
  }
  if (opts.open) where.push('resolved_at IS NULL');
  return db
    .prepare(
      `SELECT * FROM alerts ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT 1000`,
    )
    .all(...args) as AlertRow[];
}
