/**
 * Pure arithmetic of the timeline: how much of each of `width` equal buckets
 * of a time range a set of spans covers. Kept apart from the catalog so the
 * property test can hold it against a second-by-second count.
 */

/** A half-open span of seconds [from, to). */
export interface Span {
  from: number;
  to: number;
}

/**
 * The fraction (0..1) of each bucket of [rangeFrom, rangeTo) covered by
 * `spans`, which must be disjoint. Cost: O(width + spans), because a span only
 * visits the buckets it overlaps.
 */
export function coverFractions(
  spans: readonly Span[],
  rangeFrom: number,
  rangeTo: number,
  width: number,
): number[] {
  const w = (rangeTo - rangeFrom) / width;
  const acc = new Float64Array(width);
  for (const s of spans) {
    const a = Math.max(s.from, rangeFrom);
    const b = Math.min(s.to, rangeTo);
    if (b <= a) continue;
    const k0 = Math.max(0, Math.floor((a - rangeFrom) / w));
    const k1 = Math.min(width - 1, Math.floor((b - rangeFrom) / w));
    for (let k = k0; k <= k1; k++) {
      const lo = rangeFrom + k * w;
      const overlap = Math.min(b, lo + w) - Math.max(a, lo);
      if (overlap > 0) acc[k]! += overlap;
    }
  }
  // Rounded: four decimals are far below a pixel and keep the answer small.
  return Array.from(acc, (v) => Math.round(Math.min(1, v / w) * 10_000) / 10_000);
}

/** Merges touching or overlapping spans (input in any order) into disjoint ones. */
export function mergeSpans(spans: readonly Span[]): Span[] {
  const sorted = [...spans].filter((s) => s.to > s.from).sort((x, y) => x.from - y.from);
  const out: Span[] = [];
  for (const s of sorted) {
    const last = out[out.length - 1];
    if (last && s.from <= last.to) last.to = Math.max(last.to, s.to);
    else out.push({ ...s });
  }
  return out;
}
