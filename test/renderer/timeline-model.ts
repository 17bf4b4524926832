/**
 * A source's history as the component tests describe it (coverage intervals,
 * gaps, snapshots), answered as timeline.get would: per bucket the covered
 * and restorable shares, snapshots with their tiers, gaps in the range,
 * the live edge. Computed by brute force from the intervals, independently
 * of the renderer's layout code.
 */
import type { CommandInput, CommandOutput } from '../../engine/api/contract';

export interface ModelSnapshot {
  id: string;
  t: number;
  tiers: string[];
  lockedUntil?: string;
  documents?: number;
}

export interface SourceModel {
  /** Captured oplog, [start, end] seconds inclusive, oldest first. */
  intervals: [number, number][];
  gapReasons?: ('chain-break' | 'missing' | 'corrupt')[];
  snapshots: ModelSnapshot[];
  pitrWindowHours?: number;
}

export const op = (t: number) => ({ t, i: 1, text: `${t}:1`, wall: new Date(t * 1000).toISOString() });

/** Restorable seconds: from the first snapshot inside an interval to its end (or the snapshot itself without oplog). */
export function restorableSpans(m: SourceModel): [number, number][] {
  if (m.intervals.length === 0) return m.snapshots.map((s) => [s.t, s.t + 1]);
  const out: [number, number][] = [];
  for (const [a, b] of m.intervals) {
    const first = m.snapshots.filter((s) => s.t >= a && s.t <= b).sort((x, y) => x.t - y.t)[0];
    if (first) out.push([first.t, b + 1]);
  }
  return out;
}

const overlap = (spans: [number, number][], b0: number, b1: number) =>
  spans.reduce((n, [a, b]) => n + Math.max(0, Math.min(b, b1) - Math.max(a, b0)), 0);

export function timelineAnswer(source: string, m: SourceModel) {
  return async (input: CommandInput<'timeline.get'>): Promise<CommandOutput<'timeline.get'>> => {
    const from = Math.floor(Date.parse(input.from) / 1000);
    const to = Math.ceil(Date.parse(input.to) / 1000);
    const width = input.width;
    const bs = (to - from) / width;
    const covered = m.intervals.map(([a, b]) => [a, b + 1] as [number, number]);
    const restorable = restorableSpans(m);
    const buckets = Array.from({ length: width }, (_, i) => [from + i * bs, from + (i + 1) * bs] as const);
    const snaps = m.snapshots.filter((s) => s.t >= from && s.t < to);
    const live = m.intervals.at(-1)?.[1] ?? null;
    return {
      source,
      from: input.from,
      to: input.to,
      width,
      bucketSeconds: bs,
      covered: buckets.map(([b0, b1]) => overlap(covered, b0, b1) / bs),
      restorable: buckets.map(([b0, b1]) => overlap(restorable, b0, b1) / bs),
      snapshots: buckets.map(([b0, b1]) => snaps.filter((s) => s.t >= b0 && s.t < b1).length),
      snapshotFlags: buckets.map(() => 0),
      gaps: m.intervals
        .slice(1)
        .map(([a], k) => {
          const prevEnd = m.intervals[k]![1];
          return {
            after: op(prevEnd),
            before: op(a),
            seconds: a - prevEnd,
            reason: m.gapReasons?.[k] ?? 'chain-break',
          };
        })
        .filter((g) => g.before.t >= from && g.after.t < to),
      markers: snaps.map((s) => ({
        id: s.id,
        consistentTs: op(s.t),
        tiers: s.tiers,
        lockedUntil: s.lockedUntil ?? null,
        documents: s.documents ?? 0,
        storedBytes: 1000,
      })),
      liveEdge: live === null ? null : op(live),
      pitrWindowStart:
        live === null || !m.pitrWindowHours
          ? null
          : new Date((live - m.pitrWindowHours * 3600) * 1000).toISOString().replace('.000Z', 'Z'),
      snapshotOnly: m.intervals.length === 0,
      incidentCounts: buckets.map(() => 0),
      incidents: [],
    };
  };
}
