/**
 * What jsdom lacks and Mantine needs: matchMedia (colour scheme "auto") and
 * ResizeObserver (scroll areas). Both answer like a light-themed, unmeasured
 * window; nothing in the renderer tests depends on layout.
 */
import { cleanup } from '@testing-library/react';
import { afterEach } from 'vitest';

window.matchMedia ??= (query: string) =>
  ({
    matches: false,
    media: query,
    onchange: null,
    addEventListener: () => {},
    removeEventListener: () => {},
    addListener: () => {},
    removeListener: () => {},
    dispatchEvent: () => false,
  }) as MediaQueryList;

globalThis.ResizeObserver ??= class {
  observe() {}
  unobserve() {}
  disconnect() {}
};

afterEach(() => cleanup());

/**
 * jsdom has no canvas: getContext returns null and charts that draw (uPlot) would throw. This
 * 2D context takes every call and draws nothing, so a chart builds its DOM (axes, legend) as in
 * a browser; what it drew is judged in the browser tests' screenshots.
 */
function nullContext2d(canvas: HTMLCanvasElement): CanvasRenderingContext2D {
  const state: Record<string | symbol, unknown> = { canvas };
  return new Proxy(state, {
    get: (t, k) =>
      k in t
        ? t[k]
        : k === 'measureText'
          ? () => ({ width: 0 })
          : k === 'getLineDash'
            ? () => []
            : () => undefined,
    set: (t, k, v) => ((t[k] = v), true),
  }) as unknown as CanvasRenderingContext2D;
}
HTMLCanvasElement.prototype.getContext = function (this: HTMLCanvasElement) {
  return nullContext2d(this);
} as unknown as typeof HTMLCanvasElement.prototype.getContext;
globalThis.Path2D ??= class {
  moveTo() {}
  lineTo() {}
  rect() {}
  arc() {}
  closePath() {}
  bezierCurveTo() {}
  quadraticCurveTo() {}
  addPath() {}
} as unknown as typeof Path2D;
