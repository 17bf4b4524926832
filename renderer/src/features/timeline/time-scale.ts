/**
 * The timeline's time axis as pure arithmetic: which seconds the view shows,
 * where an instant falls in pixels, zooming around a point, panning, snapping
 * the cursor to whole seconds, and the ticks to label. No DOM, no canvas, so
 * every rule is unit-tested (test/renderer/timeline-scale.test.ts).
 *
 * Times are seconds since the Unix epoch (oplog timestamps' `t`), as floats:
 * at one-second zoom a pixel is a fraction of a second.
 */

/** The seconds shown, [from, to). */
export interface ViewRange {
  from: number;
  to: number;
}

/** A few seconds across the whole width: each second is a wide, clickable column. */
export const MIN_SPAN_SECONDS = 5;
/** Twenty years: more than any retention; timeline.get accepts up to a hundred. */
export const MAX_SPAN_SECONDS = 20 * 366 * 86_400;
/** One step of the zoom buttons and keys. */
export const ZOOM_STEP = 2;

export const spanOf = (v: ViewRange) => v.to - v.from;

export function xOf(t: number, view: ViewRange, width: number): number {
  return ((t - view.from) / spanOf(view)) * width;
}

export function tOf(x: number, view: ViewRange, width: number): number {
  return view.from + (x / width) * spanOf(view);
}

/** The whole second under a position: restore points are whole seconds (`restore.plan` takes an ISO second). */
export function snapSecond(t: number): number {
  return Math.floor(t);
}

/** Keeps the span within the zoom limits, around the same centre. */
export function clampSpan(view: ViewRange): ViewRange {
  const span = spanOf(view);
  const wanted = Math.min(MAX_SPAN_SECONDS, Math.max(MIN_SPAN_SECONDS, span));
  if (wanted === span) return view;
  const mid = (view.from + view.to) / 2;
  return { from: mid - wanted / 2, to: mid + wanted / 2 };
}

/**
 * Zooms by `factor` (> 1 in, < 1 out) keeping the instant `anchor` at the
 * same pixel, as maps do under the mouse wheel.
 */
export function zoomAt(view: ViewRange, factor: number, anchor: number): ViewRange {
  const span = spanOf(view);
  const next = Math.min(MAX_SPAN_SECONDS, Math.max(MIN_SPAN_SECONDS, span / factor));
  const share = span > 0 ? (anchor - view.from) / span : 0.5;
  const from = anchor - share * next;
  return { from, to: from + next };
}

/** Moves the view by `seconds` (negative: back in time). */
export function panBy(view: ViewRange, seconds: number): ViewRange {
  return { from: view.from + seconds, to: view.to + seconds };
}

/** A view of `span` seconds centred on `t`. */
export function centredOn(t: number, span: number): ViewRange {
  const s = Math.min(MAX_SPAN_SECONDS, Math.max(MIN_SPAN_SECONDS, span));
  return { from: t - s / 2, to: t + s / 2 };
}

/** Named zoom levels (buttons, and the screenshots at year, day and second zoom). */
export const ZOOM_LEVELS = [
  { id: 'year', label: 'Year', seconds: 366 * 86_400 },
  { id: 'month', label: 'Month', seconds: 31 * 86_400 },
  { id: 'week', label: 'Week', seconds: 7 * 86_400 },
  { id: 'day', label: 'Day', seconds: 86_400 },
  { id: 'hour', label: 'Hour', seconds: 3_600 },
  { id: 'minute', label: 'Minute', seconds: 60 },
  { id: 'second', label: 'Seconds', seconds: 10 },
] as const;

export interface Tick {
  t: number;
  label: string;
  /** A day, month or year boundary: drawn stronger, labelled with the date. */
  major: boolean;
}

type Unit = 'second' | 'minute' | 'hour' | 'day' | 'month' | 'year';
const STEPS: { unit: Unit; n: number; approx: number }[] = [
  ...[1, 2, 5, 10, 15, 30].map((n) => ({ unit: 'second' as const, n, approx: n })),
  ...[1, 2, 5, 10, 15, 30].map((n) => ({ unit: 'minute' as const, n, approx: n * 60 })),
  ...[1, 2, 3, 6, 12].map((n) => ({ unit: 'hour' as const, n, approx: n * 3600 })),
  ...[1, 2, 7, 14].map((n) => ({ unit: 'day' as const, n, approx: n * 86_400 })),
  ...[1, 3, 6].map((n) => ({ unit: 'month' as const, n, approx: n * 30.44 * 86_400 })),
  ...[1, 2, 5, 10].map((n) => ({ unit: 'year' as const, n, approx: n * 365.25 * 86_400 })),
];

const pad = (n: number) => String(n).padStart(2, '0');

