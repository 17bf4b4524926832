/**
 * source.overview and policy.preview through dispatch, on a real repository:
 * segments and snapshots written by the store, so the figures come from the
 * catalog rows their writes left (times, compressed sizes, coverage).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { CommandOutput } from '../../engine/api/contract.js';
import { dispatch } from '../../engine/api/dispatch.js';
import { snapshotsOfSource } from '../../engine/catalog/snapshots.js';
import { segmentsOfSource } from '../../engine/catalog/segments.js';
import { DEFAULT_POLICY } from '../../engine/schedule/policy.js';
import { OplogFactory } from '../support/oplog-factory.js';
import { makeStore, type StoreFixture } from '../support/store-fixture.js';

let fx: StoreFixture | undefined;
afterEach(async () => {
  await fx?.close();
  fx = undefined;
});

async function ok<K extends 'source.overview' | 'policy.preview'>(
  name: K,
  input: Record<string, unknown>,
): Promise<CommandOutput<K>> {
  const res = await dispatch(fx!.engine, name, input);
  if (!res.ok) throw new Error(JSON.stringify(res.error));
  return res.result as CommandOutput<K>;
}

const nowT = () => Math.floor(Date.now() / 1000);
const day = (t: number) => new Date(t * 1000).toISOString().slice(0, 10);

/** Segments of `n` entries from second `t` on, chained to the tip (or starting a new chain: a gap). */
async function oplogAt(t: number, n: number, chained = true) {
  const f = new OplogFactory({ start: { t, i: 1 }, perSecond: 1 });
  const { store, sourceId } = fx!;
  await store.appendSegment(sourceId, f.mixed(n), chained ? store.chainTip(sourceId) : null);
}

describe('source.overview', () => {
  it('gives the objective, next snapshot, PITR window coverage with its gaps, and storage per day', async () => {
    fx = await makeStore();
    const now = nowT();
    // Two days ago: 600 s of oplog; then 1,800 s ending an hour ago after a chain break (a gap).
    await oplogAt(now - 2 * 86_400, 300);
    await oplogAt(now - 2 * 86_400 + 300, 300);
    await oplogAt(now - 5400, 1800, false);
    const snap = await fx.snapshot({ t: now - 5400, i: 1 }, { t: now - 5300, i: 1 });
    const o = await ok('source.overview', { source: 'prod-rs', days: 5 });

    expect(o.source).toBe('prod-rs');
    expect(o.jobState).toBe('active');
    expect(o.rpoObjectiveSeconds).toBe(DEFAULT_POLICY.rpoObjectiveSeconds);
    // The default policy: hourly at :00 comes first (and daily/weekly/monthly join it at 03:00).
    const next = Date.parse(o.nextSnapshot!.at);
    expect(next).toBeGreaterThan(Date.now());
    expect(next - Date.now()).toBeLessThanOrEqual(3_600_000);
    expect(new Date(next).getUTCMinutes()).toBe(0);
    expect(o.nextSnapshot!.tiers[0]).toBe('hourly');

    // Window: the last 72 h. Covered: the two intervals (each inclusive of its last second).
    expect(o.pitrWindow.hours).toBe(72);
    expect(Date.parse(o.pitrWindow.to) / 1000 - Date.parse(o.pitrWindow.from) / 1000).toBe(72 * 3600);
    const cov = (await dispatch(fx.engine, 'source.coverage', { source: 'prod-rs' })) as {
      ok: true;
      result: CommandOutput<'source.coverage'>;
    };
    const [first, second] = cov.result.intervals;
    expect(cov.result.intervals).toHaveLength(2);
    expect(o.pitrWindow.coveredSeconds).toBe(
      first!.end.t - first!.start.t + 1 + (second!.end.t - second!.start.t + 1),
    );
    expect(o.pitrWindow.coveredSeconds).toBeGreaterThanOrEqual(2400);
    // Restorable: from the snapshot's consistent point to the end of the second interval.
    expect(o.pitrWindow.restorableSeconds).toBe(second!.end.t - (now - 5300) + 1);
    expect(o.pitrWindow.gaps).toHaveLength(1);
    expect(o.pitrWindow.gaps[0]!.reason).toBe('chain-break');
    const g = o.pitrWindow.gaps[0]!;
    // The seconds strictly between the two intervals: neither end of a gap is missing.
    expect(o.pitrWindow.gapSeconds).toBe(g.before.t - g.after.t - 1);

    // Storage: the rows' stored bytes, split and per day (every day of the range, zeros included).
    const segs = segmentsOfSource(fx.engine.catalog, fx.sourceId);
    const snaps = snapshotsOfSource(fx.engine.catalog, fx.sourceId);
    const oplogBytes = segs.reduce((n, s) => n + s.stored_bytes, 0);
    expect(o.storage.oplogBytes).toBe(oplogBytes);
    expect(o.storage.snapshotBytes).toBe(snaps[0]!.stored_bytes);
    expect(o.storage.storedBytes).toBe(oplogBytes + snaps[0]!.stored_bytes);
    expect(o.storage.days.map((d) => d.day)).toEqual([4, 3, 2, 1, 0].map((k) => day(now - k * 86_400)));
    const perDay = (t: number) => o.storage.days.find((d) => d.day === day(t))!;
    const byDay = (t: number) =>
      segs.filter((s) => day(s.first_t) === day(t)).reduce((n, s) => n + s.stored_bytes, 0);
    expect(perDay(now - 2 * 86_400).oplogBytes).toBe(byDay(now - 2 * 86_400));
    expect(perDay(now - 2 * 86_400).oplogBytes).toBeGreaterThan(0);
    expect(perDay(now - 4 * 86_400)).toEqual({
      day: day(now - 4 * 86_400),
      snapshotBytes: 0,
      oplogBytes: 0,
      held: null, // nothing was recorded before today (storage-held.test.ts covers past days)
    });
    const snapDay = snaps[0]!.completed_at!.slice(0, 10);
    expect(o.storage.days.find((d) => d.day === snapDay)!.snapshotBytes).toBe(snaps[0]!.stored_bytes);
    expect(snap).toBe(snaps[0]!.id);
  });

  it('has no next snapshot while the job is stopped', async () => {
    fx = await makeStore();
    const stopped = await dispatch(fx.engine, 'backup-job.stop', { source: 'prod-rs' });
    expect(stopped.ok).toBe(true);
    const o = await ok('source.overview', { source: 'prod-rs' });
    expect(o.jobState).toBe('stopped');
    expect(o.nextSnapshot).toBeNull();
    expect(o.storage.days).toHaveLength(30);
    expect(o.pitrWindow.coveredSeconds).toBe(0);
  });
});

