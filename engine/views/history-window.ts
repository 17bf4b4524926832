/**
 * The window a document history covers: the continuous oplog interval that
 * holds the point `to`, from the oldest complete snapshot taken inside it
 * (so every change since the window began is seen) through `to`.
 */
import type { CatalogDb } from '../catalog/open-catalog.js';
import { segmentStartAtOrBefore, segmentsStartingBetween } from '../catalog/segments.js';
import { completeSnapshotsOfSource } from '../catalog/snapshots.js';
import { ApiError } from '../errors.js';
import { isJournalPath } from '../repo/journal-file.js';
import { compareOpTime } from '../repo/optime.js';
import type { OkPlan } from './build-view.js';
import type { HistoryWindow } from './history.js';

export function historyWindow(db: CatalogDb, sourceId: string, plan: OkPlan): HistoryWindow {
  const inInterval = completeSnapshotsOfSource(db, sourceId)
    .filter(
      (s) =>
        s.start_t !== null &&
        s.consistent_t !== null &&
        compareOpTime({ t: s.start_t, i: s.start_i! }, plan.interval.start) >= 0 &&
        compareOpTime({ t: s.consistent_t, i: s.consistent_i! }, plan.bound) <= 0,
    )
    .sort((a, b) => compareOpTime({ t: a.start_t!, i: a.start_i! }, { t: b.start_t!, i: b.start_i! }));
  const oldest = inInterval[0];
  const snapshot = oldest
    ? {
        id: oldest.id,
        path: oldest.path,
        startTs: { t: oldest.start_t!, i: oldest.start_i! },
        consistentTs: { t: oldest.consistent_t!, i: oldest.consistent_i! },
      }
    : plan.snapshot;
  const from = segmentStartAtOrBefore(db, sourceId, snapshot.startTs) ?? snapshot.startTs;
  const segments = [];
  for (const r of segmentsStartingBetween(db, sourceId, from, plan.bound)) {
    if (r.status !== 'ok')
      throw new ApiError(
        'CONFLICT',
        `Segment ${r.path} is ${r.status}; run repo verify to refresh coverage.`,
      );
    if (compareOpTime({ t: r.last_t, i: r.last_i }, snapshot.startTs) <= 0) continue;
    segments.push({
      path: r.path,
      firstTs: { t: r.first_t, i: r.first_i },
      lastTs: { t: r.last_t, i: r.last_i },
      payload: r.payload_sha256,
    });
  }
  // The unsealed tail: the plan's capture journals (no catalog segment row yet), after the last segment.
  const lastSealed = segments.at(-1)?.lastTs ?? null;
  for (const j of plan.segments) {
    if (!isJournalPath(j.path)) continue;
    if (lastSealed && compareOpTime(j.firstTs, lastSealed) <= 0) continue;
    segments.push({ path: j.path, firstTs: j.firstTs, lastTs: j.lastTs, payload: j.payload });
  }
  return { snapshot, bound: plan.bound, segments };
}
