import { ApiError } from '../../errors.js';
import { getSourceByName, isImportedSource } from '../../catalog/sources.js';
import { snapshotsOfSource } from '../../catalog/snapshots.js';
import { listCoverage } from '../../catalog/coverage.js';
import { stoppedMetrics, type CaptureMetrics, type OplogCapture } from '../../source/oplog-capture.js';
import type { Engine } from '../../engine.js';
import { listAlerts, resolveAlertById, type AlertRow } from '../../schedule/alerts.js';
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
  const source = a.source_id
    ? ((db.prepare('SELECT name FROM sources WHERE id = ?').pluck().get(a.source_id) as string | undefined) ??
      null)
    : null;
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

function running(engine: Engine, source: string): OplogCapture {
  const row = getSourceByName(engine.catalog, source);
  const c = engine.capture.get(row.id);
  if (!c) throw new ApiError('CONFLICT', `Capture of ${source} is not running in this process.`);
  return c;
}

export const captureHandlers: PartialHandlers<
  | 'snapshot.take'
  | 'capture.start'
  | 'capture.stop'
  | 'capture.pause'
  | 'capture.resume'
  | 'source.status'
  | 'alert.list'
  | 'alert.resolve'
> = {
  'capture.pause': async (engine, { source }) => {
    const c = running(engine, source);
    await c.pause();
    for (let k = 0; k < 100 && c.metrics.state !== 'paused'; k++) await new Promise((r) => setTimeout(r, 20));
    return metricsView(c.metrics);
  },
  'capture.resume': (engine, { source }) => {
    const c = running(engine, source);
    c.resume();
    return metricsView(c.metrics);
  },
  'snapshot.take': async (engine, { source, ...opts }) => {
    const row = getSourceByName(engine.catalog, source);
    (await engine.stores.get(row.repository_id)).repo.key(); // LOCKED now rather than inside the job
    const job = engine.capture.startSnapshot(row, opts);
    return { taskId: job.taskId };
  },
  'capture.start': async (engine, { source }) => {
    if (engine.mode === 'cli') {
      throw new ApiError(
        'INVALID_INPUT',
        'Continuous capture runs in the desktop app or the headless server (npm run serve); a CLI command ends when it returns.',
      );
    }
    const row = getSourceByName(engine.catalog, source);
    return metricsView((await engine.capture.start(row)).metrics);
  },
  'capture.stop': async (engine, { source }) => {
    const row = getSourceByName(engine.catalog, source);
    const c = engine.capture.get(row.id);
    await engine.capture.stop(row.id);
    return metricsView(c?.metrics ?? stoppedMetrics());
  },
  'source.status': async (engine, { source }) => {
    const row = getSourceByName(engine.catalog, source);
    await engine.stores.get(row.repository_id);
    const { intervals, gaps } = listCoverage(engine.catalog, row.id);
    const snaps = snapshotsOfSource(engine.catalog, row.id).filter((s) => s.status === 'complete');
    // Live from this process, or as last written by the process that captures (desktop / headless).
    const stored = engine.catalog
      .prepare('SELECT metrics_json, updated_at FROM capture_status WHERE source_id = ?')
      .get(row.id) as { metrics_json: string; updated_at: string } | undefined;
    const fresh =
      stored && Date.now() - Date.parse(stored.updated_at) < 15_000
        ? (JSON.parse(stored.metrics_json) as CaptureMetrics)
        : null;
    const capture = engine.capture.get(row.id)?.metrics ??
      fresh ?? { ...stoppedMetrics(), capturedTs: intervals.at(-1)?.end ?? null };
    return {
      source: row.name,
      imported: isImportedSource(engine.catalog, row.id),
      capture: metricsView(capture),
      lastSnapshot: snaps.length ? snapshotView(snaps[snaps.length - 1]!) : null,
      coverage: {
        source: row.name,
        intervals: intervals.map(intervalView),
        gaps: gaps.map(gapView),
        snapshots: snaps.length,
      },
      openAlerts: listAlerts(engine.catalog, { sourceId: row.id, open: true }).map((a) =>
        alertView(engine.catalog, a),
      ),
      oplogWindow: windowView(getOplogWindow(engine.catalog, row.id)),
    };
  },
  'alert.list': (engine, { source, open }) => {
    const sourceId = source ? getSourceByName(engine.catalog, source).id : undefined;
    return listAlerts(engine.catalog, { ...(sourceId ? { sourceId } : {}), ...(open ? { open } : {}) }).map(
      (a) => alertView(engine.catalog, a),
    );
  },
  'alert.resolve': (engine, { id }) => {
    const row = resolveAlertById(engine.catalog, id);
    if (!row) throw new ApiError('NOT_FOUND', `No alert ${id}.`);
    audit(engine.catalog, {
      actor: engine.actor,
      action: 'alert.resolve',
      target: String(id),
      outcome: 'done',
      details: { kind: row.kind, message: row.message },
    });
    return alertView(engine.catalog, row);
  },
};
