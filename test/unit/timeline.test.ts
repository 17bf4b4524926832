import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import type { CommandOutput } from '../../engine/api/contract.js';
import { dispatch } from '../../engine/api/dispatch.js';
import { recomputeCoverage } from '../../engine/catalog/coverage.js';
import Database from 'better-sqlite3';
import { migrate, type CatalogDb } from '../../engine/catalog/open-catalog.js';
import { insertSegment, type SegmentStatus } from '../../engine/catalog/segments.js';
import { insertCompleteSnapshot } from '../../engine/catalog/snapshots.js';
import { upsertRepository, upsertSource } from '../../engine/catalog/sources.js';
import { compareOpTime, type OpTime } from '../../engine/repo/optime.js';
import type { RepositoryConfig } from '../../engine/repo/repository.js';
import type { SnapshotManifest } from '../../engine/repo/snapshot-files.js';
import { buildTimeline, SNAPSHOT_FLAG } from '../../engine/timeline/timeline.js';
import { makeStore, type StoreFixture } from '../support/store-fixture.js';

/**
 * The timeline aggregation is held against a brute-force count made second by
 * second from every segment and snapshot, with continuity and restorability
 * taken from DESIGN.md's rules (chained segments; a snapshot restores from its
 * consistentTs while the oplog is continuous from its startTs), not from the
 * catalog's stored intervals.
 */

interface SegSpec {
  gapBefore: number;
  length: number;
  chained: boolean;
  status: SegmentStatus;
}
interface Seg {
  first: OpTime;
  last: OpTime;
  prev: OpTime | null;
  status: SegmentStatus;
}
interface Snap {
  id: string;
  start: OpTime;
  consistent: OpTime;
  tiers: string[];
}

const segArb = fc.array(
  fc.record({
    gapBefore: fc.integer({ min: 1, max: 30 }),
    length: fc.integer({ min: 0, max: 40 }),
    chained: fc.boolean(),
    status: fc.constantFrom<SegmentStatus>('ok', 'ok', 'ok', 'ok', 'missing', 'corrupt'),
  }),
  { maxLength: 25 },
);
const snapArb = fc.array(
  fc.record({
    start: fc.integer({ min: 990, max: 1500 }),
    startI: fc.integer({ min: 1, max: 9 }),
    after: fc.integer({ min: 0, max: 30 }),
    consistentI: fc.integer({ min: 1, max: 9 }),
    tiers: fc.subarray(['hourly', 'daily', 'weekly', 'monthly']),
  }),
  { maxLength: 12 },
);
const rangeArb = fc.record({
  from: fc.integer({ min: 950, max: 1500 }),
  length: fc.integer({ min: 1, max: 700 }),
  width: fc.integer({ min: 1, max: 80 }),
});

function buildSegs(spec: SegSpec[]): Seg[] {
  let t = 1000;
  let prevLast: OpTime | null = null;
  return spec.map((s, k) => {
    const first = { t: t + s.gapBefore, i: 1 };
    const last = { t: first.t + s.length, i: 7 };
    t = last.t;
    const prev = k > 0 && s.chained ? prevLast : null;
    prevLast = last;
    return { first, last, prev, status: s.status };
  });
}

/** Runs of healthy segments, each chained to the one before (DESIGN.md rule 3). */
function runsOf(segs: Seg[]): { first: OpTime; last: OpTime }[] {
  const runs: { first: OpTime; last: OpTime }[] = [];
  let open: { first: OpTime; last: OpTime } | null = null;
  let prevSeg: Seg | null = null;
  for (const s of segs) {
    const chained =
      open !== null &&
      prevSeg !== null &&
      prevSeg.status === 'ok' &&
      s.prev !== null &&
      compareOpTime(s.prev, prevSeg.last) === 0;
    if (s.status !== 'ok') {
      if (open) runs.push(open);
      open = null;
    } else if (chained && open) {
      open.last = s.last;
    } else {
      if (open) runs.push(open);
      open = { first: s.first, last: s.last };
    }
    prevSeg = s;
  }
  if (open) runs.push(open);
  return runs;
}

function catalogWith(segs: Seg[], snaps: Snap[]): { db: CatalogDb; done: () => void } {
  // In memory: the aggregation reads the same schema, and 150 runs stay fast. (Opened directly: openCatalog
  // would give a file named ":memory:" owner-only permissions.)
  const db = new Database(':memory:');
  migrate(db);
  upsertRepository(db, '/nowhere/repo', {
    repositoryId: 'r',
    formatVersion: 1,
    compression: { algorithm: 'zstd', level: 3 },
    encryption: null,
    createdAt: new Date(0).toISOString(),
  } as unknown as RepositoryConfig);
  upsertSource(db, { id: 's', name: 'rs', repositoryId: 'r', createdAt: new Date(0).toISOString() });
  segs.forEach((s, k) =>
    insertSegment(
      db,
      {
        sourceId: 's',
        path: `seg${k}`,
        firstTs: s.first,
        lastTs: s.last,
        prevLastTs: s.prev,
        count: 1,
        rawBytes: 1,
        storedBytes: 1,
        payloadSha256: '',
        createdAt: '',
      } as Parameters<typeof insertSegment>[1],
      s.status,
    ),
  );
  recomputeCoverage(db, 's');
  for (const x of snaps) {
    insertCompleteSnapshot(db, `snap/${x.id}`, {
      type: 'snapshot-manifest',
      formatVersion: 1,
      sourceId: 's',
      snapshotId: x.id,
      startTs: x.start,
      consistentTs: x.consistent,
      startedAt: '',
      completedAt: '',
      serverVersion: null,
      namespaces: [],
      users: null,
      roles: null,
      totals: { count: 0, rawBytes: 0, storedBytes: 0 },
      tiers: x.tiers,
    } satisfies SnapshotManifest);
  }
  return {
    db,
    done: () => db.close(),
  };
}

