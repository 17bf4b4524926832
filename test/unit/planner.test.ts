import { afterEach, describe, expect, it } from 'vitest';
import { parseRestorePoint, planRestore, type Plan } from '../../engine/restore/planner.js';
import { setSegmentStatus } from '../../engine/catalog/segments.js';
import { recomputeCoverage } from '../../engine/catalog/coverage.js';
import { dispatch } from '../../engine/api/dispatch.js';
import type { OpTime } from '../../engine/repo/optime.js';
import { makeStore, type StoreFixture } from '../support/store-fixture.js';

let fx: StoreFixture | null = null;
afterEach(async () => {
  await fx?.close();
  fx = null;
});

const ts = (t: number, i: number): OpTime => ({ t, i });
const T0 = 1_763_805_600;

/** Segments: [T0:1 .. ] 4 segments of 20 entries at 10 entries/s, then a gap of 100 s, then 2 more. */
async function timeline() {
  fx = await makeStore({ perSecond: 10 });
  await fx.appendSegments(4, 20); // T0:1 .. (T0+7):10
  fx.factory.skipSeconds(100);
  const tip = fx.store.chainTip(fx.sourceId)!;
  // A new chain after a roll-over: prevLastTs null.
  await fx.store.appendSegment(fx.sourceId, fx.factory.mixed(20), null);
  await fx.appendSegments(1, 20);
  return { fx, tip };
}

const plan = (p: string): Plan => planRestore(fx!.engine.catalog, fx!.sourceId, parseRestorePoint(p));

