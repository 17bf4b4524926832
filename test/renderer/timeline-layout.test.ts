import { describe, expect, it } from 'vitest';
import {
  coversView,
  gapsOf,
  layersFor,
  markersOf,
  primaryLayer,
  runsOf,
  totalsOf,
  type CachedTimeline,
  type TimelineData,
} from '../../renderer/src/features/timeline/layout';
import { nearestRestorable } from '../../renderer/src/features/timeline/nearest';
import {
  estimateSeconds,
  measuredRate,
  type RestoreView,
} from '../../renderer/src/features/timeline/restore-estimate';
import { fetchRange, retentionSeconds } from '../../renderer/src/features/timeline/timeline-store';
import { incidentFlags } from '../../renderer/src/features/timeline/incident-flags';
import { buildLanes, flagNear, inPlaceFlags } from '../../renderer/src/features/timeline/lanes';

const T0 = 1_795_000_000;
const op = (t: number) => ({ t, i: 1, text: `${t}:1`, wall: new Date(t * 1000).toISOString() });

function answer(from: number, to: number, width: number, over: Partial<TimelineData> = {}): CachedTimeline {
  const z = () => new Array<number>(width).fill(0);
  return {
    from,
    to,
    data: {
      source: 'prod-rs',
      from: new Date(from * 1000).toISOString(),
      to: new Date(to * 1000).toISOString(),
      width,
      bucketSeconds: (to - from) / width,
      covered: z(),
      restorable: z(),
      snapshots: z(),
      snapshotFlags: z(),
      gaps: [],
      markers: null,
      liveEdge: null,
      pitrWindowStart: null,
      snapshotOnly: false,
      incidentCounts: z(),
      incidents: [],
      ...over,
    },
  };
}

