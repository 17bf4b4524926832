/**
 * Turns internal records (catalog rows, engine objects) into the contract's
 * output shapes: every conversion lives here, once, and handlers only call them.
 */
import type { z } from 'zod';
import type { AlertRow } from '../catalog/alerts.js';
import { listCoverage, type CoverageGap, type CoverageInterval } from '../catalog/coverage.js';
import type { CatalogDb } from '../catalog/open-catalog.js';
import type { OplogWindow } from '../catalog/oplog-window.js';
import type { Plan } from '../restore/planner.js';
import type { AuditRow } from '../catalog/audit.js';
import { snapshotsOfSource, type SnapshotRow } from '../catalog/snapshots.js';
import {
  getSourceConnection,
  listSources,
  sourceNameById,
  type SourceRow,
  isImportedSource,
} from '../catalog/sources.js';
import type { BackupJob } from '../schedule/backup-jobs.js';
import { TIERS, type Tier } from '../schedule/policy.js';
import { nextOccurrence } from '../schedule/schedule.js';
import { stoppedMetrics, type CaptureMetrics } from '../source/oplog-capture.js';
import { displayUri, type ConnectionConfig } from '../mongo/connection-config.js';
import { readStoredSecrets } from '../mongo/source-secret.js';
import { formatOpTime, opTimeToDate, type OpTime } from '../repo/optime.js';
import type { Repository } from '../repo/repository.js';
import { copiedFileCount, copyTargets } from '../catalog/copy-targets.js';
import { sourceStorage } from '../catalog/storage.js';
import type {
  AlertView,
  AuditEntryView,
  BackupJobView,
  Coverage,
  CoverageGapView,
  CoverageIntervalView,
  CaptureMetricsView,
  OpTimeView,
  RepositoryInfo,
  RestorePlanView,
  SnapshotView,
  SnapshotNamespacesView,
  SourceView,
  TimelineView,
  RestoreView,
  SourceOverview,
  PolicyPreviewView,
  IncidentView,
  IncidentScanView,
  TimelineIncidentFlag,
} from './schemas.js';
import type { HeldDay, StoredDay } from '../catalog/storage.js';
import type { MeasuredSizes, PolicyPreviewResult, StorageEstimate } from '../schedule/preview.js';
import type { RestoreRow } from '../catalog/restores.js';
import type { RestoreTestStatusView } from './schemas.js';
import { nextRestoreTest } from '../schedule/restore-test-schedule.js';
import { detailsOf } from '../verify/restore-test.js';
import type { Timeline } from '../timeline/timeline.js';
import type { SnapshotManifest } from '../repo/snapshot-files.js';
import type { WindowCoverage } from '../timeline/window-coverage.js';
import type { IncidentRow } from '../catalog/incidents.js';
import { incidentSummary } from '../incidents/summary.js';
import type { ScanStatus } from '../incidents/incident-finder.js';
import type { ViewRow } from '../catalog/view-index.js';
import type { ViewHow } from '../views/view-cache.js';
import type { HistoryAnswer, PointViewInfo, ViewAnswer } from './schemas.js';
import type { HistoryResult } from '../views/history.js';

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

/** A snapshot's manifest as the namespace picker reads it (counts and sizes, never documents). */
export const snapshotNamespacesView = (m: SnapshotManifest): z.infer<typeof SnapshotNamespacesView> => {
  const count = (v: SnapshotManifest['users']) => (v === null ? null : Array.isArray(v) ? v.length : v.count);
  return {
    snapshotId: m.snapshotId,
    consistentTs: opTimeView(m.consistentTs),
    namespaces: m.namespaces.map((n) => ({
      ns: n.ns,
      db: n.db,
      name: n.name,
      type: n.type,
      documents: n.count,
      bytes: n.rawBytes,
      indexes: n.indexes.length,
    })),
    users: count(m.users ?? null),
    roles: count(m.roles ?? null),
  };
};

export function restoreView(db: CatalogDb, r: RestoreRow): z.infer<typeof RestoreView> {
  const d = (r.details_json ? JSON.parse(r.details_json) : {}) as {
    actor?: string;
    target?: string;
    options?: Record<string, unknown>;
    report?: Record<string, unknown>;
    error?: { code: string; message: string };
    markerLeft?: boolean;
  };
  const source = sourceNameById(db, r.source_id);
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
  incidentCounts: tl.incidentCounts,
  incidents: tl.incidents?.map(incidentFlag) ?? null,
});

