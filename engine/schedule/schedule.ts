/** When each snapshot tier is due, computed with croner from the policy (UTC). */
import { Cron } from 'croner';
import { WEEKDAYS, type BackupPolicy, type Tier } from './policy.js';

export function tierCron(policy: BackupPolicy, tier: Tier): string | null {
  const hm = (at: string) => at.split(':').map(Number) as [number, number];
  switch (tier) {
    case 'hourly':
      return policy.hourly ? `0 */${policy.hourly.everyHours} * * *` : null;
    case 'daily': {
      if (!policy.daily) return null;
      const [h, m] = hm(policy.daily.at);
      return `${m} ${h} * * *`;
    }
    case 'weekly': {
      if (!policy.weekly) return null;
      const [h, m] = hm(policy.weekly.at);
      return `${m} ${h} * * ${WEEKDAYS.indexOf(policy.weekly.day)}`;
    }
    case 'monthly': {
      if (!policy.monthly) return null;
      const [h, m] = hm(policy.monthly.at);
      return `${m} ${h} ${policy.monthly.day} * *`;
    }
  }
}

/** The newest scheduled time of a tier at or before `now`, or null. */
export function previousOccurrence(policy: BackupPolicy, tier: Tier, now: Date): Date | null {
  const expr = tierCron(policy, tier);
  if (!expr) return null;
  // previousRuns excludes `now` itself; look from one second later so a run exactly now counts.
  const [prev] = new Cron(expr, { timezone: 'UTC', paused: true }).previousRuns(
    1,
    new Date(now.getTime() + 1000),
  );
  return prev ?? null;
}

export function nextOccurrence(policy: BackupPolicy, tier: Tier, now: Date): Date | null {
  const expr = tierCron(policy, tier);
  return expr ? new Cron(expr, { timezone: 'UTC', paused: true }).nextRun(now) : null;
}

/**
 * Tiers due now: a tier is due when its newest scheduled time is after its
 * last run. After the app was closed, each missed tier is due once (not once
 * per missed occurrence), and `missed` says which occurrence was skipped.
 */
export function dueTiers(
  policy: BackupPolicy,
  lastRun: Partial<Record<Tier, Date>>,
  now: Date,
): { tier: Tier; scheduledAt: Date; missed: boolean }[] {
  const out: { tier: Tier; scheduledAt: Date; missed: boolean }[] = [];
  for (const tier of ['hourly', 'daily', 'weekly', 'monthly'] as Tier[]) {
    const prev = previousOccurrence(policy, tier, now);
    if (!prev) continue;
    const last = lastRun[tier];
    if (last && last.getTime() >= prev.getTime()) continue;
    out.push({ tier, scheduledAt: prev, missed: now.getTime() - prev.getTime() > 5 * 60_000 });
  }
  return out;
}
