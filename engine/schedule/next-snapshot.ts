/** The next scheduled snapshot of a policy: the earliest next run of its tiers, with every tier due then. */
import { TIERS, type BackupPolicy, type Tier } from './policy.js';
import { nextOccurrence } from './schedule.js';

export function nextScheduledSnapshot(policy: BackupPolicy, now: Date): { at: Date; tiers: Tier[] } | null {
  let best: { at: Date; tiers: Tier[] } | null = null;
  for (const tier of TIERS) {
    const at = nextOccurrence(policy, tier, now);
    if (!at) continue;
    if (!best || at.getTime() < best.at.getTime()) best = { at, tiers: [tier] };
    else if (at.getTime() === best.at.getTime()) best.tiers.push(tier);
  }
  return best;
}
