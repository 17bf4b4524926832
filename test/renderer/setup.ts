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

// jsdom draws nothing: a canvas gives no 2D context (as a browser may refuse one), and the code must
// cope with null; answering null here says so without jsdom's "not implemented" message on every test.
HTMLCanvasElement.prototype.getContext = (() => null) as typeof HTMLCanvasElement.prototype.getContext;