const optionalOpTime = (t: number | null, i: number | null) =>
  t === null || i === null ? null : opTimeView({ t, i });

export const incidentView = (r: IncidentRow): z.infer<typeof IncidentView> => ({
  id: r.id,
  kind: r.kind as z.infer<typeof IncidentView>['kind'],
  ns: r.ns,
  summary: incidentSummary(r),
  firstTs: opTimeView({ t: r.first_t, i: r.first_i }),
  lastTs: opTimeView({ t: r.last_t, i: r.last_i }),
  restoreBefore: optionalOpTime(r.before_t, r.before_i),
  wall: r.wall,
  size: r.size,
  lsid: r.lsid_json ? (JSON.parse(r.lsid_json) as { id: string; uid: string | null }) : null,
  txnNumber: r.txn_number,
  details: JSON.parse(r.details_json) as Record<string, unknown>,
});

export const incidentFlag = (r: IncidentRow): z.infer<typeof TimelineIncidentFlag> => ({
  id: r.id,
  kind: r.kind as z.infer<typeof TimelineIncidentFlag>['kind'],
  ns: r.ns,
  summary: incidentSummary(r),
  firstTs: opTimeView({ t: r.first_t, i: r.first_i }),
  restoreBefore: optionalOpTime(r.before_t, r.before_i),
});