describe('timeline layout from cached buckets', () => {
  it('merges buckets of equal share into runs, in pixels of the current view', () => {
    const covered = [1, 1, 1, 0, 0.5, 0.5, 1, 1, 0, 0];
    const layer = answer(T0, T0 + 100, 10, { covered });
    const runs = runsOf(layer, covered, { from: T0, to: T0 + 100 }, 1000);
    expect(runs).toEqual([
      { x0: 0, x1: 300, value: 1 },
      { x0: 400, x1: 600, value: 0.5 },
      { x0: 600, x1: 800, value: 1 },
    ]);
    // A coarser answer drawn in a zoomed view is stretched and clipped to the width.
    const zoomed = runsOf(layer, covered, { from: T0 + 25, to: T0 + 35 }, 1000);
    expect(zoomed).toEqual([{ x0: 0, x1: 500, value: 1 }]);
  });

  it('draws the finest answer over the coarse backdrop, and knows when the view needs a fetch', () => {
    const overview = { ...answer(T0 - 1e6, T0 + 1e6, 100), overview: true };
    const fine = answer(T0, T0 + 600, 600);
    const view = { from: T0 + 100, to: T0 + 400 };
    expect(layersFor([fine, overview], view)).toEqual([overview, fine]);
    expect(primaryLayer([overview, fine], view)).toBe(fine);
    expect(coversView([overview, fine], view, 300)).toBe(true);
    expect(coversView([overview, fine], view, 3000)).toBe(false); // finer than one bucket per pixel
    expect(coversView([overview, fine], { from: T0 + 500, to: T0 + 700 }, 200)).toBe(false); // runs past it
    expect(coversView([overview, { ...fine, stale: true }], view, 300)).toBe(false); // the live edge moved
    expect(primaryLayer([overview, fine], { from: T0 + 500, to: T0 + 700 })).toBe(overview);
  });

  it('shows the current answer, not a stale one of the same resolution that still covers the view', () => {
    const overview = { ...answer(T0 - 1e6, T0 + 1e6, 100), overview: true };
    // Fetched before the first segment and snapshot, then outgrown by the live edge (stale).
    const before = { ...answer(T0, T0 + 255, 2890, { snapshotOnly: true }), stale: true };
    // Fetched after: the same span shifted by one grid step, so neither contains the other.
    const after = answer(T0 + 15, T0 + 255, 2720, {
      liveEdge: op(T0 + 200),
      covered: new Array<number>(2720).fill(1),
      snapshots: new Array<number>(2720).fill(0).map((_, i) => (i === 100 ? 1 : 0)),
    });
    const view = { from: T0 + 60, to: T0 + 180 };
    expect(before.data.bucketSeconds).toBeLessThanOrEqual(after.data.bucketSeconds); // as fine: the old rule kept it
    expect(primaryLayer([overview, before, after], view)).toBe(after);
    expect(layersFor([overview, before, after], view)).toEqual([overview, before, after]); // painted last
    // Two current answers alike: the newer one.
    const later = answer(T0 + 30, T0 + 270, 2720);
    expect(primaryLayer([overview, after, later], view)).toBe(later);
    // A much finer stale answer still beats the coarse backdrop while its replacement is in flight.
    expect(primaryLayer([overview, before], view)).toBe(before);
    expect(primaryLayer([overview], view)).toBe(overview);
  });

  it('places one marker per listed snapshot with its highest tier, and bucket markers otherwise', () => {
    const listed = answer(T0, T0 + 100, 10, {
      markers: [
        {
          id: 's1',
          consistentTs: op(T0 + 10),
          tiers: ['hourly', 'daily'],
          lockedUntil: null,
          documents: 5,
          storedBytes: 1,
        },
        {
          id: 's2',
          consistentTs: op(T0 + 50),
          tiers: [],
          lockedUntil: new Date((T0 + 1e6) * 1000).toISOString(),
          documents: 5,
          storedBytes: 1,
        },
        {
          id: 's3',
          consistentTs: op(T0 + 500),
          tiers: ['monthly'],
          lockedUntil: null,
          documents: 5,
          storedBytes: 1,
        },
      ],
    });
    const view = { from: T0, to: T0 + 100 };
    const m = markersOf(listed, view, 100, { imported: false, nowMs: T0 * 1000 });
    expect(m.map((x) => [x.id, x.kind, x.locked, Math.round(x.x)])).toEqual([
      ['s1', 'daily', false, 11],
      ['s2', 'on demand', true, 51],
    ]);
    expect(markersOf(listed, view, 100, { imported: true, nowMs: T0 * 1000 })[1]!.kind).toBe('imported');
    // A lock that ran out no longer counts.
    expect(markersOf(listed, view, 100, { imported: false, nowMs: (T0 + 2e6) * 1000 })[1]!.locked).toBe(
      false,
    );

    const bucketed = answer(T0, T0 + 100, 4, {
      snapshots: [0, 3, 0, 1],
      snapshotFlags: [0, 1 | 4 | 32, 0, 8],
    });
    const b = markersOf(bucketed, view, 100, { imported: false, nowMs: 0 });
    expect(b.map((x) => [x.kind, x.count, x.locked, x.x])).toEqual([
      ['weekly', 3, true, 37.5],
      ['monthly', 1, false, 87.5],
    ]);
  });

  it('keeps short gaps visible, says their cause, and adds up the view for the description', () => {
    const layer = answer(T0, T0 + 1000, 10, {
      covered: [1, 1, 1, 1, 1, 0.5, 1, 1, 1, 1],
      restorable: [0, 0, 1, 1, 1, 0.5, 0, 0, 1, 1],
      gaps: [{ after: op(T0 + 549), before: op(T0 + 551), seconds: 2, reason: 'chain-break' }],
      snapshots: [0, 0, 1, 0, 0, 0, 0, 0, 2, 0],
      snapshotFlags: [0, 0, 2, 0, 0, 0, 0, 0, 1, 0],
    });
    const [g] = gapsOf(layer, { from: T0, to: T0 + 1000 }, 100);
    expect(g!.x1 - g!.x0).toBe(2); // one second is a tenth of a pixel: drawn 2 px wide
    expect(g!.cause).toBe('oplog rolled over (capture stopped or fell behind)');
    expect([g!.from, g!.to]).toEqual([T0 + 550, T0 + 551]);
    const t = totalsOf(layer, { from: T0, to: T0 + 1000 }, 100, { imported: false, nowMs: 0 });
    expect(t.coveredShare).toBeCloseTo(0.95, 6);
    expect(t.restorableShare).toBeCloseTo(0.55, 6);
    expect(t.snapshots).toBe(3);
    expect(t.byKind).toEqual({ daily: 1, hourly: 2 });
    expect(t.gaps).toHaveLength(1);
  });

  it('fetches the view with half a view of margin on each side, about one bucket per pixel, on a grid', () => {
    const r = fetchRange({ from: T0 + 0.4, to: T0 + 3600.4 }, 1000);
    expect(r.to - r.from).toBeGreaterThanOrEqual(2 * 3600);
    expect(r.to - r.from).toBeLessThanOrEqual(2.5 * 3600);
    expect(r.from).toBeLessThanOrEqual(T0 - 1800);
    expect(r.width).toBeLessThanOrEqual(8192);
    expect((r.to - r.from) / r.width).toBeLessThanOrEqual(3.6 * 1.01);
    // The first view is asked for exactly (no margin): the first paint waits for it.
    const exact = fetchRange({ from: T0, to: T0 + 3600 }, 1000, 0);
    expect(exact.from).toBeLessThanOrEqual(T0);
    expect(exact.from).toBeGreaterThan(T0 - 450); // an eighth of the span: the grid
    expect(exact.to).toBeGreaterThanOrEqual(T0 + 3600);
    expect(exact.to).toBeLessThan(T0 + 3600 + 450);
    expect(exact.width).toBe(Math.round((exact.to - exact.from) / 3.6));
    // A small pan asks for the same range (cache and in-flight requests are reused).
    expect(fetchRange({ from: T0 + 30, to: T0 + 3630 }, 1000)).toEqual(r);
    // Wide canvases shrink the margin so the buckets stay within timeline.get's 8192.
    expect(fetchRange({ from: T0, to: T0 + 60 }, 4000).width).toBeLessThanOrEqual(8192);
  });

  it('counts the retention horizon from the longest-kept tier', () => {
    const policy = {
      hourly: { everyHours: 1, keepDays: 2 },
      daily: { at: '03:00', keepDays: 7 },
      weekly: null,
      monthly: { day: 1, at: '03:00', keepMonths: 12 },
      onDemandKeepDays: 30,
      pitrWindowHours: 72,
      segmentSeconds: 10,
      segmentMaxMB: 16,
      rpoObjectiveSeconds: 60,
      oplogWindowAlertHours: 24,
      diskAlertPercent: 90,
      preset: 'default' as const,
      restoreTest: null,
    };
    expect(retentionSeconds(policy)).toBe(12 * 31 * 86_400);
    expect(retentionSeconds({ ...policy, monthly: null })).toBe(30 * 86_400);
  });
});

