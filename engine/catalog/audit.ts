/** The audit log: destructive and refused actions, who asked, and what happened (DESIGN.md rule 7). */
import type { CatalogDb } from './open-catalog.js';

export interface AuditEntry {
  actor: string;
  action: string;
  target?: string | null;
  outcome: 'done' | 'refused' | 'failed';
  details?: unknown;
  /** The repository the action concerns (its own audit.log gets the entry); otherwise every one held. */
  repositoryId?: string;
}

export type AuditMirror = (e: AuditEntry & { at: string }) => void;
const mirrors = new WeakMap<CatalogDb, AuditMirror>();

/** Where entries go besides the catalog: the repositories' audit.log (store-registry.ts sets it). */
export function setAuditMirror(db: CatalogDb, mirror: AuditMirror): void {
  mirrors.set(db, mirror);
}

export function audit(db: CatalogDb, e: AuditEntry): void {
  const at = new Date().toISOString();
  db.prepare(
    'INSERT INTO audit_log (at, actor, action, target, outcome, details_json) VALUES (?, ?, ?, ?, ?, ?)',
  ).run(
    at,
    e.actor,
    e.action,
    e.target ?? null,
    e.outcome,
    e.details === undefined ? null : JSON.stringify(e.details),
  );
  mirrors.get(db)?.({ ...e, at });
}

/** Entries read back from a repository's audit.log by a rebuild, when the catalog has none. */
export function importAudit(
  db: CatalogDb,
  entries: {
    at: string;
    actor: string;
    action: string;
    target: string | null;
    outcome: string;
    details: unknown;
  }[],
): number {
  if (db.prepare('SELECT 1 FROM audit_log LIMIT 1').get()) return 0;
  const insert = db.prepare(
    'INSERT INTO audit_log (at, actor, action, target, outcome, details_json) VALUES (?, ?, ?, ?, ?, ?)',
  );
  db.transaction(() => {
    for (const e of entries)
      insert.run(
        e.at,
        e.actor,
        e.action,
        e.target,
        e.outcome,
        e.details == null ? null : JSON.stringify(e.details),
      );
  })();
  return entries.length;
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