describe('restore planning', () => {
  it('parses latest, t:i and ISO seconds, and rejects anything else with INVALID_INPUT', () => {
    expect(parseRestorePoint('latest')).toEqual({ kind: 'latest' });
    expect(parseRestorePoint('1763805600:3')).toEqual({ kind: 'ts', ts: ts(T0, 3) });
    expect(parseRestorePoint('2025-11-22T10:00:05Z')).toEqual({ kind: 'wall', seconds: T0 + 5 });
    expect(parseRestorePoint('2025-11-22T11:00:05+01:00')).toEqual({ kind: 'wall', seconds: T0 + 5 });
    for (const bad of [
      'yesterday',
      '2025-11-22 10:00',
      '2025-11-22T10:00:05',
      '12:',
      '1:2:3',
      '2025-11-22T10:00:05.5Z',
    ]) {
      expect(() => parseRestorePoint(bad), bad).toThrow(
        expect.objectContaining({ code: 'INVALID_INPUT' }) as Error,
      );
    }
  });

  it('uses the newest snapshot at or before the point, exactly at consistentTs included', async () => {
    const { fx } = await timeline();
    const a = await fx.snapshot(ts(T0, 5), ts(T0 + 1, 3));
    const b = await fx.snapshot(ts(T0 + 2, 1), ts(T0 + 3, 4));
    let p = plan(`${T0 + 3}:4`); // exactly at b's consistentTs
    expect(p.ok && p.snapshot.id).toBe(b);
    p = plan(`${T0 + 3}:3`); // one increment before: b is not consistent yet
    expect(p.ok && p.snapshot.id).toBe(a);
    expect(p.ok && p.bound).toEqual(ts(T0 + 3, 3));
    p = plan(`${T0 + 1}:2`); // before a is consistent
    expect(p).toMatchObject({ ok: false, reason: 'NO_SNAPSHOT' });
  });

  it('replays the segments from the one holding startTs through the point, in order', async () => {
    const { fx } = await timeline();
    await fx.snapshot(ts(T0 + 2, 5), ts(T0 + 2, 9)); // startTs inside segment 2 (T0+2:1 .. T0+3:10)
    const p = plan(`${T0 + 5}:5`);
    if (!p.ok) throw new Error(p.message);
    expect(p.segments.map((s) => s.firstTs)).toEqual([ts(T0 + 2, 1), ts(T0 + 4, 1)]);
    // A segment ending exactly at startTs is not replayed.
    await fx.snapshot(ts(T0 + 3, 10), ts(T0 + 3, 10));
    const q = plan(`${T0 + 5}:5`);
    expect(q.ok && q.segments.map((s) => s.firstTs)).toEqual([ts(T0 + 4, 1)]);
  });

  it('refuses points before the window, in a gap, and in the future, naming the reason', async () => {
    const { fx, tip } = await timeline();
    await fx.snapshot(ts(T0, 1), ts(T0, 2));
    expect(plan(`${T0 - 1}:1`)).toMatchObject({ ok: false, reason: 'BEFORE_WINDOW' });
    expect(plan(`${tip.t}:${tip.i}`)).toMatchObject({ ok: true }); // the last entry before the gap
    expect(plan(`${tip.t}:${tip.i + 1}`)).toMatchObject({ ok: false, reason: 'IN_GAP' });
    expect(plan(`${tip.t + 50}:1`)).toMatchObject({ ok: false, reason: 'IN_GAP' });
    // After the gap: the old snapshot is in another interval, so no plan until a new snapshot exists.
    const afterGap = fx.engine.catalog
      .prepare('SELECT start_t, start_i FROM coverage_intervals ORDER BY start_t DESC')
      .get() as { start_t: number; start_i: number };
    expect(plan(`${afterGap.start_t}:${afterGap.start_i}`)).toMatchObject({
      ok: false,
      reason: 'NO_SNAPSHOT',
    });
    await fx.snapshot(ts(afterGap.start_t, afterGap.start_i), ts(afterGap.start_t, afterGap.start_i + 1));
    expect(plan('latest')).toMatchObject({ ok: true });
    expect(plan(`${afterGap.start_t + 1000}:1`)).toMatchObject({ ok: false, reason: 'IN_FUTURE' });
  });

  it('treats a wall-clock second as inclusive of every entry in it', async () => {
    const { fx } = await timeline();
    await fx.snapshot(ts(T0, 1), ts(T0, 1));
    const p = plan(new Date((T0 + 2) * 1000).toISOString().replace('.000Z', 'Z'));
    expect(p.ok && p.bound).toEqual(ts(T0 + 2, 0xffffffff));
    // The newest second (after the gap, so it needs a snapshot there): covered up to its last captured entry.
    const afterGap = fx.engine.catalog
      .prepare('SELECT start_t, start_i FROM coverage_intervals ORDER BY start_t DESC')
      .get() as { start_t: number; start_i: number };
    await fx.snapshot(ts(afterGap.start_t, afterGap.start_i), ts(afterGap.start_t, afterGap.start_i));
    const end = fx.store.chainTip(fx.sourceId)!;
    const q = plan(new Date(end.t * 1000).toISOString().replace('.000Z', 'Z'));
    expect(q.ok && q.bound).toEqual(end);
  });

  it('distinguishes equal seconds with different increments', async () => {
    const { fx } = await timeline();
    await fx.snapshot(ts(T0 + 1, 4), ts(T0 + 1, 6));
    expect(plan(`${T0 + 1}:5`)).toMatchObject({ ok: false, reason: 'NO_SNAPSHOT' });
    expect(plan(`${T0 + 1}:6`)).toMatchObject({ ok: true });
  });

  it('never plans across a corrupt segment, and says NO_COVERAGE before any capture', async () => {
    const { fx } = await timeline();
    await fx.snapshot(ts(T0, 1), ts(T0, 2));
    const second = fx.engine.catalog
      .prepare('SELECT path FROM oplog_segments ORDER BY first_t LIMIT 1 OFFSET 1')
      .pluck()
      .get() as string;
    setSegmentStatus(fx.engine.catalog, second, 'corrupt');
    recomputeCoverage(fx.engine.catalog, fx.sourceId);
    expect(plan(`${T0 + 5}:1`)).toMatchObject({ ok: false, reason: 'NO_SNAPSHOT' });
    expect(plan(`${T0 + 2}:5`)).toMatchObject({ ok: false, reason: 'IN_GAP' });
    const other = await fx.store.ensureSource('empty-rs');
    expect(planRestore(fx.engine.catalog, other, { kind: 'latest' })).toMatchObject({
      ok: false,
      reason: 'NO_COVERAGE',
    });
  });

  it('answers through the API with restorable true/false', async () => {
    const { fx } = await timeline();
    await fx.snapshot(ts(T0, 1), ts(T0, 2));
    const yes = await dispatch(fx.engine, 'restore.plan', { source: 'prod-rs', at: `${T0 + 1}:1` });
    expect(yes).toMatchObject({
      ok: true,
      result: { restorable: true, snapshot: { consistentTs: { text: `${T0}:2` } } },
    });
    const no = await dispatch(fx.engine, 'restore.plan', { source: 'prod-rs', at: `${T0 - 100}:1` });
    expect(no).toMatchObject({ ok: true, result: { restorable: false, reason: 'BEFORE_WINDOW' } });
    const bad = await dispatch(fx.engine, 'restore.plan', { source: 'prod-rs', at: 'soon' });
    expect(bad).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT' } });
    const unknown = await dispatch(fx.engine, 'restore.plan', { source: 'nope', at: 'latest' });
    expect(unknown).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
  });
});