describe('the nearest restorable second', () => {
  /** timeline.get computed by brute force from restorable intervals [a, b). */
  const engine = (intervals: [number, number][]) => {
    let calls = 0;
    const get = async (from: number, to: number, width: number): Promise<TimelineData> => {
      calls++;
      const bs = (to - from) / width;
      const restorable = Array.from({ length: width }, (_, i) => {
        const b0 = from + i * bs;
        const b1 = b0 + bs;
        let s = 0;
        for (const [a, b] of intervals) s += Math.max(0, Math.min(b, b1) - Math.max(a, b0));
        return s / bs;
      });
      return { ...answer(from, to, width).data, restorable };
    };
    return { get, calls: () => calls };
  };

  it('finds the last restorable second before and the first after, in a few calls', async () => {
    const year = 366 * 86_400;
    for (let k = 0; k < 40; k++) {
      const a = T0 + Math.floor(Math.random() * year);
      const b = a + 1 + Math.floor(Math.random() * 5000);
      const c = b + 1 + Math.floor(Math.random() * 86_400 * 30);
      const d = c + 1 + Math.floor(Math.random() * 100);
      const intervals: [number, number][] = [
        [a, b],
        [c, d],
      ];
      const t = b + Math.floor(Math.random() * (c - b)); // in the gap between them
      const e = engine(intervals);
      const bounds = { from: T0 - year, to: T0 + 2 * year };
      expect(await nearestRestorable(e.get, t, 'before', bounds)).toBe(t >= b ? b - 1 : null);
      expect(await nearestRestorable(e.get, t, 'after', bounds)).toBe(Math.max(c, t + 1));
      expect(e.calls()).toBeLessThanOrEqual(10);
    }
  });

  it('says none when nothing is restorable that way', async () => {
    const e = engine([[T0 + 100, T0 + 200]]);
    expect(await nearestRestorable(e.get, T0 + 50, 'before', { from: T0 - 1000, to: T0 + 1000 })).toBeNull();
    expect(await nearestRestorable(e.get, T0 + 250, 'after', { from: T0 - 1000, to: T0 + 1000 })).toBeNull();
    expect(await nearestRestorable(e.get, T0 + 250, 'before', { from: T0 - 1000, to: T0 + 1000 })).toBe(
      T0 + 199,
    );
  });
});

