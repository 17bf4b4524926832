/** Settings rows: only values the user changed are stored; defaults come from the schema. */
import { SETTINGS_DEFAULTS, Settings } from '../api/schemas.js';
import type { CatalogDb } from './open-catalog.js';

export function readSettings(db: CatalogDb): Settings {
  const rows = db.prepare('SELECT key, value_json FROM settings').all() as {
    key: string;
    value_json: string;
  }[];
  const stored: Record<string, unknown> = {};
  const known = new Set(Object.keys(Settings.shape));
  // A key from a newer version, or one that no longer validates, is ignored
  // rather than making the whole app unusable.
  for (const r of rows) if (known.has(r.key)) stored[r.key] = JSON.parse(r.value_json);
  const parsed = Settings.safeParse({ ...SETTINGS_DEFAULTS, ...stored });
  return parsed.success ? parsed.data : { ...SETTINGS_DEFAULTS };
}

export function writeSettings(db: CatalogDb, change: Partial<Settings>): Settings {
  const now = new Date().toISOString();
  const upsert = db.prepare(
    `INSERT INTO settings (key, value_json, updated_at) VALUES (?, ?, ?)
     ON CONFLICT(key) DO UPDATE SET value_json = excluded.value_json, updated_at = excluded.updated_at`,
  );
  db.transaction(() => {
    for (const [key, value] of Object.entries(change)) {
      if (value !== undefined) upsert.run(key, JSON.stringify(value), now);
    }
  })();
  return readSettings(db);
}
