/** Turns internal records into the contract's output shapes (one place for each conversion). */
import type { z } from 'zod';
import { listCoverage, type CoverageGap, type CoverageInterval } from '../catalog/coverage.js';
import type { CatalogDb } from '../catalog/open-catalog.js';
import type { SnapshotRow } from '../catalog/snapshots.js';
import { listSources } from '../catalog/sources.js';
import { formatOpTime, opTimeToDate, type OpTime } from '../repo/optime.js';
import type { Repository } from '../repo/repository.js';
import { copyTargets } from '../store/secondary-copy.js';
import type {
  CoverageGapView,
  CoverageIntervalView,
  OpTimeView,
  RepositoryInfo,
  SnapshotView,
  TimelineView,
  RestoreView,
} from './schemas.js';
import type { RestoreRow } from '../catalog/restores.js';
import type { Timeline } from '../timeline/timeline.js';

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

export function restoreView(db: CatalogDb, r: RestoreRow): z.infer<typeof RestoreView> {
  const d = (r.details_json ? JSON.parse(r.details_json) : {}) as {
    actor?: string;
    target?: string;
    options?: Record<string, unknown>;
    report?: Record<string, unknown>;
    error?: { code: string; message: string };
    markerLeft?: boolean;
  };
  const source = db.prepare('SELECT name FROM sources WHERE id = ?').pluck().get(r.source_id) as
    string | undefined;
  return {
    id: r.id,
    source: source ?? r.source_id,
    point: JSON.parse(r.point_json) as string,
    kind: r.kind,
    state: r.state,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    actor: d.actor ?? null,
    target: d.target ?? null,
    options: d.options ?? {},
    report: d.report ?? null,
    error: d.error ? { code: d.error.code, message: d.error.message } : null,
    markerLeft: d.markerLeft ?? false,
  };
}

const isoSecond = (t: number) => new Date(t * 1000).toISOString().replace('.000Z', 'Z');

export const timelineView = (
  source: string,
  fromT: number,
  toT: number,
  width: number,
  tl: Timeline,
): z.infer<typeof TimelineView> => ({
  source,
  from: isoSecond(fromT),
  to: isoSecond(toT),
  width,
  bucketSeconds: tl.bucketSeconds,
  covered: tl.covered,
  restorable: tl.restorable,
  snapshots: tl.snapshots,
  snapshotFlags: tl.snapshotFlags,
  gaps: tl.gaps.map(gapView),
  markers:
    tl.markers?.map((r) => ({
      id: r.id,
      consistentTs: opTimeView({ t: r.consistent_t ?? 0, i: r.consistent_i ?? 0 }),
      tiers: JSON.parse(r.tiers_json) as string[],
      lockedUntil: r.locked_until,
      documents: r.doc_count,
      storedBytes: r.stored_bytes,
    })) ?? null,
  liveEdge: tl.liveEdge ? opTimeView(tl.liveEdge) : null,
  pitrWindowStart: tl.pitrWindowStart === null ? null : isoSecond(tl.pitrWindowStart),
  snapshotOnly: tl.snapshotOnly,
});

export function repositoryInfo(db: CatalogDb, repo: Repository): z.infer<typeof RepositoryInfo> {
  const count = (sql: string, id: string) => (db.prepare(sql).pluck().get(id) as number | null) ?? 0;
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
        snapshots: count(`SELECT count(*) FROM snapshots WHERE source_id = ? AND status = 'complete'`, s.id),
        segments: count('SELECT count(*) FROM oplog_segments WHERE source_id = ?', s.id),
        storedBytes:
          count('SELECT sum(stored_bytes) FROM oplog_segments WHERE source_id = ?', s.id) +
          count('SELECT sum(stored_bytes) FROM snapshots WHERE source_id = ?', s.id),
        intervals: cov.intervals.length,
        gaps: cov.gaps.length,
      };
    }),
    copyTargets: copyTargets(db, repo.id).map((t) => ({
      path: t.path,
      lastRunAt: t.last_run_at,
      lastError: t.last_error,
      filesCopied: count('SELECT count(*) FROM file_copies WHERE target_id = ?', t.id),
    })),
  };
}
