/** The rows `catalog rebuild` re-derives from a repository, removed for the repositories it is given only. */
import type { CatalogDb } from './open-catalog.js';

/**
 * Forgets the index of some repositories (coverage, snapshots, segments, journal tails, incidents, copy
 * records), keeping
 * everything the repository cannot give back (sources' connections, jobs, alerts, audit) and the
 * rows of every other repository.
 */
export function forgetRepositoryIndex(db: CatalogDb, repositoryIds: readonly string[]): void {
  const ofSources = 'source_id IN (SELECT id FROM sources WHERE repository_id = ?)';
  db.transaction(() => {
    for (const id of repositoryIds) {
      db.prepare(`DELETE FROM coverage_intervals WHERE ${ofSources}`).run(id);
      db.prepare(
        `DELETE FROM snapshot_namespaces WHERE snapshot_id IN (SELECT id FROM snapshots WHERE ${ofSources})`,
      ).run(id);
      db.prepare(`DELETE FROM snapshots WHERE ${ofSources}`).run(id);
      db.prepare(`DELETE FROM oplog_segments WHERE ${ofSources}`).run(id);
      db.prepare(`DELETE FROM capture_journals WHERE ${ofSources}`).run(id);
      // Findings of the destructive-operation finder come from the segments: scanned again from the start.
      db.prepare(`DELETE FROM incidents WHERE ${ofSources}`).run(id);
      db.prepare(`DELETE FROM incident_scans WHERE ${ofSources}`).run(id);
      db.prepare(
        'DELETE FROM file_copies WHERE target_id IN (SELECT id FROM copy_targets WHERE repository_id = ?)',
      ).run(id);
    }
  })();
}
