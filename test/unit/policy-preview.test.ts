/**
 * The policy preview (what a policy keeps a month from now) is held against
 * a brute force: the scheduler's rule (dueTiers) asked every minute of the
 * month, one snapshot for the tiers due in a tick, and retention
 * (decideRetention) after each snapshot and every hour, as
 * engine/schedule/scheduler.ts runs them. The preview walks the cron
 * occurrences instead of every minute; both must keep the same snapshots.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_POLICY,
  PRESETS,
  TIERS,
  type BackupPolicy,
  type Tier,
} from '../../engine/schedule/policy.js';
import {
  estimateStorage,
  previewPolicy,
  scheduledSnapshots,
  type PreviewSnapshot,
} from '../../engine/schedule/preview.js';
import { decideRetention, type RetentionSnapshot } from '../../engine/schedule/retention.js';
import { dueTiers } from '../../engine/schedule/schedule.js';

const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

/**
 * Whether a minute is a scheduled time of a tier, read from the policy's fields directly (not through
 * croner). The scheduler's rule, dueTiers, asked every minute with the last runs it records, is due
 * exactly at these minutes; asking croner 4 times a minute for a month takes minutes on this machine,
 * so the brute force uses this reading and checks it against dueTiers at every snapshot and a sample
 * of other minutes.
 */
function scheduledAt(policy: BackupPolicy, tier: Tier, at: Date): boolean {
  const [h, m, wd, md] = [at.getUTCHours(), at.getUTCMinutes(), at.getUTCDay(), at.getUTCDate()];
  const hm = (s: string) => s === `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`;
  const WEEK = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];
  switch (tier) {
    case 'hourly':
      return !!policy.hourly && m === 0 && h % policy.hourly.everyHours === 0;
    case 'daily':
      return !!policy.daily && hm(policy.daily.at);
    case 'weekly':
      return !!policy.weekly && WEEK[wd] === policy.weekly.day && hm(policy.weekly.at);
    case 'monthly':
      return !!policy.monthly && md === policy.monthly.day && hm(policy.monthly.at);
  }
}

function bruteForce(
  policy: BackupPolicy,
  existing: RetentionSnapshot[],
  lastRuns: Partial<Record<Tier, Date>>,
  now: Date,
  days: number,
): RetentionSnapshot[] {
  let held = existing.map((s) => ({ ...s }));
  const lastRun = { ...lastRuns };
  const retain = (at: Date) => {
    const gone = new Set(decideRetention(policy, held, [], at).deleteSnapshots);
    held = held.filter((s) => !gone.has(s.id));
  };
  let lastRetention = -Infinity;
  const end = now.getTime() + days * DAY;
  for (let t = now.getTime(), tick = 0; t <= end; t += MINUTE, tick++) {
    const at = new Date(t);
    // The scheduler's hourly retention pass runs in the tick before the snapshot it starts is complete.
    if (t - lastRetention >= HOUR) {
      lastRetention = t;
      retain(at);
    }
    // The first tick asks the scheduler's own rule (missed and never-run tiers are due once, now).
    const due =
      tick === 0
        ? dueTiers(policy, lastRun, at).map((d) => d.tier)
        : TIERS.filter((x) => scheduledAt(policy, x, at));
    if (tick > 0 && (due.length > 0 || tick % 241 === 0))
      expect(
        dueTiers(policy, lastRun, at).map((d) => d.tier),
        at.toISOString(),
      ).toEqual(due);
    if (due.length === 0) continue;
    for (const d of due) lastRun[d] = at;
    const ts = { t: Math.floor(t / 1000), i: 0 };
    held.push({
      id: `tick-${at.toISOString()}`,
      completedAt: at,
      tiers: due,
      startTs: ts,
      consistentTs: ts,
      lockedUntil: null,
    });
    retain(at);
  }
  return held.sort((a, b) => a.completedAt.getTime() - b.completedAt.getTime());
}

/** What a kept snapshot is, independent of how each side names planned ones. */
const key = (s: RetentionSnapshot & Partial<PreviewSnapshot>) =>
  `${s.completedAt.toISOString()} ${s.tiers.join('+') || 'on-demand'}${s.id.startsWith('old-') ? ` ${s.id}` : ''}`;

