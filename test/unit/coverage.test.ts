import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { deriveIntervals } from '../../engine/catalog/coverage.js';
import type { SegmentRow } from '../../engine/catalog/segments.js';
import { compareOpTime, type OpTime } from '../../engine/repo/optime.js';
import { makeStore } from '../support/store-fixture.js';
import { coverageAfterAppend, listCoverage, recomputeCoverage } from '../../engine/catalog/coverage.js';

/**
 * A model of the segment chain: a list of segments on one time line, each
 * either chained to its predecessor or not, and each ok/missing/corrupt.
 */
const chainArb = fc.array(
  fc.record({
    gapBefore: fc.integer({ min: 1, max: 5 }),
    length: fc.integer({ min: 0, max: 6 }),
    chained: fc.boolean(),
    status: fc.constantFrom('ok', 'ok', 'ok', 'ok', 'missing', 'corrupt'),
  }),
  { minLength: 0, maxLength: 40 },
);

function buildSegments(
  spec: { gapBefore: number; length: number; chained: boolean; status: string }[],
): SegmentRow[] {
  let t = 1000;
  let prevLast: OpTime | null = null;
  return spec.map((s, k) => {
    const first = { t: t + s.gapBefore, i: 1 };
    const last = { t: first.t + s.length, i: 7 };
    t = last.t;
    const prev = k > 0 && s.chained ? prevLast : null;
    prevLast = last;
    return {
      id: k + 1,
      source_id: 's',
      path: `p${k}`,
      status: s.status as SegmentRow['status'],
      first_t: first.t,
      first_i: first.i,
      last_t: last.t,
      last_i: last.i,
      prev_t: prev?.t ?? null,
      prev_i: prev?.i ?? null,
      entry_count: 1,
      raw_bytes: 1,
      stored_bytes: 1,
      payload_sha256: '',
      locked_until: null,
      created_at: '',
    };
  });
}

/** Reference: a point is covered when some run of consecutive healthy, chained segments spans it. */
function coveredByModel(segs: SegmentRow[], p: OpTime): boolean {
  for (let a = 0; a < segs.length; a++) {
    if (segs[a]!.status !== 'ok') continue;
    for (let b = a; b < segs.length; b++) {
      const s = segs[b]!;
      if (s.status !== 'ok') break;
      if (b > a && !(s.prev_t === segs[b - 1]!.last_t && s.prev_i === segs[b - 1]!.last_i)) break;
      const first = { t: segs[a]!.first_t, i: segs[a]!.first_i };
      const last = { t: s.last_t, i: s.last_i };
      if (compareOpTime(first, p) <= 0 && compareOpTime(p, last) <= 0) return true;
    }
  }
  return false;
}

describe('coverage', () => {
  it('derives intervals that cover exactly the points the chain model covers (property)', () => {
    fc.assert(
      fc.property(
        chainArb,
        fc.array(fc.integer({ min: 990, max: 1300 }), { maxLength: 30 }),
        (spec, probes) => {
          const segs = buildSegments(spec);
          const intervals = deriveIntervals(segs);
          // Intervals are ordered and disjoint.
          for (let k = 1; k < intervals.length; k++)
            expect(compareOpTime(intervals[k - 1]!.end, intervals[k]!.start)).toBeLessThan(0);
          for (const t of probes) {
            for (const i of [0, 1, 7, 8]) {
              const p = { t, i };
              const inInterval = intervals.some(
                (iv) => compareOpTime(iv.start, p) <= 0 && compareOpTime(p, iv.end) <= 0,
              );
              expect(inInterval).toBe(coveredByModel(segs, p));
            }
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('names why each gap exists', () => {
    const segs = buildSegments([
      { gapBefore: 1, length: 2, chained: false, status: 'ok' },
      { gapBefore: 1, length: 2, chained: true, status: 'ok' },
      { gapBefore: 1, length: 2, chained: true, status: 'corrupt' },
      { gapBefore: 1, length: 2, chained: true, status: 'ok' },
      { gapBefore: 1, length: 2, chained: false, status: 'ok' },
      { gapBefore: 1, length: 2, chained: true, status: 'missing' },
      { gapBefore: 1, length: 2, chained: true, status: 'ok' },
    ]);
    expect(deriveIntervals(segs).map((iv) => [iv.segmentCount, iv.breakReason])).toEqual([
      [2, 'start'],
      [1, 'corrupt'],
      [1, 'chain-break'],
      [1, 'missing'],
    ]);
  });

  it('incremental updates while appending equal a full recompute (property, through SQLite)', async () => {
    const fx = await makeStore();
    try {
      const db = fx.engine.catalog;
      await fc.assert(
        fc.asyncProperty(chainArb, async (spec) => {
          db.exec('DELETE FROM coverage_intervals; DELETE FROM oplog_segments;');
          const insert = db.prepare(
            `INSERT INTO oplog_segments (id, source_id, path, status, first_t, first_i, last_t, last_i, prev_t, prev_i,
               entry_count, raw_bytes, stored_bytes, payload_sha256, created_at)
             VALUES (@id, @source_id, @path, @status, @first_t, @first_i, @last_t, @last_i, @prev_t, @prev_i, 1, 1, 1, '', '')`,
          );
          for (const s of buildSegments(spec)) {
            const row = { ...s, source_id: fx.sourceId };
            db.transaction(() => {
              insert.run(row);
              coverageAfterAppend(db, row);
            })();
          }
          const incremental = listCoverage(db, fx.sourceId);
          const full = recomputeCoverage(db, fx.sourceId);
          expect(incremental.intervals.map((iv) => [iv.start, iv.end, iv.segmentCount])).toEqual(
            full.map((iv) => [iv.start, iv.end, iv.segmentCount]),
          );
        }),
        { numRuns: 60 },
      );
    } finally {
      await fx.close();
    }
  });
});
