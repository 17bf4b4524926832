/**
 * The backup policy as the Sources section edits it. Its shape comes from the
 * API contract once the contract types it; until then this file is the one
 * place the renderer states it.
 */
import type { BackupJob } from './sources-store';

export type Tiers = {
  hourly: { everyHours: number; keepDays: number } | null;
  daily: { at: string; keepDays: number } | null;
  weekly: { day: string; at: string; keepWeeks: number } | null;
  monthly: { day: number; at: string; keepMonths: number } | null;
};
export type TierName = keyof Tiers;
export type Policy = Tiers & {
  onDemandKeepDays: number;
  pitrWindowHours: number;
  segmentSeconds: number;
  segmentMaxMB: number;
  rpoObjectiveSeconds: number;
  oplogWindowAlertHours: number;
  diskAlertPercent: number;
  preset: string;
};

export const TIERS: TierName[] = ['hourly', 'daily', 'weekly', 'monthly'];
export const WEEKDAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];

/** Used when a tier that was off is switched on; the engine validates whatever is saved. */
export const TIER_STARTERS: Tiers = {
  hourly: { everyHours: 1, keepDays: 2 },
  daily: { at: '03:00', keepDays: 7 },
  weekly: { day: 'saturday', at: '03:00', keepWeeks: 4 },
  monthly: { day: 1, at: '03:00', keepMonths: 12 },
};

export const policyOf = (job: BackupJob): Policy => job.policy as unknown as Policy;