describe('the restore time estimate', () => {
  const restore = (over: Partial<RestoreView>): RestoreView => ({
    id: 'r1',
    source: 'prod-rs',
    point: '2026-11-23T11:00:00Z',
    kind: 'new-target',
    state: 'succeeded',
    startedAt: '2026-11-23T11:00:00Z',
    finishedAt: '2026-11-23T11:01:00Z',
    actor: null,
    target: null,
    options: {},
    report: {
      namespaces: [{ documents: 60_000 }, { documents: 40_000 }],
      oplog: { entries: 5_000 },
      phases: [
        { name: 'checking the target', ms: 500, engineCpuMs: 1 },
        { name: 'copying documents', ms: 8_000, engineCpuMs: 1 },
        { name: 'building indexes', ms: 2_000, engineCpuMs: 1 },
        { name: 'replaying the oplog', ms: 1_000, engineCpuMs: 1 },
        { name: 'removing the incomplete marker', ms: 500, engineCpuMs: 1 },
      ],
    },
    error: null,
    markerLeft: false,
    ...over,
  });

  it('uses the newest measured restore of the source: copy and replay rates apart, the rest fixed', () => {
    const rate = measuredRate(
      [
        restore({ id: 'old', finishedAt: '2026-11-01T00:00:00Z' }),
        restore({ id: 'failed', state: 'failed', finishedAt: '2026-11-30T00:00:00Z' }),
        restore({ id: 'r1' }),
        restore({ id: 'other-source', source: 'reporting', finishedAt: '2026-11-29T00:00:00Z' }),
      ],
      'prod-rs',
    )!;
    expect(rate.restoreId).toBe('r1');
    expect(rate.docsPerSecond).toBe(10_000);
    expect(rate.entriesPerSecond).toBe(5_000);
    expect(rate.fixedSeconds).toBe(1);
    expect(estimateSeconds(rate, 50_000, 10_000)).toBe(1 + 5 + 2);
  });

  it('falls back to another source, and to nothing when no restore was measured', () => {
    expect(measuredRate([restore({ source: 'reporting' })], 'prod-rs')?.restoreId).toBe('r1');
    expect(measuredRate([restore({ report: null })], 'prod-rs')).toBeNull();
    expect(measuredRate([], 'prod-rs')).toBeNull();
    // A restore that replayed nothing lends its copy rate to the replay.
    const r = measuredRate(
      [
        restore({
          report: {
            namespaces: [{ documents: 1000 }],
            oplog: { entries: 0 },
            phases: [{ name: 'copying documents', ms: 1000 }],
          },
        }),
      ],
      'prod-rs',
    )!;
    expect(r.entriesPerSecond).toBeNull();
    expect(estimateSeconds(r, 1000, 500)).toBe(1.5);
  });
});