/** The tick step for a view: the smallest whose labels stay `minPx` apart. */
export function tickStep(view: ViewRange, width: number, minPx = 90): { unit: Unit; n: number } {
  const perPx = spanOf(view) / Math.max(1, width);
  return STEPS.find((s) => s.approx / perPx >= minPx) ?? STEPS[STEPS.length - 1]!;
}

/** The first local boundary of `unit`×`n` at or after `t` (seconds), as a Date. */
function firstBoundary(t: number, unit: Unit, n: number): Date {
  const d = new Date(Math.floor(t) * 1000);
  switch (unit) {
    case 'second':
      d.setSeconds(Math.floor(d.getSeconds() / n) * n, 0);
      break;
    case 'minute':
      d.setMinutes(Math.floor(d.getMinutes() / n) * n, 0, 0);
      break;
    case 'hour':
      d.setHours(Math.floor(d.getHours() / n) * n, 0, 0, 0);
      break;
    case 'day':
      d.setHours(0, 0, 0, 0);
      if (n === 7 || n === 14) d.setDate(d.getDate() - ((d.getDay() + 6) % 7)); // weeks start on Monday
      break;
    case 'month':
      d.setHours(0, 0, 0, 0);
      d.setDate(1);
      d.setMonth(Math.floor(d.getMonth() / n) * n);
      break;
    case 'year':
      d.setHours(0, 0, 0, 0);
      d.setMonth(0, 1);
      d.setFullYear(Math.floor(d.getFullYear() / n) * n);
      break;
  }
  while (d.getTime() / 1000 < t) advance(d, unit, n);
  return d;
}

function advance(d: Date, unit: Unit, n: number): void {
  switch (unit) {
    case 'second':
      d.setSeconds(d.getSeconds() + n);
      break;
    case 'minute':
      d.setMinutes(d.getMinutes() + n);
      break;
    case 'hour':
      d.setHours(d.getHours() + n);
      break;
    case 'day':
      d.setDate(d.getDate() + n);
      break;
    case 'month':
      d.setMonth(d.getMonth() + n);
      break;
    case 'year':
      d.setFullYear(d.getFullYear() + n);
      break;
  }
}

const dateText = (d: Date) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;

function tickLabel(d: Date, unit: Unit): { label: string; major: boolean } {
  const midnight = d.getHours() === 0 && d.getMinutes() === 0 && d.getSeconds() === 0;
  switch (unit) {
    case 'year':
      return { label: String(d.getFullYear()), major: true };
    case 'month':
      return { label: `${d.getFullYear()}-${pad(d.getMonth() + 1)}`, major: d.getMonth() === 0 };
    case 'day':
      return { label: dateText(d), major: d.getDate() === 1 };
    case 'hour':
    case 'minute':
      return midnight
        ? { label: dateText(d), major: true }
        : { label: `${pad(d.getHours())}:${pad(d.getMinutes())}`, major: false };
    case 'second':
      return midnight
        ? { label: dateText(d), major: true }
        : {
            label: `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`,
            major: d.getSeconds() === 0 && d.getMinutes() === 0,
          };
  }
}

/** Ticks in local time across the view, labelled at the resolution of the step. */
export function ticks(view: ViewRange, width: number, minPx = 90): Tick[] {
  const { unit, n } = tickStep(view, width, minPx);
  const out: Tick[] = [];
  const d = firstBoundary(view.from, unit, n);
  for (let k = 0; k < 500 && d.getTime() / 1000 < view.to; k++) {
    out.push({ t: d.getTime() / 1000, ...tickLabel(d, unit) });
    advance(d, unit, n);
  }
  return out;
}

/**
 * Reads a typed instant: an ISO-8601 date-time with a zone (`2026-11-23T11:22:58Z`)
 * is taken as is; `2026-11-23 12:22:58`, `2026-11-23 12:22` or `2026-11-23` without
 * a zone is local time, as every instant on screen is shown. Null when unreadable.
 */
export function parseTypedInstant(text: string): number | null {
  const s = text.trim();
  if (/(Z|[+-]\d{2}:\d{2})$/i.test(s) && /^\d{4}-\d{2}-\d{2}T/.test(s)) {
    const ms = Date.parse(s);
    return Number.isNaN(ms) ? null : ms / 1000;
  }
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2}))?)?$/.exec(s);
  if (!m) return null;
  const [y, mo, d, h = '0', mi = '0', se = '0'] = m.slice(1);
  const date = new Date(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(se));
  // new Date rolls 2026-02-31 over into March: refuse it instead of going somewhere else.
  if (date.getMonth() !== Number(mo) - 1 || date.getDate() !== Number(d) || Number(h) > 23) return null;
  return date.getTime() / 1000;
}

/** The restore point `restore.plan` takes for a whole second: `2026-11-23T11:22:58Z`. */
export function isoSecond(t: number): string {
  return new Date(Math.floor(t) * 1000).toISOString().replace('.000Z', 'Z');
}
