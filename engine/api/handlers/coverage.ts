import { listCoverage } from '../../catalog/coverage.js';
import { parseRestorePoint, planRestore } from '../../catalog/planner.js';
import { snapshotsOfSource } from '../../catalog/snapshots.js';
import { getSourceByName } from '../../catalog/sources.js';
import { gapView, intervalView, opTimeView, snapshotView } from '../views.js';
import type { Services } from '../../services.js';
import type { PartialHandlers } from './types.js';

export const coverageHandlers: PartialHandlers<
  'source.coverage' | 'restore.plan' | 'snapshot.list',
  Pick<Services, 'catalog' | 'stores'>
> = {
  'source.coverage': async (svc, { source }) => {
    const s = getSourceByName(svc.catalog, source);
    await svc.stores.get(s.repository_id); // reconciled before answering
    const { intervals, gaps } = listCoverage(svc.catalog, s.id);
    return {
      source: s.name,
      intervals: intervals.map(intervalView),
      gaps: gaps.map(gapView),
      snapshots: snapshotsOfSource(svc.catalog, s.id).filter((x) => x.status === 'complete').length,
    };
  },
  'restore.plan': async (svc, { source, at }) => {
    const point = parseRestorePoint(at);
    const s = getSourceByName(svc.catalog, source);
    await svc.stores.get(s.repository_id);
    const plan = planRestore(svc.catalog, s.id, point);
    if (!plan.ok) {
      return {
        restorable: false as const,
        source: s.name,
        point: at,
        reason: plan.reason,
        message: plan.message,
        nearestInterval: plan.nearest
          ? { start: opTimeView(plan.nearest.start), end: opTimeView(plan.nearest.end) }
          : null,
      };
    }
    return {
      restorable: true as const,
      source: s.name,
      point: at,
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
  },
  'snapshot.list': async (svc, { source }) => {
    const s = getSourceByName(svc.catalog, source);
    await svc.stores.get(s.repository_id);
    return snapshotsOfSource(svc.catalog, s.id).map(snapshotView);
  },
};