/** Fraction of each bucket whose seconds satisfy `has`, counted second by second. */
function bruteFractions(has: (s: number) => boolean, from: number, to: number, width: number): number[] {
  const w = (to - from) / width;
  return Array.from({ length: width }, (_, k) => {
    const lo = from + k * w;
    const hi = lo + w;
    let sum = 0;
    for (let s = Math.floor(lo); s < Math.ceil(hi); s++)
      if (has(s)) sum += Math.max(0, Math.min(hi, s + 1) - Math.max(lo, s));
    return sum / w;
  });
}

describe('timeline aggregation', () => {
  it('equals a second-by-second count from all segments and snapshots (property)', () => {
    fc.assert(
      fc.property(segArb, snapArb, rangeArb, (segSpec, snapSpec, range) => {
        const segs = buildSegs(segSpec);
        const snaps: Snap[] = snapSpec.map((x, k) => ({
          id: `snap${String(k).padStart(2, '0')}`,
          start: { t: x.start, i: x.startI },
          consistent: { t: x.start + x.after, i: x.consistentI },
          tiers: x.tiers,
        }));
        const { from, width } = range;
        const to = from + range.length;
        const { db, done } = catalogWith(segs, snaps);
        try {
          const tl = buildTimeline(db, 's', {
            fromT: from,
            toT: to,
            width,
            now: new Date(),
            pitrWindowHours: 1,
            maxMarkers: 1000,
          });
          const runs = runsOf(segs);
          const covered = (s: number) => runs.some((r) => r.first.t <= s && s <= r.last.t);
          const restorable = (s: number) =>
            // Without any oplog, a source's snapshots are its restore points.
            (segs.length === 0 && snaps.some((x) => x.consistent.t === s)) ||
            runs.some((r) =>
              snaps.some(
                (x) =>
                  compareOpTime(r.first, x.start) <= 0 &&
                  compareOpTime(x.start, r.last) <= 0 &&
                  compareOpTime(x.consistent, r.last) <= 0 &&
                  x.consistent.t <= s &&
                  s <= r.last.t,
              ),
            );
          const wantCovered = bruteFractions(covered, from, to, width);
          const wantRestorable = bruteFractions(restorable, from, to, width);
          for (let k = 0; k < width; k++) {
            expect(Math.abs(tl.covered[k]! - wantCovered[k]!), `covered[${k}]`).toBeLessThan(1e-4);
            expect(Math.abs(tl.restorable[k]! - wantRestorable[k]!), `restorable[${k}]`).toBeLessThan(1e-4);
          }
          // Snapshots land in the bucket of their consistent second.
          const wantCounts = new Array<number>(width).fill(0);
          const wantFlags = new Array<number>(width).fill(0);
          const inRange = snaps.filter((x) => x.consistent.t >= from && x.consistent.t < to);
          for (const x of inRange) {
            const k = Math.floor(((x.consistent.t - from) * width) / (to - from));
            wantCounts[k]!++;
            wantFlags[k]! |=
              x.tiers.length === 0
                ? SNAPSHOT_FLAG.onDemand
                : x.tiers.reduce((m, t) => m | SNAPSHOT_FLAG[t as 'hourly'], 0);
          }
          expect(tl.snapshots).toEqual(wantCounts);
          expect(tl.snapshotFlags).toEqual(wantFlags);
          const byPoint = (a: Snap, b: Snap) =>
            compareOpTime(a.consistent, b.consistent) || (a.id < b.id ? -1 : 1);
          expect(tl.markers?.map((m) => m.id)).toEqual(inRange.sort(byPoint).map((x) => x.id));
          // Gaps: between consecutive runs, when the gap reaches into the range.
          const wantGaps = runs
            .slice(1)
            .map((r, k) => ({ after: runs[k]!.last, before: r.first }))
            .filter((g) => g.after.t < to && g.before.t >= from);
          expect(tl.gaps.map((g) => ({ after: g.after, before: g.before }))).toEqual(wantGaps);
          expect(tl.liveEdge).toEqual(runs.length ? runs[runs.length - 1]!.last : null);
          expect(tl.snapshotOnly).toBe(segs.length === 0);
        } finally {
          done();
        }
      }),
      { numRuns: 150 },
    );
  });

  it('a source without oplog: its snapshots are its only restorable seconds', () => {
    const snaps: Snap[] = [
      { id: 'a', start: { t: 1010, i: 1 }, consistent: { t: 1010, i: 1 }, tiers: ['daily'] },
      { id: 'b', start: { t: 1055, i: 1 }, consistent: { t: 1055, i: 1 }, tiers: [] },
    ];
    const { db, done } = catalogWith([], snaps);
    try {
      const tl = buildTimeline(db, 's', {
        fromT: 1000,
        toT: 1100,
        width: 100,
        now: new Date(),
        pitrWindowHours: 1,
        maxMarkers: 10,
      });
      expect(tl.snapshotOnly).toBe(true);
      expect(tl.covered.every((c) => c === 0)).toBe(true);
      expect(tl.restorable.flatMap((r, k) => (r > 0 ? [k] : []))).toEqual([10, 55]);
      expect(tl.snapshotFlags[10]).toBe(SNAPSHOT_FLAG.daily);
      expect(tl.snapshotFlags[55]).toBe(SNAPSHOT_FLAG.onDemand);
      expect(tl.liveEdge).toBeNull();
    } finally {
      done();
    }
  });

  it('drops individual markers when the range holds more snapshots than fit', () => {
    const snaps: Snap[] = Array.from({ length: 30 }, (_, k) => ({
      id: `s${k}`,
      start: { t: 1000 + k, i: 1 },
      consistent: { t: 1000 + k, i: 2 },
      tiers: ['hourly'],
    }));
    const { db, done } = catalogWith([], snaps);
    try {
      const tl = buildTimeline(db, 's', {
        fromT: 1000,
        toT: 1030,
        width: 3,
        now: new Date(),
        pitrWindowHours: null,
        maxMarkers: 29,
      });
      expect(tl.markers).toBeNull();
      expect(tl.snapshots).toEqual([10, 10, 10]);
    } finally {
      done();
    }
  });
});

