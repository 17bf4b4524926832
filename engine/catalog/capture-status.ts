/**
 * The capture_status table: the live metrics of each running capture as last
 * written by the process that captures (desktop or headless), so that a CLI
 * `status` in another process can show them.
 */
import type { CatalogDb } from './open-catalog.js';

export function saveCaptureStatus(db: CatalogDb, sourceId: string, metrics: unknown, at = new Date()): void {
  db.prepare(
    `INSERT INTO capture_status (source_id, metrics_json, updated_at) VALUES (?, ?, ?)
     ON CONFLICT(source_id) DO UPDATE SET metrics_json = excluded.metrics_json, updated_at = excluded.updated_at`,
  ).run(sourceId, JSON.stringify(metrics), at.toISOString());
}

export function readCaptureStatus(
  db: CatalogDb,
  sourceId: string,
): { metrics: unknown; updatedAt: string } | null {
  const row = db
    .prepare('SELECT metrics_json, updated_at FROM capture_status WHERE source_id = ?')
    .get(sourceId) as { metrics_json: string; updated_at: string } | undefined;
  return row ? { metrics: JSON.parse(row.metrics_json) as unknown, updatedAt: row.updated_at } : null;
}
