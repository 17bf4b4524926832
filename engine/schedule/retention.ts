/**
 * Retention decision (pure, so it can be simulated over months with a fake
 * clock): which snapshots have outlived every tier they belong to, and which
 * oplog segments no retained snapshot or the PITR window needs. Locked items
 * are never chosen.
 */
import { compareOpTime, type OpTime } from '../repo/optime.js';
import type { BackupPolicy, Tier } from './policy.js';

export interface RetentionSnapshot {
  id: string;
  completedAt: Date;
  tiers: Tier[];
  startTs: OpTime;
  consistentTs: OpTime;
  lockedUntil: Date | null;
}

export interface RetentionSegment {
  path: string;
  firstTs: OpTime;
  lastTs: OpTime;
  lockedUntil: Date | null;
}

const DAY = 86_400_000;

function expiresAt(policy: BackupPolicy, s: RetentionSnapshot): number {
  if (s.tiers.length === 0) return s.completedAt.getTime() + policy.onDemandKeepDays * DAY;
  let latest = 0;
  for (const t of s.tiers) {
    let until = 0;
    if (t === 'hourly' && policy.hourly) until = s.completedAt.getTime() + policy.hourly.keepDays * DAY;
    if (t === 'daily' && policy.daily) until = s.completedAt.getTime() + policy.daily.keepDays * DAY;
    if (t === 'weekly' && policy.weekly) until = s.completedAt.getTime() + policy.weekly.keepWeeks * 7 * DAY;
    if (t === 'monthly' && policy.monthly) {
      const d = new Date(s.completedAt);
      d.setUTCMonth(d.getUTCMonth() + policy.monthly.keepMonths);
      until = d.getTime();
    }
    latest = Math.max(latest, until);
  }
  return latest;
}

/**
 * Segments older than the oldest start any retained snapshot replays from (or, with none, the
 * start of the PITR window) are not needed; `kept` is in consistentTs order.
 */
export function oplogNeededFrom(policy: BackupPolicy, kept: readonly RetentionSnapshot[], now: Date): OpTime {
  const windowStartSec = Math.floor((now.getTime() - policy.pitrWindowHours * 3_600_000) / 1000);
  return kept.length ? kept[0]!.startTs : { t: windowStartSec, i: 0 };
}

export function decideRetention(
  policy: BackupPolicy,
  snapshots: RetentionSnapshot[],
  segments: RetentionSegment[],
  now: Date,
): { deleteSnapshots: string[]; deleteSegments: string[]; keptForPitr: string | null } {
  const locked = (l: Date | null) => !!l && l.getTime() > now.getTime();
  const sorted = [...snapshots].sort((a, b) => compareOpTime(a.consistentTs, b.consistentTs));
  // The PITR window needs the newest snapshot consistent at or before its start, whatever its tier.
  const windowStartSec = Math.floor((now.getTime() - policy.pitrWindowHours * 3_600_000) / 1000);
  const base = [...sorted].reverse().find((s) => s.consistentTs.t <= windowStartSec) ?? null;
  const keep = new Set<string>();
  for (const s of sorted)
    if (expiresAt(policy, s) > now.getTime() || locked(s.lockedUntil) || s === base) keep.add(s.id);
  const deleteSnapshots = sorted.filter((s) => !keep.has(s.id)).map((s) => s.id);

  const needFrom = oplogNeededFrom(
    policy,
    sorted.filter((s) => keep.has(s.id)),
    now,
  );
  const deleteSegments = segments
    .filter((g) => compareOpTime(g.lastTs, needFrom) < 0 && !locked(g.lockedUntil))
    .map((g) => g.path);
  return { deleteSnapshots, deleteSegments, keptForPitr: base?.id ?? null };
}
