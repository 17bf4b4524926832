/**
 * The nearest restorable second before or after a point that cannot be
 * restored, found by narrowing timeline.get: the first (or last) bucket with
 * any restorable share, then that bucket at finer width, until a bucket is
 * one second. A few calls whatever the history's length, because the engine
 * answers from coverage intervals and the snapshot index, never segments.
 */
import type { TimelineData } from './layout';

/** timeline.get for whole seconds [from, to) in `width` buckets. */
export type TimelineFetch = (from: number, to: number, width: number) => Promise<TimelineData>;

const MAX_WIDTH = 4096;

export async function nearestRestorable(
  get: TimelineFetch,
  t: number,
  direction: 'before' | 'after',
  bounds: { from: number; to: number },
): Promise<number | null> {
  let from = Math.floor(direction === 'before' ? bounds.from : t + 1);
  let to = Math.ceil(direction === 'before' ? t : bounds.to);
  for (let step = 0; step < 12 && to > from; step++) {
    const width = Math.min(MAX_WIDTH, to - from);
    const data = await get(from, to, width);
    const bs = data.bucketSeconds;
    const r = data.restorable;
    let idx = -1;
    if (direction === 'after') idx = r.findIndex((v) => v > 0);
    else for (let i = r.length - 1; i >= 0 && idx < 0; i--) if (r[i]! > 0) idx = i;
    if (idx < 0) return null;
    const b0 = from + idx * bs;
    const b1 = from + (idx + 1) * bs;
    if (bs <= 1) return direction === 'after' ? Math.floor(b0) : Math.ceil(b1) - 1;
    [from, to] = [Math.floor(b0), Math.ceil(b1)];
  }
  return null;
}
