/**
 * Alerts: persisted in the catalog (catalog/alerts.ts), published as events
 * (and shown as desktop notifications by the Electron main process). One open
 * alert per source and kind: raising it again while open updates nothing.
 */
import { insertAlertUnlessOpen, type AlertRow, type NewAlert } from '../catalog/alerts.js';
import type { CatalogDb } from '../catalog/open-catalog.js';
import type { EventBus } from '../events.js';

export function raiseAlert(db: CatalogDb, events: EventBus, a: NewAlert): AlertRow | null {
  const row = insertAlertUnlessOpen(db, a);
  if (!row) return null;
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
