/** The verifications table: one row per `repo verify` run, with its report. */
import type { CatalogDb } from './open-catalog.js';

export function insertVerification(
  db: CatalogDb,
  v: {
    id: string;
    repositoryId: string;
    startedAt: string;
    finishedAt: string;
    filesChecked: number;
    missing: number;
    corrupt: number;
    report: unknown;
  },
): void {
  db.prepare(
    `INSERT INTO verifications (id, repository_id, started_at, finished_at, files_checked, missing, corrupt, report_json)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(
    v.id,
    v.repositoryId,
    v.startedAt,
    v.finishedAt,
    v.filesChecked,
    v.missing,
    v.corrupt,
    JSON.stringify(v.report),
  );
}
