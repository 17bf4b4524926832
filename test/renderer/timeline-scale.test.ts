import { describe, expect, it } from 'vitest';
import {
  MAX_SPAN_SECONDS,
  MIN_SPAN_SECONDS,
  centredOn,
  isoSecond,
  panBy,
  parseTypedInstant,
  snapSecond,
  tOf,
  ticks,
  xOf,
  zoomAt,
} from '../../renderer/src/features/timeline/time-scale';

const T = Date.parse('2026-11-23T11:22:58Z') / 1000;

describe('the timeline time scale', () => {
  it('maps seconds to pixels and back', () => {
    const view = { from: T, to: T + 100 };
    expect(xOf(T + 25, view, 400)).toBe(100);
    expect(tOf(100, view, 400)).toBe(T + 25);
    for (const x of [0, 1.5, 399]) expect(xOf(tOf(x, view, 400), view, 400)).toBeCloseTo(x, 6);
  });

  it('zooms around the anchor: the instant under the pointer stays under it', () => {
    const view = { from: T, to: T + 3600 };
    const anchor = T + 900;
    const next = zoomAt(view, 4, anchor);
    expect(next.to - next.from).toBe(900);
    expect(xOf(anchor, next, 1000)).toBeCloseTo(xOf(anchor, view, 1000), 6);
  });

  it('stops zooming at a few seconds and at twenty years', () => {
    let v = { from: T, to: T + 60 };
    for (let k = 0; k < 20; k++) v = zoomAt(v, 2, T + 30);
    expect(v.to - v.from).toBe(MIN_SPAN_SECONDS);
    for (let k = 0; k < 60; k++) v = zoomAt(v, 0.5, T);
    expect(v.to - v.from).toBe(MAX_SPAN_SECONDS);
    expect(centredOn(T, 1)).toEqual({ from: T - MIN_SPAN_SECONDS / 2, to: T + MIN_SPAN_SECONDS / 2 });
  });

  it('pans by seconds and snaps the cursor to the whole second under it', () => {
    expect(panBy({ from: T, to: T + 10 }, -3)).toEqual({ from: T - 3, to: T + 7 });
    expect(snapSecond(T + 0.999)).toBe(T);
    expect(snapSecond(T + 1)).toBe(T + 1);
    expect(isoSecond(T + 0.7)).toBe('2026-11-23T11:22:58Z');
  });

  it('labels ticks at the zoom: years, days, hours and minutes, seconds', () => {
    const year = ticks({ from: T - 366 * 86_400 * 3, to: T }, 1200);
    expect(year.every((t) => /^\d{4}(-\d{2})?$/.test(t.label))).toBe(true);
    const day = ticks({ from: T - 86_400, to: T }, 1200);
    expect(day.some((t) => /^\d{2}:\d{2}$/.test(t.label))).toBe(true);
    // Crossing local midnight, that tick carries the date and is a major one.
    const midnight = day.find(
      (t) => new Date(t.t * 1000).getHours() === 0 && new Date(t.t * 1000).getMinutes() === 0,
    );
    expect(midnight?.major).toBe(true);
    expect(midnight?.label).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    const seconds = ticks({ from: T, to: T + 10 }, 1000);
    expect(seconds.length).toBeGreaterThanOrEqual(9);
    expect(seconds.every((t) => Number.isInteger(t.t) && /^\d{2}:\d{2}:\d{2}$|^\d{4}-/.test(t.label))).toBe(
      true,
    );
    // Labels stay apart: at least 90 px between ticks.
    for (const [v, w] of [
      [{ from: T, to: T + 10 }, 1000],
      [{ from: T - 86_400, to: T }, 1200],
      [{ from: T - 3e7, to: T }, 800],
    ] as const) {
      const tk = ticks(v, w);
      for (let k = 1; k < tk.length; k++)
        expect(xOf(tk[k]!.t, v, w) - xOf(tk[k - 1]!.t, v, w)).toBeGreaterThanOrEqual(80); // months vary in length
    }
  });

  it('reads typed instants: local without a zone, exact with one, nonsense refused', () => {
    expect(parseTypedInstant('2026-11-23T11:22:58Z')).toBe(T);
    expect(parseTypedInstant('2026-11-23T12:22:58+01:00')).toBe(T);
    const local = new Date(2026, 10, 23, 12, 22, 58).getTime() / 1000;
    expect(parseTypedInstant('2026-11-23 12:22:58')).toBe(local);
    expect(parseTypedInstant(' 2026-11-23 12:22 ')).toBe(local - 58);
    expect(parseTypedInstant('2026-11-23')).toBe(new Date(2026, 10, 23).getTime() / 1000);
    for (const bad of ['yesterday', '2026-02-31 10:00', '2026-11-23 25:00', '', '2026-13-01'])
      expect(parseTypedInstant(bad), bad).toBeNull();
  });
});