/** Snapshots a source already holds: some tiered, some on demand, one locked. */
function history(
  now: Date,
  policy: BackupPolicy,
): { snaps: RetentionSnapshot[]; lastRuns: Partial<Record<Tier, Date>> } {
  const snaps: RetentionSnapshot[] = [];
  const lastRuns: Partial<Record<Tier, Date>> = {};
  for (let k = 1; k <= 40; k++) {
    const at = new Date(now.getTime() - k * 7 * HOUR);
    const tiers: Tier[] = k % 5 === 0 ? [] : k % 3 === 0 ? ['daily'] : ['hourly'];
    const ts = { t: Math.floor(at.getTime() / 1000) - 30, i: 1 };
    snaps.push({
      id: `old-${k}`,
      completedAt: at,
      tiers,
      startTs: ts,
      consistentTs: { t: ts.t + 20, i: 3 },
      lockedUntil: k === 37 ? new Date(now.getTime() + 40 * DAY) : null,
    });
    for (const t of tiers) if (policy[t] && (!lastRuns[t] || lastRuns[t]! < at)) lastRuns[t] = at;
  }
  return { snaps, lastRuns };
}

describe('policy preview against the scheduler and retention run minute by minute', () => {
  const now = new Date('2026-12-01T11:37:00Z');
  const cases: [string, BackupPolicy][] = [
    ['the default policy', DEFAULT_POLICY],
    ['the PCI-DSS preset', PRESETS['pci-dss']],
    [
      'hourly snapshots kept for less than the PITR window',
      {
        ...DEFAULT_POLICY,
        hourly: { everyHours: 5, keepDays: 1 },
        daily: null,
        pitrWindowHours: 72,
        preset: 'custom',
      },
    ],
    [
      'weekly and monthly only, due at the same minute',
      {
        ...DEFAULT_POLICY,
        hourly: null,
        daily: null,
        weekly: { day: 'tuesday', at: '00:00', keepWeeks: 2 },
        monthly: { day: 1, at: '00:00', keepMonths: 1 },
        preset: 'custom',
      },
    ],
  ];

  for (const [name, policy] of cases) {
    it(`keeps what the engine would keep: ${name}`, () => {
      const { snaps, lastRuns } = history(now, policy);
      const preview = previewPolicy(policy, snaps, lastRuns, now, 30);
      const brute = bruteForce(policy, snaps, lastRuns, now, 30);
      expect(preview.kept.map(key)).toEqual(brute.map(key));
      expect(preview.kept.length).toBeGreaterThan(0);
      expect(preview.horizon.toISOString()).toBe('2026-12-31T11:37:00.000Z');
    }, 120_000);
  }

  it('keeps exactly what the default policy promises a month from now', () => {
    const preview = previewPolicy(DEFAULT_POLICY, [], {}, now, 30);
    const got = preview.kept.map((s) => `${s.completedAt.toISOString().slice(0, 16)} ${s.tiers.join('+')}`);
    const tiersAt = (iso: string) => {
      const d = new Date(`${iso}:00Z`);
      const t = ['hourly'];
      if (d.getUTCHours() === 3 && d.getUTCMinutes() === 0) t.push('daily');
      if (t.length > 1 && d.getUTCDay() === 6) t.push('weekly');
      return `${iso} ${t.join('+')}`;
    };
    const expected = [
      // The source never ran: every tier is due at once, now; kept 12 months as the monthly.
      '2026-12-01T11:37 hourly+daily+weekly+monthly',
      // Weekly (Saturday 03:00, where the daily and the hourly fall too) kept 4 weeks.
      ...['05', '12', '19'].map((d) => tiersAt(`2026-12-${d}T03:00`)),
      // Daily at 03:00 kept 7 days (the PITR base, 72 h back, is one of them).
      ...['25', '26', '27', '28', '29'].map((d) => tiersAt(`2026-12-${d}T03:00`)),
      // Hourly kept 2 days: the 48 hours before the horizon.
      ...Array.from({ length: 48 }, (_, k) =>
        tiersAt(new Date(Date.parse('2026-12-29T12:00:00Z') + k * HOUR).toISOString().slice(0, 16)),
      ),
    ];
    expect(got).toEqual(expected);
    // That first one, then every hour from 12:00 to 11:00 a month later (dailies and weeklies share the hour).
    expect(preview.planned).toBe(1 + 30 * 24);
  });

  it('holds for random policies, histories and start times', () => {
    const hhmm = fc
      .tuple(fc.integer({ min: 0, max: 23 }), fc.constantFrom(0, 15, 30, 45))
      .map(([h, m]) => `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`);
    const policyArb = fc.record({
      hourly: fc.option(
        fc.record({ everyHours: fc.integer({ min: 1, max: 24 }), keepDays: fc.integer({ min: 1, max: 5 }) }),
      ),
      daily: fc.option(fc.record({ at: hhmm, keepDays: fc.integer({ min: 1, max: 20 }) })),
      weekly: fc.option(
        fc.record({
          day: fc.constantFrom('sunday', 'monday', 'wednesday', 'saturday' as const),
          at: hhmm,
          keepWeeks: fc.integer({ min: 1, max: 6 }),
        }),
      ),
      monthly: fc.option(
        fc.record({
          day: fc.integer({ min: 1, max: 28 }),
          at: hhmm,
          keepMonths: fc.integer({ min: 1, max: 3 }),
        }),
      ),
      pitrWindowHours: fc.integer({ min: 1, max: 200 }),
      onDemandKeepDays: fc.integer({ min: 1, max: 10 }),
    });
    fc.assert(
      fc.property(policyArb, fc.integer({ min: 0, max: 60 * 24 * 60 }), (p, minutes) => {
        const policy = { ...DEFAULT_POLICY, ...p, preset: 'custom' } as BackupPolicy;
        const start = new Date(Date.parse('2026-11-01T00:00:00Z') + minutes * MINUTE);
        const { snaps, lastRuns } = history(start, policy);
        const preview = previewPolicy(policy, snaps, lastRuns, start, 30);
        expect(preview.kept.map(key)).toEqual(bruteForce(policy, snaps, lastRuns, start, 30).map(key));
      }),
      { numRuns: 6 },
    );
  }, 240_000);
});