describe('timeline.get through the API', () => {
  let fx: StoreFixture | null = null;
  afterEach(async () => {
    await fx?.close();
    fx = null;
  });

  it('answers for a real repository: coverage, a gap, a locked snapshot, the live edge and the PITR edge', async () => {
    fx = await makeStore({ perSecond: 10 });
    await fx.appendSegments(3, 20); // 6 s of oplog
    fx.factory.skipSeconds(100);
    await fx.store.appendSegment(fx.sourceId, fx.factory.mixed(20), null); // a new chain: a gap
    const T0 = 1_763_805_600;
    const snap = await fx.snapshot({ t: T0, i: 2 }, { t: T0 + 2, i: 1 });
    await fx.store.lock('snapshot', snap, new Date(Date.now() + 86_400_000), 'audit', 'test');
    const res = await dispatch(fx.engine, 'timeline.get', {
      source: 'prod-rs',
      from: new Date((T0 - 10) * 1000).toISOString(),
      to: new Date((T0 + 190) * 1000).toISOString(),
      width: 200,
    });
    if (!res.ok) throw new Error(res.error.message);
    const tl = res.result as CommandOutput<'timeline.get'>;
    expect(tl.bucketSeconds).toBe(1);
    expect(tl.covered[10]).toBe(1); // T0
    expect(tl.covered[5]).toBe(0); // before the first entry
    expect(tl.restorable[10]).toBe(0); // before the snapshot's consistent point
    expect(tl.restorable[12]).toBe(1); // T0+2, the consistent second
    expect(tl.covered[50]).toBe(0); // inside the gap
    expect(tl.gaps).toHaveLength(1);
    expect(tl.gaps[0]!.reason).toBe('chain-break');
    expect(tl.snapshots[12]).toBe(1);
    expect(tl.snapshotFlags[12]).toBe(SNAPSHOT_FLAG.onDemand | SNAPSHOT_FLAG.locked);
    expect(tl.markers?.map((m) => m.id)).toEqual([snap]);
    expect(tl.liveEdge).not.toBeNull();
    // The default policy's PITR window (72 h) counted back from the live edge.
    expect(Date.parse(tl.pitrWindowStart!)).toBe((tl.liveEdge!.t - 72 * 3600) * 1000);
  });

  it('refuses a range that ends before it starts, an unknown source and an over-wide request', async () => {
    fx = await makeStore();
    const bad = async (input: Record<string, unknown>) => {
      const r = await dispatch(fx!.engine, 'timeline.get', {
        source: 'prod-rs',
        from: '2026-01-01T00:00:00Z',
        to: '2026-01-02T00:00:00Z',
        width: 100,
        ...input,
      } as never);
      return r.ok ? 'ok' : r.error.code;
    };
    expect(await bad({ to: '2025-12-31T00:00:00Z' })).toBe('INVALID_INPUT');
    expect(await bad({ from: 'yesterday' })).toBe('INVALID_INPUT');
    expect(await bad({ from: '2026-01-01T00:00:00' })).toBe('INVALID_INPUT'); // no zone
    expect(await bad({ width: 100_000 })).toBe('INVALID_INPUT');
    expect(await bad({ source: 'nope' })).toBe('NOT_FOUND');
    expect(await bad({})).toBe('ok');
  });
});
