import { describe, expect, it } from 'vitest';
import {
  DEFAULT_POLICY,
  validatePolicy,
  type BackupPolicy,
  type Tier,
} from '../../engine/schedule/policy.js';
import {
  decideRetention,
  type RetentionSegment,
  type RetentionSnapshot,
} from '../../engine/schedule/retention.js';
import { dueTiers, nextOccurrence } from '../../engine/schedule/schedule.js';

/** Runs the scheduler and retention every `stepMinutes` of fake time, as the app would. */
function simulate(
  policy: BackupPolicy,
  from: Date,
  to: Date,
  stepMinutes: number,
  lock?: (at: Date) => Date | null,
) {
  let snapshots: RetentionSnapshot[] = [];
  let segments: RetentionSegment[] = [];
  const lastRun: Partial<Record<Tier, Date>> = {};
  let last: { decision: ReturnType<typeof decideRetention> } | null = null;
  let segStart = Math.floor(from.getTime() / 1000);
  for (let now = from.getTime(); now <= to.getTime(); now += stepMinutes * 60_000) {
    const at = new Date(now);
    const t = Math.floor(now / 1000);
    segments.push({
      path: `seg-${segStart}`,
      firstTs: { t: segStart, i: 1 },
      lastTs: { t, i: 1 },
      lockedUntil: null,
    });
    segStart = t + 1;
    const due = dueTiers(policy, lastRun, at);
    if (due.length) {
      for (const d of due) lastRun[d.tier] = at;
      snapshots.push({
        id: at.toISOString(),
        completedAt: at,
        tiers: due.map((d) => d.tier),
        startTs: { t, i: 0 },
        consistentTs: { t, i: 0 },
        lockedUntil: lock?.(at) ?? null,
      });
    }
    const decision = decideRetention(policy, snapshots, segments, at);
    snapshots = snapshots.filter((s) => !decision.deleteSnapshots.includes(s.id));
    segments = segments.filter((g) => !decision.deleteSegments.includes(g.path));
    last = { decision };
  }
  return { snapshots, segments, decision: last!.decision };
}

describe('schedules and retention over simulated months', () => {
  const from = new Date('2026-01-01T00:00:00Z');
  const to = new Date('2026-05-01T00:30:00Z');
  const lockedAt = '2026-02-10T05:00:00.000Z';
  const run = simulate(DEFAULT_POLICY, from, to, 30, (at) =>
    at.toISOString() === lockedAt ? new Date('2026-12-31T00:00:00Z') : null,
  );
  const withTier = (t: Tier) => run.snapshots.filter((s) => s.tiers.includes(t)).map((s) => s.id);

  it('keeps exactly what the default policy promises', () => {
    const hours = (fromIso: string, toIso: string) => {
      const out: string[] = [];
      for (let t = Date.parse(fromIso); t <= Date.parse(toIso); t += 3_600_000)
        out.push(new Date(t).toISOString());
      return out;
    };
    const expected = new Set([
      ...hours('2026-04-29T01:00:00Z', '2026-05-01T00:00:00Z'), // hourly, kept 2 days
      ...[
        '2026-04-24',
        '2026-04-25',
        '2026-04-26',
        '2026-04-27',
        '2026-04-28',
        '2026-04-29',
        '2026-04-30',
      ].map((d) => `${d}T03:00:00.000Z`), // daily 7 d
      ...['2026-04-04', '2026-04-11', '2026-04-18', '2026-04-25'].map((d) => `${d}T03:00:00.000Z`), // Saturdays, 4 weeks
      ...['2026-01-01', '2026-02-01', '2026-03-01', '2026-04-01'].map((d) => `${d}T03:00:00.000Z`), // 1st of month, 12 months
      lockedAt, // under a retention lock
      '2026-01-01T00:00:00.000Z', // the job's first snapshot: every tier was due at once, the monthly tag keeps it 12 months
    ]);
    expect(new Set(run.snapshots.map((s) => s.id))).toEqual(expected);
    expect(
      withTier('hourly').filter((id) => Date.parse(id) > Date.parse('2026-04-29T00:30:00Z')),
    ).toHaveLength(48);
  });

  it('keeps a snapshot the 72-hour PITR window starts from, and every segment after the oldest kept snapshot', () => {
    // The newest retained snapshot consistent before now - 72 h (a daily one, kept 7 days).
    expect(run.decision.keptForPitr).toBe('2026-04-27T03:00:00.000Z');
    const oldestStart = Math.min(...run.snapshots.map((s) => s.startTs.t));
    expect(run.segments.every((g) => g.lastTs.t >= oldestStart)).toBe(true);
    // And nothing newer was dropped: the kept segments are contiguous up to now.
    for (let k = 1; k < run.segments.length; k++)
      expect(run.segments[k]!.firstTs.t).toBe(run.segments[k - 1]!.lastTs.t + 1);
  });

  it('never deletes inside a retention lock', () => {
    expect(run.snapshots.map((s) => s.id)).toContain(lockedAt);
    // The locked snapshot keeps the oplog from its start too, so it stays restorable.
    expect(Math.min(...run.segments.map((g) => g.firstTs.t))).toBeLessThanOrEqual(
      Date.parse(lockedAt) / 1000,
    );
  });

  it('takes a missed run once at start-up and says so', () => {
    const lastRun = { hourly: new Date('2026-03-01T10:00:00Z'), daily: new Date('2026-03-01T03:00:00Z') };
    const due = dueTiers(DEFAULT_POLICY, lastRun, new Date('2026-03-04T12:10:00Z'));
    expect(due.map((d) => [d.tier, d.scheduledAt.toISOString(), d.missed])).toEqual([
      ['hourly', '2026-03-04T12:00:00.000Z', true],
      ['daily', '2026-03-04T03:00:00.000Z', true],
      ['weekly', '2026-02-28T03:00:00.000Z', true],
      ['monthly', '2026-03-01T03:00:00.000Z', true],
    ]);
    expect(nextOccurrence(DEFAULT_POLICY, 'weekly', new Date('2026-03-04T12:10:00Z'))?.toISOString()).toBe(
      '2026-03-07T03:00:00.000Z',
    );
  });

  it('enforces preset minimums', () => {
    expect(validatePolicy({ ...DEFAULT_POLICY, preset: 'pci-dss' })).toEqual([
      'PCI-DSS needs daily snapshots kept at least 90 days.',
    ]);
    expect(
      validatePolicy({ ...DEFAULT_POLICY, preset: 'pci-dss', daily: { at: '03:00', keepDays: 90 } }),
    ).toEqual([]);
    expect(
      validatePolicy({ ...DEFAULT_POLICY, hourly: null, daily: null, weekly: null, monthly: null }),
    ).toHaveLength(1);
  });
});