describe('lanes and their flags', () => {
  it('marks in-place restores that ran (not failed ones) and finds the flag under a click', () => {
    const base = {
      point: 'latest',
      finishedAt: null,
      actor: null,
      target: null,
      options: {},
      report: null,
      error: null,
      markerLeft: false,
    };
    const restores = [
      {
        ...base,
        id: 'a',
        source: 'prod-rs',
        kind: 'in-place',
        state: 'succeeded' as const,
        startedAt: new Date(T0 * 1000).toISOString(),
      },
      {
        ...base,
        id: 'b',
        source: 'prod-rs',
        kind: 'in-place',
        state: 'failed' as const,
        startedAt: new Date((T0 + 9) * 1000).toISOString(),
      },
      {
        ...base,
        id: 'c',
        source: 'prod-rs',
        kind: 'new-target',
        state: 'succeeded' as const,
        startedAt: new Date(T0 * 1000).toISOString(),
      },
      {
        ...base,
        id: 'd',
        source: 'other',
        kind: 'in-place',
        state: 'succeeded' as const,
        startedAt: new Date(T0 * 1000).toISOString(),
      },
    ];
    const flags = inPlaceFlags(restores, 'prod-rs');
    expect(flags).toEqual([{ t: T0, kind: 'in-place restore', label: 'in-place restore to latest' }]);
    const incident = { t: T0 + 50, kind: 'incident' as const, label: 'dropDatabase shop', pickAt: T0 + 49 };
    const x = (t: number) => t - T0; // one pixel per second
    expect(flagNear([...flags, incident], 52, x)).toBe(incident);
    expect(flagNear([...flags, incident], 20, x)).toBeNull();
    // The live edge is the newest of what the answers and the statuses know.
    const lanes = buildLanes(
      [
        {
          name: 'prod-rs',
          imported: false,
          captureState: 'capturing',
          capturedT: T0 + 90,
          recoveryPointSeconds: 1,
        },
      ],
      { 'prod-rs': [answer(T0, T0 + 100, 10, { liveEdge: op(T0 + 80) })] },
      {},
      restores,
      () => [incident],
    );
    expect(lanes[0]!.liveEdge).toBe(T0 + 90);
    expect(lanes[0]!.flags).toEqual([...flags, incident]);
    expect(lanes[0]!.capturing).toBe(true);
  });
});

describe('incident flags from timeline answers', () => {
  const flag = (id: number, t: number, before: number | null) => ({
    id,
    kind: 'dropDatabase' as const,
    ns: 'shop',
    summary: `dropDatabase shop #${id}`,
    firstTs: op(t),
    restoreBefore: before === null ? null : { ...op(before), i: 7, text: `${before}:7` },
  });

  it('flags each finding once, in time order, and picks the exact point captured just before it', () => {
    const coarse = answer(T0, T0 + 3600, 10, {
      incidents: [flag(2, T0 + 50, T0 + 50), flag(1, T0 + 10, T0 + 9)],
    });
    const fine = answer(T0, T0 + 60, 60, { incidents: [flag(1, T0 + 10, T0 + 9)] });
    const flags = incidentFlags('prod-rs', [coarse, fine]);
    expect(flags.map((f) => [f.t, f.kind, f.pickAt, f.pickExact])).toEqual([
      [T0 + 10, 'incident', T0 + 9, `${T0 + 9}:7`],
      // Same second as the damage: only the exact t:i restores to before it.
      [T0 + 50, 'incident', T0 + 50, `${T0 + 50}:7`],
    ]);
  });

  it('has nothing to pick for an incident at the very first captured entry, and no flags when the engine sends none', () => {
    expect(
      incidentFlags('prod-rs', [answer(T0, T0 + 60, 60, { incidents: [flag(3, T0, null)] })])[0],
    ).toEqual({
      t: T0,
      kind: 'incident',
      label: 'dropDatabase shop #3',
    });
    expect(incidentFlags('prod-rs', [answer(T0, T0 + 60, 60, { incidents: null })])).toEqual([]);
  });
});