export const incidentScanView = (s: ScanStatus): z.infer<typeof IncidentScanView> => ({
  through: s.through ? opTimeView(s.through) : null,
  pendingSegments: s.pending,
  documents: s.thresholds.documents,
  seconds: s.thresholds.seconds,
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

/** A source's coverage: continuous intervals, gaps, and how many complete snapshots it has. */
export function coverageView(db: CatalogDb, row: SourceRow): z.infer<typeof Coverage> {
  const { intervals, gaps } = listCoverage(db, row.id);
  return {
    source: row.name,
    intervals: intervals.map(intervalView),
    gaps: gaps.map(gapView),
    snapshots: snapshotsOfSource(db, row.id).filter((x) => x.status === 'complete').length,
  };
}

/** A source as the user sees it: the password never, how it is stored always (with a warning if unprotected). */
export function sourceView(db: CatalogDb, row: SourceRow): z.infer<typeof SourceView> {
  const c = getSourceConnection(db, row.id);
  const config = c.connection_json ? (JSON.parse(c.connection_json) as ConnectionConfig) : null;
  const sealed = readStoredSecrets(c.secret_json);
  const warnings: string[] = [];
  if (sealed.password?.scheme === 'insecure-base64')
    warnings.push(
      'The password is stored unprotected (--insecure-store-password): anyone who can read the catalog can read it.',
    );
  if (sealed.uriOptions?.scheme === 'insecure-base64')
    warnings.push(
      'The connection-string secrets are stored unprotected (--insecure-store-password): anyone who can read the catalog can read them.',
    );
  return {
    id: row.id,
    name: row.name,
    repositoryId: row.repository_id,
    uri: config ? displayUri(config) : (row.uri_redacted ?? ''),
    username: config?.username ?? null,
    tlsCaFile: config?.tlsCaFile ?? null,
    tlsCertFile: config?.tlsCertFile ?? null,
    readPreference: config?.readPreference ?? null,
    passwordStorage: sealed.password?.scheme ?? ('none' as const),
    warnings,
    imported: isImportedSource(db, row.id),
    createdAt: row.created_at,
  };
}

/**
 * Live capture metrics; the wall-clock copy of capturedTs stays internal. Metrics stored by an
 * older version lack the journal's fields: they read as a stopped capture's.
 */
export const metricsView = (metrics: CaptureMetrics): z.infer<typeof CaptureMetricsView> => {
  const { capturedWall: _wall, ...m } = { ...stoppedMetrics(), ...metrics };
  return withOpTimes(m);
};

const withOpTimes = (m: Omit<CaptureMetrics, 'capturedWall'>): z.infer<typeof CaptureMetricsView> => ({
  ...m,
  capturedTs: m.capturedTs ? opTimeView(m.capturedTs) : null,
  sourceTs: m.sourceTs ? opTimeView(m.sourceTs) : null,
});

export function alertView(db: CatalogDb, a: AlertRow): z.infer<typeof AlertView> {
  return {
    id: a.id,
    source: a.source_id ? sourceNameById(db, a.source_id) : null,
    kind: a.kind,
    severity: a.severity,
    message: a.message,
    raisedAt: a.raised_at,
    resolvedAt: a.resolved_at,
  };
}

export const oplogWindowView = (w: OplogWindow | null) =>
  w && { first: opTimeView(w.first), last: opTimeView(w.last), hours: w.hours, checkedAt: w.checkedAt };

/** A backup job with the next run of each tier its policy schedules. */
export function backupJobView(
  row: SourceRow,
  job: BackupJob,
  now = new Date(),
): z.infer<typeof BackupJobView> {
  const nextRuns: Partial<Record<Tier, string>> = {};
  for (const t of TIERS) {
    const n = nextOccurrence(job.policy, t, now);
    if (n) nextRuns[t] = n.toISOString();
  }
  return {
    source: row.name,
    state: job.state,
    reason: job.reason,
    policy: job.policy,
    nextRuns,
  };
}

export function restorePlanView(source: string, point: string, plan: Plan): z.infer<typeof RestorePlanView> {
  if (!plan.ok) {
    return {
      restorable: false as const,
      source,
      point,
      reason: plan.reason,
      message: plan.message,
      nearestInterval: plan.nearest
        ? { start: opTimeView(plan.nearest.start), end: opTimeView(plan.nearest.end) }
        : null,
    };
  }
  return {
    restorable: true as const,
    source,
    point,
    replayThrough: opTimeView(plan.bound),
    snapshot: {
      id: plan.snapshot.id,
      path: plan.snapshot.path,
      startTs: opTimeView(plan.snapshot.startTs),
      consistentTs: opTimeView(plan.snapshot.consistentTs),
      completedAt: plan.snapshot.completedAt,
    },
    interval: intervalView(plan.interval),
    segments: plan.segments.map((g) => ({
      path: g.path,
      firstTs: opTimeView(g.firstTs),
      lastTs: opTimeView(g.lastTs),
      entries: g.count,
    })),
    entriesToReplayAtMost: plan.segments.reduce((n, g) => n + g.count, 0),
  };
}

export const auditEntryView = (r: AuditRow): z.infer<typeof AuditEntryView> => ({
  id: r.id,
  at: r.at,
  actor: r.actor,
  action: r.action,
  target: r.target,
  outcome: r.outcome,
  details: r.details_json ? (JSON.parse(r.details_json) as unknown) : null,
});

/** A cached point-in-time view as view.list shows it. */
export function pointViewInfo(r: ViewRow): z.infer<typeof PointViewInfo> {
  return {
    id: r.id,
    source: r.source_name,
    snapshotId: r.snapshot_id,
    bound: opTimeView({ t: r.bound_t, i: r.bound_i }),
    state: r.state,
    bytes: r.bytes,
    documents: r.documents,
    namespaces: r.namespaces,
    entriesApplied: r.entries_applied,
    movedForwardFrom: tsOrNull(r.moved_from_t, r.moved_from_i),
    createdAt: r.created_at,
    lastUsedAt: r.last_used_at,
  };
}

/** Which view answered a query. */
export const viewAnswer = (r: ViewRow, how: ViewHow): z.infer<typeof ViewAnswer> => ({
  viewId: r.id,
  bound: opTimeView({ t: r.bound_t, i: r.bound_i }),
  how,
});

/** A document's history as history.get answers it. */
export function historyView(
  source: string,
  ns: string,
  id: string,
  from: OpTime | null,
  to: OpTime,
  r: HistoryResult,
): z.infer<typeof HistoryAnswer> {
  return {
    source,
    ns,
    id,
    from: from ? opTimeView(from) : null,
    to: opTimeView(to),
    versions: r.versions.map((v) => ({
      ts: opTimeView(v.ts),
      op: v.op,
      ns: v.ns,
      inTransaction: v.inTransaction,
      change: v.change,
      after: v.after,
      restoreBefore: opTimeView(v.restoreBefore),
    })),
    segmentsRead: r.segmentsRead,
    segmentsInWindow: r.segmentsInWindow,
  };
}

/** A source's dashboard figures besides its live status (source.overview). */
export function sourceOverviewView(o: {
  source: string;
  job: BackupJob;
  next: { at: Date; tiers: Tier[] } | null;
  window: { fromT: number; toT: number; coverage: WindowCoverage };
  storage: {
    storedBytes: number;
    snapshotBytes: number;
    oplogBytes: number;
    snapshots: number;
    segments: number;
  };
  days: StoredDay[];
  /** Storage held per day, one per day of the range. */
  held: HeldDay[];
  firstDayT: number;
  dayCount: number;
}): z.infer<typeof SourceOverview> {
  const { fromT, toT, coverage } = o.window;
  const byDay = new Map(o.days.map((d) => [d.day, d]));
  const heldOn = new Map(o.held.map((d) => [d.day, d.held]));
  const days = Array.from({ length: o.dayCount }, (_, k) => {
    const day = new Date((o.firstDayT + k * 86_400) * 1000).toISOString().slice(0, 10);
    return { ...(byDay.get(day) ?? { day, snapshotBytes: 0, oplogBytes: 0 }), held: heldOn.get(day) ?? null };
  });
  return {
    source: o.source,
    jobState: o.job.state,
    rpoObjectiveSeconds: o.job.policy.rpoObjectiveSeconds,
    nextSnapshot: o.next && { at: o.next.at.toISOString(), tiers: o.next.tiers },
    pitrWindow: {
      hours: o.job.policy.pitrWindowHours,
      from: isoSecond(fromT),
      to: isoSecond(toT),
      coveredSeconds: coverage.coveredSeconds,
      restorableSeconds: coverage.restorableSeconds,
      gaps: coverage.gaps.map(gapView),
      gapSeconds: coverage.gapSeconds,
    },
    storage: { ...o.storage, days },
  };
}

/** What a policy would keep at the horizon, and the storage it would take (policy.preview). */
export function policyPreviewView(
  source: string,
  now: Date,
  preview: PolicyPreviewResult,
  storage: StorageEstimate,
  basis: MeasuredSizes & { oplogMeasuredDays: number; storedBytesOf: (id: string) => number | null },
  problems: string[],
): z.infer<typeof PolicyPreviewView> {
  return {
    source,
    from: now.toISOString(),
    horizon: preview.horizon.toISOString(),
    problems,
    snapshots: preview.kept.map((s) => ({
      at: s.completedAt.toISOString(),
      tiers: s.tiers,
      existing: s.existing,
      id: s.existing ? s.id : null,
      lockedUntil: s.lockedUntil ? s.lockedUntil.toISOString() : null,
      storedBytes: s.existing ? basis.storedBytesOf(s.id) : null,
    })),
    planned: preview.planned,
    storage: {
      ...storage,
      basis: {
        snapshotBytes: basis.snapshotBytes,
        oplogBytesPerDay: basis.oplogBytesPerDay,
        oplogMeasuredDays: basis.oplogMeasuredDays,
      },
    },
  };
}

/** The restore test of a source for the dashboard: its settings, the next run and the last result. */
export function restoreTestStatusView(
  row: SourceRow,
  job: BackupJob,
  last: RestoreRow | undefined,
  now = new Date(),
): z.infer<typeof RestoreTestStatusView> {
  const settings = job.policy.restoreTest;
  return {
    source: row.name,
    settings,
    nextRunAt: settings
      ? nextRestoreTest(settings, last ? new Date(last.started_at) : null, now).toISOString()
      : null,
    last: last ? restoreTestResultView(last) : null,
  };
}

function restoreTestResultView(r: RestoreRow): NonNullable<z.infer<typeof RestoreTestStatusView>['last']> {
  const d = detailsOf(r);
  const report = (d.report ?? {}) as {
    rto?: {
      restoreMs: number;
      validationMs: number;
      totalMs: number;
      phases: { name: string; ms: number }[];
    };
    validation?: { checks: { name: string; passed: boolean; findings: string[] }[] };
  };
  return {
    id: r.id,
    state: r.state,
    passed: r.state === 'running' ? null : r.state === 'succeeded',
    trigger: d.trigger ?? 'manual',
    point: JSON.parse(r.point_json) as string,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    target: d.target ?? null,
    rto: report.rto ?? null,
    failedChecks: (report.validation?.checks ?? [])
      .filter((c) => !c.passed)
      .map((c) => ({ name: c.name, findings: c.findings.slice(0, 5) })),
    error: d.error ? { code: d.error.code, message: d.error.message } : null,
    scratchLeftOver: d.scratch?.leftOver ?? [],
  };
}
