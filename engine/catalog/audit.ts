/** The audit log: destructive and refused actions, who asked, and what happened (DESIGN.md rule 7). */
import type { CatalogDb } from './open-catalog.js';

export interface AuditEntry {
  actor: string;
  action: string;
  target?: string | null;
  outcome: 'done' | 'refused' | 'failed';
  details?: unknown;
}

export function audit(db: CatalogDb, e: AuditEntry): void {
  db.prepare(
    'INSERT INTO audit_log (at, actor, action, target, outcome, details_json) VALUES (?, ?, ?, ?, ?, ?)',
  ).run(
    new Date().toISOString(),
    e.actor,
    e.action,
    e.target ?? null,
    e.outcome,
    e.details === undefined ? null : JSON.stringify(e.details),
  );
}

export interface AuditRow {
  id: number;
  at: string;
  actor: string;
  action: string;
  target: string | null;
  outcome: string;
  details_json: string | null;
}

export function listAudit(db: CatalogDb, limit: number): AuditRow[] {
  return db.prepare('SELECT * FROM audit_log ORDER BY id DESC LIMIT ?').all(limit) as AuditRow[];
}
