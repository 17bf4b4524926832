/**
 * Backup policy rules: the defaults, the presets and the minimums a preset
 * enforces. The policy's shape (tiers, retention, PITR window, objectives)
 * is declared in the API contract, engine/api/schemas.ts.
 */
import { BackupPolicy, SnapshotTier, Weekday, type PolicyPreset } from '../api/schemas.js';
import { parseConnection, secretOptions } from '../mongo/connection-config.js';

// The shape is part of the API contract (engine/api/schemas.ts); the rules across fields are here.
export { BackupPolicy };
export const WEEKDAYS = Weekday.options;
export type Tier = SnapshotTier;
export const TIERS: Tier[] = [...SnapshotTier.options];

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
  restoreTest: null,
};

/** Presets enforce minimums (a compliance rule the DBA must not weaken by accident). */
export const PRESET_MINIMUMS: Record<PolicyPreset, (p: BackupPolicy) => string[]> = {
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
  if (p.restoreTest?.target.kind === 'uri')
    problems.push(...restoreTestTargetProblems(p.restoreTest.target.uri));
  return problems;
}

/** Named starting points; a preset also fixes the minimums validatePolicy enforces. */
export const PRESETS: Record<'default' | 'pci-dss', BackupPolicy> = {
  default: DEFAULT_POLICY,
  'pci-dss': { ...DEFAULT_POLICY, daily: { at: '03:00', keepDays: 90 }, preset: 'pci-dss' },
};

/**
 * A restore test's target is kept in the policy, which is mirrored into the repository
 * (protection.json): it must carry no secret. backup-job set lifts a password out of the string
 * and seals it; secret options (a key file's password, tokens) are refused here.
 */
export function restoreTestTargetProblems(uri: string): string[] {
  try {
    const { config, password } = parseConnection(uri);
    const problems: string[] = [];
    if (password !== null)
      problems.push(
        'The restore test target must not hold a password: give it with restoreTestPassword (CLI: --restore-test-password-env VAR) or target.passwordEnv.',
      );
    if (secretOptions(config))
      problems.push(
        `The restore test target must not hold secret options (${Object.keys(secretOptions(config)!).join(', ')}).`,
      );
    return problems;
  } catch (err) {
    return [`Restore test target: ${(err as Error).message}`];
  }
}
