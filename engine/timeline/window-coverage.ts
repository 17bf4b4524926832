/**
 * How much of a time window (the PITR window on the dashboard) is covered by
 * captured oplog and how much can be restored, to the second. The timeline's
 * fractions are rounded for drawing (a few seconds on a 72 h bucket), so the
 * seconds are summed here from the same coverage intervals; the gaps come
 * from the timeline itself.
 */
import type { CoverageGap } from '../catalog/coverage.js';
import type { CatalogDb } from '../catalog/open-catalog.js';
import { earliestRestorableIn, intervalsTouching } from '../catalog/timeline.js';
import { mergeSpans, type Span } from './bucket-fractions.js';
import { buildTimeline } from './timeline.js';

export interface WindowCoverage {
  coveredSeconds: number;
  restorableSeconds: number;
  /** Gaps that reach into the window, and the seconds of the window inside them. */
  gaps: CoverageGap[];
  gapSeconds: number;
  snapshotOnly: boolean;
}

const clipped = (spans: readonly Span[], fromT: number, toT: number) =>
  spans.reduce((n, s) => n + Math.max(0, Math.min(s.to, toT) - Math.max(s.from, fromT)), 0);

export function windowCoverage(
  db: CatalogDb,
  sourceId: string,
  fromT: number,
  toT: number,
  now: Date,
): WindowCoverage {
  const touching = intervalsTouching(db, sourceId, fromT, toT);
  // Restoring to second S replays ts.t <= S: an interval [start, end] covers the seconds start..end.
  const covered = touching.map((iv) => ({ from: iv.start.t, to: iv.end.t + 1 }));
  const restorable: Span[] = [];
  for (const iv of touching) {
    const from = earliestRestorableIn(db, sourceId, iv);
    if (from) restorable.push({ from: from.t, to: iv.end.t + 1 });
  }
  const tl = buildTimeline(db, sourceId, { fromT, toT, width: 1, now, pitrWindowHours: null, maxMarkers: 0 });
  const gapSpans = tl.gaps.map((g) => ({ from: g.after.t + 1, to: g.before.t }));
  return {
    coveredSeconds: clipped(covered, fromT, toT),
    restorableSeconds: clipped(mergeSpans(restorable), fromT, toT),
    gaps: tl.gaps,
    gapSeconds: clipped(gapSpans, fromT, toT),
    snapshotOnly: tl.snapshotOnly,
  };
}
