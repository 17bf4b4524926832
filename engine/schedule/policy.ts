/**
 * Backup policy of a source, like Atlas and Ops Manager: snapshot tiers
 * (hourly, daily, weekly, monthly, each with its retention) plus the
 * point-in-time window and the objectives that raise alerts. Times are UTC.
 */
import { z } from 'zod';

const HHMM = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'HH:MM (UTC)');
export const WEEKDAYS = [
  'sunday',
  'monday',
  'tuesday',
  'wednesday',
  'thursday',
  'friday',
  'saturday',
] as const;

export const BackupPolicy = z.strictObject({
  hourly: z
    .strictObject({
      everyHours: z.number().int().min(1).max(24),
      keepDays: z.number().int().min(1).max(3650),
    })
    .nullable(),
  daily: z.strictObject({ at: HHMM, keepDays: z.number().int().min(1).max(3650) }).nullable(),
  weekly: z
    .strictObject({ day: z.enum(WEEKDAYS), at: HHMM, keepWeeks: z.number().int().min(1).max(520) })
    .nullable(),
  monthly: z
    .strictObject({
      day: z.number().int().min(1).max(28),
      at: HHMM,
      keepMonths: z.number().int().min(1).max(120),
    })
    .nullable(),
  /** On-demand snapshots (no tier) are kept this long. */
  onDemandKeepDays: z.number().int().min(1).max(3650),
  /** Any second in this window can be restored (max 30 days). */
  pitrWindowHours: z.number().int().min(1).max(720),
  /**
   * Oplog segments are cut at least this often, which bounds the recovery point. The issue asks for
   * 10 s by default and 1 s at least; DESIGN.md's budget (< 1 s at 5,000 writes/s) needs less, so
   * values down to 0.25 s are accepted.
   */
  segmentSeconds: z.number().min(0.25).max(600),
  /** ...or when this much oplog is buffered. */
  segmentMaxMB: z.number().int().min(1).max(256),
  /** Alert when the recovery point exceeds this. */
  rpoObjectiveSeconds: z.number().int().min(1).max(86_400),
  /** Alert when the source's own oplog covers less than this. */
  oplogWindowAlertHours: z.number().min(1).max(720),
  /** Alert when the repository disk is fuller than this. */
  diskAlertPercent: z.number().int().min(50).max(99),
  preset: z.enum(['default', 'pci-dss', 'custom']),
});
export type BackupPolicy = z.infer<typeof BackupPolicy>;
export type Tier = 'hourly' | 'daily' | 'weekly' | 'monthly';
export const TIERS: Tier[] = ['hourly', 'daily', 'weekly', 'monthly'];

export const DEFAULT_POLICY: BackupPolicy = {
  hourly: { everyHours: 1, keepDays: 2 },
  daily: { at: '03:00', keepDays: 7 },
  weekly: { day: 'saturday', at: '03:00', keepWeeks: 4 },
  monthly: { day: 1, at: '03:00', keepMonths: 12 },
  onDemandKeepDays: 7,
  pitrWindowHours: 72,
  segmentSeconds: 10,
  segmentMaxMB: 16,
  rpoObjectiveSeconds: 60,
  oplogWindowAlertHours: 24,
  diskAlertPercent: 90,
  preset: 'default',
};

/** Presets enforce minimums (a compliance rule the DBA must not weaken by accident). */
export const PRESET_MINIMUMS: Record<BackupPolicy['preset'], (p: BackupPolicy) => string[]> = {
  default: () => [],
  custom: () => [],
  'pci-dss': (p) => {
    const problems: string[] = [];
    if (!p.daily || p.daily.keepDays < 90)
      problems.push('PCI-DSS needs daily snapshots kept at least 90 days.');
    return problems;
  },
};

export function validatePolicy(p: BackupPolicy): string[] {
  const problems = PRESET_MINIMUMS[p.preset](p);
  if (!p.hourly && !p.daily && !p.weekly && !p.monthly)
    problems.push('At least one snapshot tier is needed.');
  return problems;
}

/** Named starting points; a preset also fixes the minimums validatePolicy enforces. */
export const PRESETS: Record<'default' | 'pci-dss', BackupPolicy> = {
  default: DEFAULT_POLICY,
  'pci-dss': { ...DEFAULT_POLICY, daily: { at: '03:00', keepDays: 90 }, preset: 'pci-dss' },
};
