/**
 * `repo verify`: re-reads every file of a repository and checks checksums,
 * authentication, decompression, BSON framing and the segment chain, and
 * every record of the capture journals. Missing
 * and corrupt files are marked in the catalog, so they show as gaps in
 * coverage and no restore plan crosses them (DESIGN.md rule 6). A file that
 * reads correctly again (e.g. put back from the secondary copy) is healed.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type ApiError } from '../errors.js';
import { listCoverage, recomputeCoverage, type CoverageGap } from '../catalog/coverage.js';
import type { CatalogDb } from '../catalog/open-catalog.js';
import { segmentsOfRepository, setSegmentStatus } from '../catalog/segments.js';
import { setSnapshotStatus, verifiableSnapshotsOfRepository } from '../catalog/snapshots.js';
import { insertVerification } from '../catalog/verifications.js';
import { listSources } from '../catalog/sources.js';
import type { TaskContext } from '../tasks/task-runner.js';
import type { Repository } from '../repo/repository.js';
import { scanSegment } from '../repo/segment-file.js';
import {
  MANIFEST_FILE,
  dataFilePath,
  fileSha256,
  readCollection,
  readManifest,
  securityEntries,
} from '../repo/snapshot-files.js';
import { reconcileRepository } from '../store/reconcile.js';
import { listJournalFiles } from '../store/journal-recovery.js';
import { readJournal } from '../repo/journal-file.js';
import { AUDIT_LOG_FILE, verifyAuditLog } from '../repo/audit-log-file.js';

export interface VerifyProblem {
  path: string;
  kind: 'segment' | 'snapshot' | 'audit' | 'journal';
  problem: 'missing' | 'corrupt';
  error: string;
}

export interface VerifyReport {
  verificationId: string;
  repositoryId: string;
  startedAt: string;
  finishedAt: string;
  filesChecked: number;
  bytesChecked: number;
  segmentsOk: number;
  snapshotsOk: number;
  problems: VerifyProblem[];
  healed: string[];
  gaps: { source: string; gaps: CoverageGap[] }[];
}

export async function verifyRepository(
  db: CatalogDb,
  repo: Repository,
  ctx?: TaskContext,
): Promise<VerifyReport> {
  repo.key(); // LOCKED early: decryption is part of the check
  const startedAt = new Date().toISOString();
  const verificationId = randomUUID();
  await reconcileRepository(db, repo); // know about every file first
  const problems: VerifyProblem[] = [];
  const healed: string[] = [];
  let filesChecked = 0;
  let bytesChecked = 0;
  let segmentsOk = 0;
  let snapshotsOk = 0;
  const sources = listSources(db, repo.id);
  const segments = segmentsOfRepository(db, repo.id);
  const snapshots = verifiableSnapshotsOfRepository(db, repo.id);
  const total = segments.length + snapshots.length;
  let itemsDone = 0;
  const step = (message: string) =>
    ctx?.progress({ done: itemsDone, total, unit: 'segments and snapshots', message });

  for (const s of segments) {
    ctx?.throwIfCancelled();
    filesChecked++;
    itemsDone++;
    if (!existsSync(repo.abs(s.path))) {
      problems.push({ path: s.path, kind: 'segment', problem: 'missing', error: 'file is missing' });
      setSegmentStatus(db, s.path, 'missing');
      continue;
    }
    try {
      const info = await scanSegment(repo, s.path); // streamed: memory stays at one frame
      bytesChecked += info.storedBytes;
      segmentsOk++;
      if (s.status !== 'ok' && setSegmentStatus(db, s.path, 'ok')) healed.push(s.path);
    } catch (err) {
      const e = err as ApiError;
      if (e.code === 'LOCKED') throw err;
      problems.push({ path: s.path, kind: 'segment', problem: 'corrupt', error: e.message });
      setSegmentStatus(db, s.path, 'corrupt');
    }
    if (filesChecked % 50 === 0) step(`Checking oplog segments (${filesChecked}/${total})`);
  }

  // Capture journals (the unsealed tail): a torn last record is what a crash leaves and is not a
  // problem (it was never acknowledged); a complete record that fails its check is.
  for (const src of sources) {
    for (const path of await listJournalFiles(repo, src.id)) {
      ctx?.throwIfCancelled();
      filesChecked++;
      try {
        const scan = readJournal(repo, path);
        bytesChecked += scan.validBytes;
        if (scan.end === 'damaged')
          problems.push({ path, kind: 'journal', problem: 'corrupt', error: `${path}: ${scan.damage}` });
      } catch (err) {
        const e = err as ApiError;
        if (e.code === 'LOCKED') throw err;
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // sealed meanwhile
        problems.push({ path, kind: 'journal', problem: 'corrupt', error: e.message });
      }
    }
  }

  for (const snap of snapshots) {
    ctx?.throwIfCancelled();
    filesChecked++;
    itemsDone++;
    const fail = (problem: 'missing' | 'corrupt', error: string, path = snap.path) => {
      problems.push({ path, kind: 'snapshot', problem, error });
      setSnapshotStatus(db, snap.id, problem);
    };
    if (!existsSync(repo.abs(join(snap.path, MANIFEST_FILE)))) {
      fail('missing', 'manifest is missing', join(snap.path, MANIFEST_FILE));
      continue;
    }
    try {
      const manifest = await readManifest(repo, snap.path);
      let bad = false;
      for (const ns of [...manifest.namespaces, ...securityEntries(manifest)]) {
        if (!ns.file) continue;
        ctx?.throwIfCancelled();
        const rel = dataFilePath(snap.path, ns.file);
        filesChecked++;
        if (!existsSync(repo.abs(rel))) {
          fail('missing', `data file of ${ns.ns} is missing`, rel);
          bad = true;
          break;
        }
        const sha = await fileSha256(repo.abs(rel));
        if (sha !== ns.sha256) {
          fail('corrupt', `data file of ${ns.ns}: checksum mismatch`, rel);
          bad = true;
          break;
        }
        try {
          for await (const _ of readCollection(repo, snap.path, ns, { parse: true })) void _;
        } catch (err) {
          fail('corrupt', (err as Error).message, rel);
          bad = true;
          break;
        }
        bytesChecked += ns.storedBytes;
      }
      if (!bad) {
        snapshotsOk++;
        if (snap.status !== 'complete' && setSnapshotStatus(db, snap.id, 'complete')) healed.push(snap.path);
      }
    } catch (err) {
      const e = err as ApiError;
      if (e.code === 'LOCKED') throw err;
      fail('corrupt', e.message, join(snap.path, MANIFEST_FILE));
    }
    step(`Checking snapshots`);
  }

  // The audit log's hash chain: an edited, removed or reordered entry breaks it.
  filesChecked++;
  for (const error of verifyAuditLog(repo))
    problems.push({ path: AUDIT_LOG_FILE, kind: 'audit', problem: 'corrupt', error });

  const gaps = sources.map((s) => {
    recomputeCoverage(db, s.id);
    return { source: s.name, gaps: listCoverage(db, s.id).gaps };
  });
  const report: VerifyReport = {
    verificationId,
    repositoryId: repo.id,
    startedAt,
    finishedAt: new Date().toISOString(),
    filesChecked,
    bytesChecked,
    segmentsOk,
    snapshotsOk,
    problems,
    healed,
    gaps,
  };
  insertVerification(db, {
    id: verificationId,
    repositoryId: repo.id,
    startedAt,
    finishedAt: report.finishedAt,
    filesChecked,
    missing: problems.filter((p) => p.problem === 'missing').length,
    corrupt: problems.filter((p) => p.problem === 'corrupt').length,
    report,
  });
  return report;
}
