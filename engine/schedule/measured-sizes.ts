/** What a source measured so far, as the policy preview's storage estimate takes it. */
import type { CatalogDb } from '../catalog/open-catalog.js';
import type { SnapshotRow } from '../catalog/snapshots.js';
import { oldestSegmentStart, oplogBytesSince } from '../catalog/storage.js';
import type { MeasuredSizes } from './preview.js';

/** The oplog rate is measured over the last week (or since capture began, if later). */
const RATE_DAYS = 7;
/** Below an hour of captured oplog the rate says little; it is still used, and the basis says so. */
const MIN_RATE_SECONDS = 3600;

export function measuredSizes(
  db: CatalogDb,
  sourceId: string,
  snapshots: readonly SnapshotRow[],
  now: Date,
): MeasuredSizes & { oplogMeasuredDays: number } {
  const nowT = Math.floor(now.getTime() / 1000);
  const oldest = oldestSegmentStart(db, sourceId);
  const newest = [...snapshots]
    .sort((a, b) => (a.completed_at ?? '').localeCompare(b.completed_at ?? ''))
    .at(-1);
  let oplogBytesPerDay: number | null = null;
  let oplogMeasuredDays = 0;
  if (oldest !== null) {
    const from = Math.max(oldest, nowT - RATE_DAYS * 86_400);
    const seconds = Math.max(nowT - from, MIN_RATE_SECONDS);
    oplogBytesPerDay = Math.round((oplogBytesSince(db, sourceId, from) / seconds) * 86_400);
    oplogMeasuredDays = (nowT - from) / 86_400;
  }
  return {
    snapshotBytes: newest ? newest.stored_bytes : null,
    oplogBytesPerDay,
    oldestSegmentT: oldest,
    oplogMeasuredDays,
  };
}
