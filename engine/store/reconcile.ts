/**
 * Brings the catalog in line with the repository (DESIGN.md rules 4 and 5):
 * removes temporaries left by a crash, registers durable files the catalog
 * does not know, marks rows whose file is gone as missing, re-reads retention
 * locks, and recomputes coverage where anything changed. Run at start-up and
 * by `catalog rebuild` (on an emptied catalog, which makes it a full rebuild).
 */
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { hasCoverageIntervals, recomputeCoverage } from '../catalog/coverage.js';
import { forgetRepositoryIndex } from '../catalog/rebuild.js';
import { importAudit } from '../catalog/audit.js';
import { readAuditLog, type AuditRecord } from '../repo/audit-log-file.js';
import type { CatalogDb } from '../catalog/open-catalog.js';
import { extendLockedUntil } from '../catalog/retention-locks.js';
import { insertSegment, segmentPathsOfSource, setSegmentStatus } from '../catalog/segments.js';
import {
  insertCompleteSnapshot,
  insertCorruptSnapshot,
  insertIncompleteSnapshot,
  setSnapshotStatus,
  snapshotStatuses,
} from '../catalog/snapshots.js';
import { upsertRepository } from '../catalog/repositories.js';
import { markImportedSource, sourceExists, upsertSource } from '../catalog/sources.js';
import { isTempName, removeTemporaries } from '../repo/durable-file.js';
import type { Repository } from '../repo/repository.js';
import { readLockFiles } from '../repo/retention-lock-file.js';
import { readSegmentHeader, type SegmentInfo } from '../repo/segment-file.js';
import { MANIFEST_FILE, readManifest, snapshotRelDir } from '../repo/snapshot-files.js';
import { readSourceFile } from '../repo/source-file.js';
import { PROTECTION_FILE } from '../repo/protection-file.js';
import { syncProtection } from './protection.js';
import type { ApiError } from '../errors.js';
import { insertAlertUnlessOpen } from '../catalog/alerts.js';
import { encodeSegmentInWorker } from '../repo/seal-pool.js';
import { BackupStore } from './backup-store.js';
import {
  journalDamageAlert,
  indexJournals,
  listJournalFiles,
  recoverJournals,
  type JournalDamage,
} from './journal-recovery.js';

export interface ReconcileReport {
  temporariesRemoved: number;
  segmentsRegistered: number;
  snapshotsRegistered: number;
  markedMissing: string[];
  unreadable: { path: string; error: string }[];
  /**
   * New files of an encrypted repository left unregistered because it is
   * locked: their headers and manifests can only be authenticated with the
   * key, and the catalog never takes an unauthenticated one. Registered by
   * the reconcile that follows the unlock.
   */
  deferredUntilUnlocked: number;
  /** Sources whose job had no readable policy in the repository: the default is assumed, retention waits. */
  policiesAssumed: string[];
  /** Segments sealed from capture journals a crash left (only by the engine that writes the repository). */
  journalsSealed: number;
  /** Journal files that failed their check: sealed up to the damage, set aside, JOURNAL_DAMAGED raised. */
  journalsDamaged: JournalDamage[];
}

const SEGMENT_NAME = /^(\d+)-(\d+)_(\d+)-(\d+)\.seg$/;

async function listDir(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).filter((n) => !isTempName(n)).sort();
  } catch {
    return [];
  }
}

/** Every segment file of a source, relative to the repository root, in time order. */
export async function listSegmentFiles(repo: Repository, sourceId: string): Promise<string[]> {
  const out: string[] = [];
  const base = join('sources', sourceId, 'oplog');
  for (const y of await listDir(repo.abs(base)))
    for (const m of await listDir(repo.abs(join(base, y))))
      for (const d of await listDir(repo.abs(join(base, y, m))))
        for (const f of await listDir(repo.abs(join(base, y, m, d))))
          if (f.endsWith('.seg')) out.push(join(base, y, m, d, f));
  return out;
}

