/**
 * The catalog side of a source's protection settings (connection without secrets, topology,
 * backup job policy and state), as mirrored in the repository by `sources/<id>/protection.json`
 * and restored from it by `catalog rebuild`.
 */
import type { CatalogDb } from './open-catalog.js';

export interface ProtectionRows {
  connection: unknown;
  options: unknown;
  job: { state: string; policy: unknown } | null;
}

export function readProtectionRows(db: CatalogDb, sourceId: string): ProtectionRows {
  const s = db.prepare('SELECT connection_json, options_json FROM sources WHERE id = ?').get(sourceId) as
    { connection_json: string | null; options_json: string | null } | undefined;
  const j = db.prepare('SELECT state, policy_json FROM backup_jobs WHERE source_id = ?').get(sourceId) as
    { state: string; policy_json: string } | undefined;
  return {
    connection: s?.connection_json ? JSON.parse(s.connection_json) : null,
    options: s?.options_json ? JSON.parse(s.options_json) : null,
    job: j ? { state: j.state, policy: JSON.parse(j.policy_json) } : null,
  };
}

/**
 * Fills in what the catalog lacks from the repository's copy: the connection when the source has
 * none, the backup job when it has none. Never overwrites what the catalog already knows.
 */
export function restoreProtectionRows(
  db: CatalogDb,
  sourceId: string,
  p: ProtectionRows | null,
  /** The source was just indexed from the repository (a rebuild): without a policy, assume one. */
  newlyIndexed: boolean,
  now = new Date(),
): { connection: boolean; job: 'repository' | 'assumed' | null } {
  return db.transaction(() => {
    let connection = false;
    if (p?.connection) {
      connection =
        db
          .prepare('UPDATE sources SET connection_json = ? WHERE id = ? AND connection_json IS NULL')
          .run(JSON.stringify(p.connection), sourceId).changes > 0;
      if (p.options)
        db.prepare("UPDATE sources SET options_json = ? WHERE id = ? AND options_json IN ('{}', '')").run(
          JSON.stringify(p.options),
          sourceId,
        );
    }
    const origin: 'repository' | 'assumed' = p?.job ? 'repository' : 'assumed';
    // A job filled in by an earlier rebuild that could not read the file (locked, damaged) takes it now.
    if (p?.job)
      db.prepare(
        `UPDATE backup_jobs SET policy_json = ?, state = ?, policy_origin = 'repository', updated_at = ?
         WHERE source_id = ? AND policy_origin = 'assumed'`,
      ).run(JSON.stringify(p.job.policy), p.job.state, now.toISOString(), sourceId);
    if (!p?.job && !newlyIndexed) return { connection, job: null };
    const inserted = db
      .prepare(
        `INSERT OR IGNORE INTO backup_jobs (source_id, policy_json, state, reason, updated_at, policy_origin)
         VALUES (?, ?, ?, NULL, ?, ?)`,
      )
      .run(
        sourceId,
        JSON.stringify(p?.job?.policy ?? {}),
        p?.job?.state ?? 'active',
        now.toISOString(),
        origin,
      ).changes;
    return { connection, job: inserted ? origin : null };
  })();
}
