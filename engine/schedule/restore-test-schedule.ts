/**
 * When a backup job's restore test is due: every `everyDays` days counted
 * from the start of the last test. A pure function of `now` (the scheduler
 * passes its clock): after the app was closed for several periods the test
 * is due once, not once per missed period, and `missed` says so.
 */
import type { RestoreTestSettings } from '../api/schemas.js';

const DAY_MS = 86_400_000;
/** A test started this late after its time counts as missed (the scheduler runs every minute). */
const MISSED_AFTER_MS = 5 * 60_000;

export interface RestoreTestDue {
  due: boolean;
  /** When the test was (or will be) due; null for the first test, which is due at once. */
  scheduledAt: Date | null;
  /** Due since more than a scheduler pass: the app was not running at that time. */
  missed: boolean;
}

export function restoreTestDue(
  settings: RestoreTestSettings,
  lastStartedAt: Date | null,
  now: Date,
): RestoreTestDue {
  if (!lastStartedAt) return { due: true, scheduledAt: null, missed: false };
  const scheduledAt = new Date(lastStartedAt.getTime() + settings.everyDays * DAY_MS);
  const late = now.getTime() - scheduledAt.getTime();
  return { due: late >= 0, scheduledAt, missed: late > MISSED_AFTER_MS };
}

/** When the next test runs: its due time, or now when it is already due (the next pass starts it). */
export function nextRestoreTest(settings: RestoreTestSettings, lastStartedAt: Date | null, now: Date): Date {
  const d = restoreTestDue(settings, lastStartedAt, now);
  return d.due || !d.scheduledAt ? now : d.scheduledAt;
}
