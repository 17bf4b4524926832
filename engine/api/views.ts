/** Turns internal records into the contract's output shapes (one place for each conversion). */
import type { z } from 'zod';
import { listCoverage, type CoverageGap, type CoverageInterval } from '../catalog/coverage.js';
import type { CatalogDb } from '../catalog/open-catalog.js';
import type { SnapshotRow } from '../catalog/snapshots.js';
import { listSources } from '../catalog/sources.js';
import { formatOpTime, opTimeToDate, type OpTime } from '../repo/optime.js';
import type { Repository } from '../repo/repository.js';
import { copiedFileCount, copyTargets } from '../catalog/copy-targets.js';
import { sourceStorage } from '../catalog/storage.js';
import type {
  CoverageGapView,
  CoverageIntervalView,
  OpTimeView,
  RepositoryInfo,
  SnapshotView,
} from './schemas.js';

export const opTimeView = (ts: OpTime): z.infer<typeof OpTimeView> => ({
  t: ts.t,
  i: ts.i,
  text: formatOpTime(ts),
  wall: opTimeToDate(ts).toISOString().replace('.000Z', 'Z'),
});

export const intervalView = (iv: CoverageInterval): z.infer<typeof CoverageIntervalView> => ({
  start: opTimeView(iv.start),
  end: opTimeView(iv.end),
  seconds: iv.end.t - iv.start.t,
  segments: iv.segmentCount,
});

export const gapView = (g: CoverageGap): z.infer<typeof CoverageGapView> => ({
  after: opTimeView(g.after),
  before: opTimeView(g.before),
  seconds: g.before.t - g.after.t,
  reason: g.reason,
});

const tsOrNull = (t: number | null, i: number | null) =>
  t === null || i === null ? null : opTimeView({ t, i });

export const snapshotView = (r: SnapshotRow): z.infer<typeof SnapshotView> => ({
  id: r.id,
  status: r.status,
  startTs: tsOrNull(r.start_t, r.start_i),
  consistentTs: tsOrNull(r.consistent_t, r.consistent_i),
  completedAt: r.completed_at,
  documents: r.doc_count,
  storedBytes: r.stored_bytes,
  lockedUntil: r.locked_until,
});

export function repositoryInfo(db: CatalogDb, repo: Repository): z.infer<typeof RepositoryInfo> {
  return {
    id: repo.id,
    path: repo.root,
    formatVersion: repo.config.formatVersion,
    compression: `${repo.config.compression.algorithm} level ${repo.config.compression.level}`,
    encrypted: repo.encrypted,
    unlocked: repo.unlocked,
    createdAt: repo.config.createdAt,
    sources: listSources(db, repo.id).map((s) => {
      const cov = listCoverage(db, s.id);
      return {
        name: s.name,
        id: s.id,
        ...sourceStorage(db, s.id),
        intervals: cov.intervals.length,
        gaps: cov.gaps.length,
      };
    }),
    copyTargets: copyTargets(db, repo.id).map((t) => ({
      path: t.path,
      lastRunAt: t.last_run_at,
      lastError: t.last_error,
      filesCopied: copiedFileCount(db, t.id),
    })),
  };
}
