/**
 * Alerts: persisted in the catalog, published as events (and shown as desktop
 * notifications by the Electron main process). One open alert per source and
 * kind: raising it again while open updates nothing.
 */
import type { CatalogDb } from '../catalog/open-catalog.js';
import type { EventBus } from '../events.js';

export type AlertKind =
  | 'BACKUP_FAILED'
  | 'CAPTURE_FAILED'
  | 'POLICY_UNKNOWN'
  | 'CATALOG_REBUILT'
  | 'PITR_GAP'
  | 'OPLOG_WINDOW_LOW'
  | 'RPO_EXCEEDED'
  | 'DISK_NEARLY_FULL'
  | 'COPY_FAILING'
  | 'KEYCHAIN_UNPROTECTED';
export type Severity = 'warning' | 'critical';

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

export function raiseAlert(
  db: CatalogDb,
  events: EventBus,
  a: { sourceId: string | null; kind: AlertKind; severity: Severity; message: string; details?: unknown },
): AlertRow | null {
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
      new Date().toISOString(),
      a.details === undefined ? null : JSON.stringify(a.details),
    );
  const row = db.prepare('SELECT * FROM alerts WHERE id = ?').get(res.lastInsertRowid) as AlertRow;
  events.publish('alert.raised', {
    id: row.id,
    sourceId: row.source_id,
    kind: row.kind,
    severity: row.severity,
    message: row.message,
    raisedAt: row.raised_at,
  });
  return row;
}

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
