/** Catalog rows as the pure schedule and retention rules take them (the scheduler and the policy preview). */
import type { SnapshotRow } from '../catalog/snapshots.js';
import type { Tier } from './policy.js';
import type { RetentionSnapshot } from './retention.js';

export const retentionSnapshot = (s: SnapshotRow): RetentionSnapshot => ({
  id: s.id,
  completedAt: new Date(s.completed_at ?? 0),
  tiers: JSON.parse(s.tiers_json) as Tier[],
  startTs: { t: s.start_t!, i: s.start_i! },
  consistentTs: { t: s.consistent_t!, i: s.consistent_i! },
  lockedUntil: s.locked_until ? new Date(s.locked_until) : null,
});

/** When each tier last ran: the newest start of a complete snapshot taken for it. */
export function lastTierRuns(
  rows: readonly { tiers_json: string; started_at: string }[],
): Partial<Record<Tier, Date>> {
  const out: Partial<Record<Tier, Date>> = {};
  for (const r of rows) {
    for (const t of JSON.parse(r.tiers_json) as Tier[]) {
      const at = new Date(r.started_at);
      if (!out[t] || out[t]! < at) out[t] = at;
    }
  }
  return out;
}