describe('policy.preview', () => {
  it("keeps today's snapshot as the engine would and estimates storage from this source's sizes", async () => {
    fx = await makeStore();
    const now = nowT();
    await oplogAt(now - 2 * 86_400, 600);
    await oplogAt(now - 2 * 86_400 + 600, 600);
    const snapId = await fx.snapshot({ t: now - 2 * 86_400, i: 1 }, { t: now - 2 * 86_400 + 10, i: 1 });
    const policy = {
      ...DEFAULT_POLICY,
      hourly: null,
      weekly: null,
      monthly: null,
      preset: 'custom' as const,
    };
    const p = await ok('policy.preview', { source: 'prod-rs', policy });

    expect(p.problems).toEqual([]);
    expect(Date.parse(p.horizon) - Date.parse(p.from)).toBe(30 * 86_400_000);
    // An on-demand snapshot is kept 7 days: gone at the horizon. What remains: the dailies of the last 7 days.
    expect(p.snapshots.some((s) => s.id === snapId)).toBe(false);
    expect(p.snapshots.every((s) => !s.existing && s.tiers.join() === 'daily')).toBe(true);
    expect(p.snapshots).toHaveLength(7);
    const snaps = snapshotsOfSource(fx.engine.catalog, fx.sourceId);
    const segs = segmentsOfSource(fx.engine.catalog, fx.sourceId);
    expect(p.storage.basis.snapshotBytes).toBe(snaps[0]!.stored_bytes);
    expect(p.storage.snapshotBytes).toBe(7 * snaps[0]!.stored_bytes);
    expect(p.storage.estimatedSnapshots).toBe(7);
    // Oplog rate: the bytes held over the time since the oldest segment (two days).
    const bytes = segs.reduce((n, s) => n + s.stored_bytes, 0);
    const rate = p.storage.basis.oplogBytesPerDay!;
    expect(rate).toBeGreaterThan(bytes / 2.01);
    expect(rate).toBeLessThan(bytes / 1.99);
    expect(p.storage.basis.oplogMeasuredDays).toBeCloseTo(2, 2);
    // Held from the oldest kept daily's start (7 days before the horizon, at 03:00) on.
    expect(p.storage.oplogDays).toBeGreaterThan(6);
    expect(p.storage.oplogDays).toBeLessThanOrEqual(7);
    expect(p.storage.oplogBytes).toBe(Math.round(p.storage.oplogDays * rate));
    expect(p.storage.totalBytes).toBe(p.storage.snapshotBytes + p.storage.oplogBytes);
  });

  it('says why saving would be refused, and refuses a malformed policy', async () => {
    fx = await makeStore();
    const none = { ...DEFAULT_POLICY, hourly: null, daily: null, weekly: null, monthly: null };
    const p = await ok('policy.preview', { source: 'prod-rs', policy: none });
    expect(p.problems).toEqual(['At least one snapshot tier is needed.']);
    expect(p.snapshots).toEqual([]);
    const pci = await ok('policy.preview', {
      source: 'prod-rs',
      policy: { ...DEFAULT_POLICY, daily: { at: '03:00', keepDays: 30 }, preset: 'pci-dss' },
    });
    expect(pci.problems).toEqual(['PCI-DSS needs daily snapshots kept at least 90 days.']);
    // A change is previewed on top of the current policy, as backup-job set would save it.
    const change = await ok('policy.preview', { source: 'prod-rs', policy: { hourly: null, weekly: null } });
    expect(change.problems).toEqual([]);
    expect(change.snapshots.some((x) => x.tiers.includes('hourly') || x.tiers.includes('weekly'))).toBe(
      false,
    );
    expect(change.snapshots.some((x) => x.tiers.includes('monthly'))).toBe(true);
    const bad = await dispatch(fx.engine, 'policy.preview', {
      source: 'prod-rs',
      policy: { ...DEFAULT_POLICY, daily: { at: '25:00', keepDays: 7 } },
    });
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.error.code).toBe('INVALID_INPUT');
  });
});
