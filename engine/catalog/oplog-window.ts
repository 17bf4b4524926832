/** The source's own oplog window as last measured (source test, scheduler): shown on the dashboard. */
import type { OpTime } from '../repo/optime.js';
import type { CatalogDb } from './open-catalog.js';

export interface OplogWindow {
  first: OpTime;
  last: OpTime;
  hours: number;
  checkedAt: string;
}

export function recordOplogWindow(
  db: CatalogDb,
  sourceId: string,
  oplog: { first: OpTime; last: OpTime; hours: number } | null,
): void {
  if (!oplog) return; // a standalone has none; keep nothing rather than a misleading zero
  db.prepare(
    `INSERT OR REPLACE INTO source_oplog_window (source_id, first_t, first_i, last_t, last_i, hours, checked_at)
     VALUES (?, ?, ?, ?, ?, ?, ?)`,
  ).run(
    sourceId,
    oplog.first.t,
    oplog.first.i,
    oplog.last.t,
    oplog.last.i,
    oplog.hours,
    new Date().toISOString(),
  );
}

export function getOplogWindow(db: CatalogDb, sourceId: string): OplogWindow | null {
  const r = db.prepare('SELECT * FROM source_oplog_window WHERE source_id = ?').get(sourceId) as
    | { first_t: number; first_i: number; last_t: number; last_i: number; hours: number; checked_at: string }
    | undefined;
  return r
    ? {
        first: { t: r.first_t, i: r.first_i },
        last: { t: r.last_t, i: r.last_i },
        hours: r.hours,
        checkedAt: r.checked_at,
      }
    : null;
}
