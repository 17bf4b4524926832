import { ApiError } from '../../errors.js';
import { getSourceByName, sourceNameById } from '../../catalog/sources.js';
import { snapshotsOfSource } from '../../catalog/snapshots.js';
import { listCoverage } from '../../catalog/coverage.js';
import { stoppedMetrics, type CaptureMetrics } from '../../source/oplog-capture.js';
import type { Services } from '../../services.js';
import { listAlerts, resolveAlertById, type AlertRow } from '../../catalog/alerts.js';
import { readCaptureStatus } from '../../catalog/capture-status.js';
import { audit } from '../../catalog/audit.js';
import { getOplogWindow, type OplogWindow } from '../../catalog/oplog-window.js';
import type { CatalogDb } from '../../catalog/open-catalog.js';
import { gapView, intervalView, opTimeView, snapshotView } from '../views.js';
import type { PartialHandlers } from './types.js';

const metricsView = ({ capturedWall: _wall, ...m }: CaptureMetrics) => ({
  ...m,
  capturedTs: m.capturedTs ? opTimeView(m.capturedTs) : null,
  sourceTs: m.sourceTs ? opTimeView(m.sourceTs) : null,
});

function alertView(db: CatalogDb, a: AlertRow) {
  const source = a.source_id ? sourceNameById(db, a.source_id) : null;
  return {
    id: a.id,
    source,
    kind: a.kind,
    severity: a.severity,
    message: a.message,
    raisedAt: a.raised_at,
    resolvedAt: a.resolved_at,
  };
}

const windowView = (w: OplogWindow | null) =>
  w && { first: opTimeView(w.first), last: opTimeView(w.last), hours: w.hours, checkedAt: w.checkedAt };

export const captureHandlers: PartialHandlers<
  | 'snapshot.take'
  | 'capture.start'
  | 'capture.stop'
  | 'capture.pause'
  | 'capture.resume'
  | 'source.status'
  | 'alert.list'
  | 'alert.resolve',
  Pick<Services, 'catalog' | 'stores' | 'capture' | 'protection' | 'mode' | 'actor'>
> = {
  'capture.pause': async (svc, { source }) =>
    metricsView(await svc.protection.pauseCapture(getSourceByName(svc.catalog, source))),
  'capture.resume': (svc, { source }) =>
    metricsView(svc.protection.resumeCapture(getSourceByName(svc.catalog, source))),
  'snapshot.take': async (svc, { source, ...opts }) => {
    const row = getSourceByName(svc.catalog, source);
    (await svc.stores.get(row.repository_id)).repo.key(); // LOCKED now rather than inside the job
    const job = svc.capture.startSnapshot(row, opts);
    return { taskId: job.taskId };
  },
  'capture.start': async (svc, { source }) => {
    if (svc.mode === 'cli') {
      throw new ApiError(
        'INVALID_INPUT',
        'Continuous capture runs in the desktop app or the headless server (npm run serve); a CLI command ends when it returns.',
      );
    }
    const row = getSourceByName(svc.catalog, source);
    return metricsView((await svc.capture.start(row)).metrics);
  },
  'capture.stop': async (svc, { source }) => {
    const row = getSourceByName(svc.catalog, source);
    const c = svc.capture.get(row.id);
    await svc.capture.stop(row.id);
    return metricsView(c?.metrics ?? stoppedMetrics());
  },
  'source.status': async (svc, { source }) => {
    const row = getSourceByName(svc.catalog, source);
    await svc.stores.get(row.repository_id);
    const { intervals, gaps } = listCoverage(svc.catalog, row.id);
    const snaps = snapshotsOfSource(svc.catalog, row.id).filter((s) => s.status === 'complete');
    // Live from this process, or as last written by the process that captures (desktop / headless).
    const stored = readCaptureStatus(svc.catalog, row.id);
    const fresh =
      stored && Date.now() - Date.parse(stored.updatedAt) < 15_000
        ? (stored.metrics as CaptureMetrics)
        : null;
    const capture = svc.capture.get(row.id)?.metrics ??
      fresh ?? { ...stoppedMetrics(), capturedTs: intervals.at(-1)?.end ?? null };
    return {
      source: row.name,
      capture: metricsView(capture),
      lastSnapshot: snaps.length ? snapshotView(snaps[snaps.length - 1]!) : null,
      coverage: {
        source: row.name,
        intervals: intervals.map(intervalView),
        gaps: gaps.map(gapView),
        snapshots: snaps.length,
      },
      openAlerts: listAlerts(svc.catalog, { sourceId: row.id, open: true }).map((a) =>
        alertView(svc.catalog, a),
      ),
      oplogWindow: windowView(getOplogWindow(svc.catalog, row.id)),
    };
  },
  'alert.list': (svc, { source, open }) => {
    const sourceId = source ? getSourceByName(svc.catalog, source).id : undefined;
    return listAlerts(svc.catalog, { ...(sourceId ? { sourceId } : {}), ...(open ? { open } : {}) }).map(
      (a) => alertView(svc.catalog, a),
    );
  },
  'alert.resolve': (svc, { id }) => {
    const row = resolveAlertById(svc.catalog, id);
    if (!row) throw new ApiError('NOT_FOUND', `No alert ${id}.`);
    audit(svc.catalog, {
      actor: svc.actor,
      action: 'alert.resolve',
      target: String(id),
      outcome: 'done',
      details: { kind: row.kind, message: row.message },
    });
    return alertView(svc.catalog, row);
  },
};
