/**
 * What a policy will keep: the snapshots that exist at a horizon (a month
 * from now by default) if the scheduler and retention run under this policy
 * from now on, starting from the snapshots the source holds today. Pure, so
 * the policy editor can show it before saving and a test can compare it with
 * the scheduler and retention run tick by tick.
 *
 * It follows what engine/schedule/scheduler.ts does, without ticking every
 * minute: tiers due at the same instant make one snapshot (the scheduler
 * starts one snapshot for all tiers due in a tick), a tier that is due now
 * (never ran, or its last occurrence was missed) runs once now, retention
 * runs after each snapshot and every hour from now, and it is the very same
 * decideRetention, so what expires early (hourly snapshots kept for less
 * than the point-in-time window) is deleted when the engine would delete it.
 */
import { Cron } from 'croner';
import { TIERS, type BackupPolicy, type Tier } from './policy.js';
import { decideRetention, oplogNeededFrom, type RetentionSnapshot } from './retention.js';
import { dueTiers, tierCron } from './schedule.js';

const HOUR = 3_600_000;
const DAY = 86_400_000;

export interface PreviewSnapshot extends RetentionSnapshot {
  /** Taken already (in the catalog) or only planned by the policy. */
  existing: boolean;
}

export interface PolicyPreviewResult {
  horizon: Date;
  /** The snapshots that exist at the horizon, oldest first. */
  kept: PreviewSnapshot[];
  /** How many planned snapshots are taken between now and the horizon (kept or not). */
  planned: number;
}

/** Every scheduled instant of the policy's tiers in (from, to], merged: one snapshot per instant. */
export function scheduledSnapshots(
  policy: BackupPolicy,
  from: Date,
  to: Date,
): { at: Date; tiers: Tier[] }[] {
  const byTime = new Map<number, Tier[]>();
  for (const tier of TIERS) {
    const expr = tierCron(policy, tier);
    if (!expr) continue;
    const cron = new Cron(expr, { timezone: 'UTC', paused: true });
    for (let next = cron.nextRun(from); next && next.getTime() <= to.getTime(); next = cron.nextRun(next)) {
      const list = byTime.get(next.getTime()) ?? [];
      list.push(tier);
      byTime.set(next.getTime(), list);
    }
  }
  return [...byTime.entries()].sort((a, b) => a[0] - b[0]).map(([t, tiers]) => ({ at: new Date(t), tiers }));
}

const plannedSnapshot = (at: Date, tiers: Tier[]): PreviewSnapshot => {
  const ts = { t: Math.floor(at.getTime() / 1000), i: 0 };
  return {
    id: `planned-${at.toISOString()}`,
    completedAt: at,
    tiers,
    startTs: ts,
    consistentTs: ts,
    lockedUntil: null,
    existing: false,
  };
};

export function previewPolicy(
  policy: BackupPolicy,
  existing: readonly RetentionSnapshot[],
  lastRuns: Partial<Record<Tier, Date>>,
  now: Date,
  days = 30,
): PolicyPreviewResult {
  const horizon = new Date(now.getTime() + days * DAY);
  let held: PreviewSnapshot[] = existing.map((s) => ({ ...s, existing: true }));
  const retain = (at: Date) => {
    const gone = new Set(decideRetention(policy, held, [], at).deleteSnapshots);
    if (gone.size) held = held.filter((s) => !gone.has(s.id));
  };

  // Events in time order: the snapshot taken at each scheduled instant, and the hourly retention pass.
  const events: { at: Date; tiers: Tier[] | null }[] = [];
  const dueNow = dueTiers(policy, lastRuns, now).map((d) => d.tier);
  if (dueNow.length) events.push({ at: now, tiers: dueNow });
  for (const s of scheduledSnapshots(policy, now, horizon)) events.push(s);
  for (let t = now.getTime(); t <= horizon.getTime(); t += HOUR)
    events.push({ at: new Date(t), tiers: null });
  // At one instant the snapshot comes first: retention at that instant treats it the same either way.
  events.sort((a, b) => a.at.getTime() - b.at.getTime() || (a.tiers ? 0 : 1) - (b.tiers ? 0 : 1));

  let planned = 0;
  for (const e of events) {
    if (e.tiers) {
      held.push(plannedSnapshot(e.at, e.tiers));
      planned++;
    }
    retain(e.at);
  }
  held.sort((a, b) => a.completedAt.getTime() - b.completedAt.getTime());
  return { horizon, kept: held, planned };
}

/** What this source measured: the basis of the storage estimate. */
export interface MeasuredSizes {
  /** Stored (compressed) bytes of the newest complete snapshot; null without one. */
  snapshotBytes: number | null;
  /** Stored bytes of oplog captured per day, over the recent days measured; null before any. */
  oplogBytesPerDay: number | null;
  /** First second of the oldest segment held (the oplog cannot reach back further); null without one. */
  oldestSegmentT: number | null;
}

export interface StorageEstimate {
  snapshotBytes: number;
  oplogBytes: number;
  totalBytes: number;
  /** Days of oplog held at the horizon: from the start the oldest kept snapshot replays from. */
  oplogDays: number;
  /** The kept snapshots whose size is a guess (planned ones, sized like the newest snapshot). */
  estimatedSnapshots: number;
}

/**
 * Storage at the horizon: kept snapshots at their measured size (planned ones at the size of the
 * newest snapshot: data growth is not extrapolated), plus the oplog retention keeps, from the start
 * of the oldest kept snapshot (oplogNeededFrom, the rule retention deletes segments by) to the
 * horizon, at the measured bytes per day. Null parts (nothing measured yet) count as zero.
 */
export function estimateStorage(
  policy: BackupPolicy,
  preview: PolicyPreviewResult,
  measured: MeasuredSizes & { storedBytesOf: (id: string) => number | null },
  now: Date,
): StorageEstimate {
  let snapshotBytes = 0;
  let estimatedSnapshots = 0;
  for (const s of preview.kept) {
    const known = s.existing ? measured.storedBytesOf(s.id) : null;
    if (known !== null) snapshotBytes += known;
    else {
      estimatedSnapshots++;
      snapshotBytes += measured.snapshotBytes ?? 0;
    }
  }
  const byPoint = [...preview.kept].sort(
    (a, b) => a.consistentTs.t - b.consistentTs.t || a.consistentTs.i - b.consistentTs.i,
  );
  const horizonT = Math.floor(preview.horizon.getTime() / 1000);
  // Capture cannot hold oplog from before its oldest segment (or, with none yet, from before now).
  const capturedFrom = measured.oldestSegmentT ?? Math.floor(now.getTime() / 1000);
  const fromT = Math.max(oplogNeededFrom(policy, byPoint, preview.horizon).t, capturedFrom);
  const oplogDays = Math.max(0, horizonT - fromT) / 86_400;
  const oplogBytes = Math.round(oplogDays * (measured.oplogBytesPerDay ?? 0));
  return { snapshotBytes, oplogBytes, totalBytes: snapshotBytes + oplogBytes, oplogDays, estimatedSnapshots };
}
