/**
 * The backup policy as the Sources section edits it. Its shape comes from the
 * API contract (`BackupPolicy`, `SnapshotTier`, `Weekday`); the values a
 * switched-on tier starts from come from the engine (`backup-job.defaults`,
 * kept by the sources slice). The Records below make a tier or weekday the
 * contract adds, or drops, a type error here.
 */
import type { BackupPolicy, SnapshotTier, Weekday } from '../../../../engine/api/contract';

export type Policy = BackupPolicy;
export type Tiers = Pick<BackupPolicy, SnapshotTier>;
export type TierName = SnapshotTier;
/** The policy's numbers besides the tiers (the restore test is a settings object of its own). */
export type PolicyScalar = Exclude<keyof BackupPolicy, SnapshotTier | 'preset' | 'restoreTest'>;

/** Tiers in the order a DBA reads them, finest first. */
const TIER_ORDER: Record<SnapshotTier, number> = { hourly: 0, daily: 1, weekly: 2, monthly: 3 };
export const TIERS = (Object.keys(TIER_ORDER) as SnapshotTier[]).sort(
  (a, b) => TIER_ORDER[a] - TIER_ORDER[b],
);

/** Weekdays in calendar order, as cron counts them (Sunday is 0). */
const WEEKDAY_ORDER: Record<Weekday, number> = {
  sunday: 0,
  monday: 1,
  tuesday: 2,
  wednesday: 3,
  thursday: 4,
  friday: 5,
  saturday: 6,
};
export const WEEKDAYS = (Object.keys(WEEKDAY_ORDER) as Weekday[]).sort(
  (a, b) => WEEKDAY_ORDER[a] - WEEKDAY_ORDER[b],
);