export interface ReconcileOptions {
  /** Only for the engine holding the repository's writer lock: another engine's files in flight look the same. */
  removeTemporaries: boolean;
}

export async function reconcileRepository(
  db: CatalogDb,
  repo: Repository,
  opts: ReconcileOptions = { removeTemporaries: false },
): Promise<ReconcileReport> {
  const report: ReconcileReport = {
    temporariesRemoved: 0,
    segmentsRegistered: 0,
    snapshotsRegistered: 0,
    markedMissing: [],
    unreadable: [],
    deferredUntilUnlocked: 0,
    policiesAssumed: [],
    journalsSealed: 0,
    journalsDamaged: [],
  };
  const locked = repo.encrypted && !repo.unlocked;
  if (opts.removeTemporaries) report.temporariesRemoved = (await removeTemporaries(repo.root)).length;
  upsertRepository(db, repo.root, repo.config);

  for (const sourceId of await listDir(join(repo.root, 'sources'))) {
    const sf = await readSourceFile(repo, sourceId).catch((err: ApiError) => {
      report.unreadable.push({ path: `sources/${sourceId}/source.json`, error: err.message });
      return null;
    });
    const known = sourceExists(db, sourceId);
    if (!sf && !known) continue;
    if (sf)
      upsertSource(db, {
        id: sourceId,
        name: sf.name,
        repositoryId: repo.id,
        createdAt: sf.createdAt,
        uriRedacted: sf.uriRedacted,
      });
    if (sf?.imported) markImportedSource(db, sourceId);
    // Connection and job from protection.json where the catalog lacks them (a rebuild), and back.
    // An imported dump has neither a connection nor a policy to recover (its job stays Stopped).
    const protection = sf?.imported
      ? { restored: { connection: false, job: null }, unreadable: null }
      : await syncProtection(db, repo, sourceId, !known);
    if (protection.unreadable)
      report.unreadable.push({
        path: `sources/${sourceId}/${PROTECTION_FILE}`,
        error: protection.unreadable,
      });
    if (protection.restored.job === 'assumed') report.policiesAssumed.push(sourceId);
    let changed = false;

    // Segments: register unknown files; mark known rows whose file is gone.
    const files = await listSegmentFiles(repo, sourceId);
    const knownPaths = new Set(segmentPathsOfSource(db, sourceId));
    const toInsert: { info: SegmentInfo; status: 'ok' | 'corrupt' }[] = [];
    for (const path of files) {
      if (knownPaths.delete(path)) continue;
      if (locked) {
        report.deferredUntilUnlocked++;
        continue;
      }
      try {
        toInsert.push({ info: readSegmentHeader(repo, path), status: 'ok' });
      } catch (err) {
        // CONFLICT: an encrypted file while repository.json says unencrypted; refuse the repository.
        if ((err as ApiError).code === 'LOCKED' || (err as ApiError).code === 'CONFLICT') throw err;
        // The name still says which range the file held: keep it as a known, corrupt segment (a gap).
        const m = SEGMENT_NAME.exec(path.split('/').pop()!);
        report.unreadable.push({ path, error: (err as Error).message });
        if (m) {
          toInsert.push({
            status: 'corrupt',
            info: {
              type: 'oplog-segment',
              formatVersion: 1,
              sourceId,
              path,
              count: 0,
              rawBytes: 0,
              storedBytes: 0,
              firstTs: { t: Number(m[1]), i: Number(m[2]) },
              lastTs: { t: Number(m[3]), i: Number(m[4]) },
              prevLastTs: null,
              payloadSha256: '',
              createdAt: new Date().toISOString(),
            },
          });
        }
      }
    }
    db.transaction(() => {
      for (const x of toInsert) if (insertSegment(db, x.info, x.status).inserted) report.segmentsRegistered++;
      for (const gone of knownPaths) {
        if (setSegmentStatus(db, gone, 'missing')) report.markedMissing.push(gone);
      }
    })();
    changed ||= toInsert.length > 0 || knownPaths.size > 0;

    // Capture journals: the writer seals what a crash left (after the segments above are known, so
    // the chain continues from the right tip); any other engine only indexes their durable tails.
    if (locked) report.deferredUntilUnlocked += (await listJournalFiles(repo, sourceId)).length;
    else if (opts.removeTemporaries) {
      const rec = await recoverJournals(new BackupStore(db, repo), sourceId, encodeSegmentInWorker);
      report.journalsSealed += rec.sealed.length;
      report.journalsDamaged.push(...rec.damaged);
      for (const d of rec.damaged) report.unreadable.push({ path: d.path, error: d.error });
      if (rec.damaged.length) insertAlertUnlessOpen(db, journalDamageAlert(sourceId, rec.damaged));
    } else await indexJournals(db, repo, sourceId, report.unreadable);

    // Snapshots: a directory with a manifest is complete; without one, incomplete.
    const snapDirs = await listDir(repo.snapshotsDir(sourceId));
    const knownSnaps = new Map(snapshotStatuses(db, sourceId).map((r) => [r.id, r.status]));
    for (const id of snapDirs) {
      const rel = snapshotRelDir(sourceId, id);
      const status = knownSnaps.get(id);
      knownSnaps.delete(id);
      if (status === 'complete' || status === 'corrupt') {
        if (!existsSync(repo.abs(join(rel, MANIFEST_FILE)))) {
          setSnapshotStatus(db, id, 'missing');
          report.markedMissing.push(rel);
        }
        continue;
      }
      if (!existsSync(repo.abs(join(rel, MANIFEST_FILE)))) {
        insertIncompleteSnapshot(db, sourceId, id, rel);
        continue;
      }
      if (locked) {
        report.deferredUntilUnlocked++;
        continue;
      }
      try {
        if (insertCompleteSnapshot(db, rel, await readManifest(repo, rel))) report.snapshotsRegistered++;
      } catch (err) {
        report.unreadable.push({ path: join(rel, MANIFEST_FILE), error: (err as Error).message });
        insertCorruptSnapshot(db, id, sourceId, rel);
      }
    }
    for (const [id, status] of knownSnaps) {
      if (status !== 'missing' && setSnapshotStatus(db, id, 'missing'))
        report.markedMissing.push(snapshotRelDir(sourceId, id));
    }

    // Retention locks come from the repository too, each for the source whose directory holds it.
    for (const l of await readLockFiles(repo, sourceId, report.unreadable)) {
      extendLockedUntil(db, l.kind, l.target, l.until, sourceId);
    }

    const hasIntervals = hasCoverageIntervals(db, sourceId);
    if (changed || !hasIntervals) recomputeCoverage(db, sourceId);
  }
  return report;
}

/**
 * Empties what the given repositories can rebuild (and only theirs: the rows of repositories not
 * given stay as they are), then reconciles them: their index as if new.
 */
export async function rebuildFromRepository(
  db: CatalogDb,
  repos: Repository[],
  opts: ReconcileOptions,
): Promise<ReconcileReport[]> {
  forgetRepositoryIndex(
    db,
    repos.map((r) => r.id),
  );
  const reports: ReconcileReport[] = [];
  for (const r of repos) reports.push(await reconcileRepository(db, r, opts));
  restoreAudit(db, repos);
  return reports;
}

/** A new (empty) catalog gets its audit log back from the repositories' audit.log, each entry once. */
export function restoreAudit(db: CatalogDb, repos: readonly Repository[]): number {
  const seen = new Set<string>();
  const entries = repos
    .flatMap((r) =>
      readAuditLog(r).flatMap((line) => {
        try {
          return [JSON.parse(line) as AuditRecord];
        } catch {
          return []; // a damaged line: repo verify reports it
        }
      }),
    )
    .filter((e) => {
      const key = JSON.stringify([e.at, e.actor, e.action, e.target, e.outcome, e.details]);
      return !seen.has(key) && !!seen.add(key);
    })
    .sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  return importAudit(db, entries);
}