describe('scheduled snapshots', () => {
  it('merges tiers due at the same instant into one snapshot, in tier order', () => {
    const policy = { ...DEFAULT_POLICY, monthly: { day: 5, at: '03:00', keepMonths: 1 } };
    const s = scheduledSnapshots(policy, new Date('2026-12-05T02:30:00Z'), new Date('2026-12-05T04:00:00Z'));
    expect(s.map((x) => [x.at.toISOString(), x.tiers])).toEqual([
      ['2026-12-05T03:00:00.000Z', ['hourly', 'daily', 'weekly', 'monthly']],
      ['2026-12-05T04:00:00.000Z', ['hourly']],
    ]);
  });
});

describe('storage estimate', () => {
  it('sizes kept snapshots as measured (planned ones like the newest) and the oplog from the oldest kept start', () => {
    const now = new Date('2026-12-01T12:00:00Z');
    const policy: BackupPolicy = {
      ...DEFAULT_POLICY,
      hourly: null,
      weekly: null,
      monthly: null,
      daily: { at: '03:00', keepDays: 7 },
      pitrWindowHours: 24,
    };
    const old: RetentionSnapshot = {
      id: 'old-locked',
      completedAt: new Date(now.getTime() - 20 * DAY),
      tiers: ['daily'],
      startTs: { t: Math.floor(now.getTime() / 1000) - 20 * 86_400 - 60, i: 1 },
      consistentTs: { t: Math.floor(now.getTime() / 1000) - 20 * 86_400, i: 1 },
      lockedUntil: new Date(now.getTime() + 60 * DAY),
    };
    const preview = previewPolicy(policy, [old], { daily: old.completedAt }, now, 30);
    // The locked one, and the dailies of the last 7 days: 12-25 .. 12-31 at 03:00.
    expect(preview.kept.map((s) => s.id)).toEqual([
      'old-locked',
      ...[25, 26, 27, 28, 29, 30, 31].map((d) => `planned-2026-12-${d}T03:00:00.000Z`),
    ]);
    const est = estimateStorage(
      policy,
      preview,
      {
        snapshotBytes: 10_000_000,
        oplogBytesPerDay: 2_000_000,
        oldestSegmentT: Math.floor(now.getTime() / 1000) - 25 * 86_400,
        storedBytesOf: (id) => (id === 'old-locked' ? 7_000_000 : null),
      },
      now,
    );
    expect(est.snapshotBytes).toBe(7_000_000 + 7 * 10_000_000);
    expect(est.estimatedSnapshots).toBe(7);
    // The locked snapshot replays from its start: 50 days and 60 s of oplog at the horizon.
    expect(est.oplogDays).toBeCloseTo(50 + 60 / 86_400, 6);
    expect(est.oplogBytes).toBe(Math.round((50 + 60 / 86_400) * 2_000_000));
    expect(est.totalBytes).toBe(est.snapshotBytes + est.oplogBytes);
    // Capture began later than that start: the oplog reaches back only to its oldest segment.
    const later = estimateStorage(
      policy,
      preview,
      {
        snapshotBytes: 1,
        oplogBytesPerDay: 2_000_000,
        oldestSegmentT: Math.floor(now.getTime() / 1000) - 3 * 86_400,
        storedBytesOf: () => null,
      },
      now,
    );
    expect(later.oplogDays).toBeCloseTo(33, 6);
  });
});
