import { useEffect, useRef, useState } from 'react';
import { useNow } from '../../ui/Time';
import { describeView, KEYBOARD_HELP } from './describe';
import { flagNear, type LaneModel } from './lanes';
import { coversView } from './layout';
import { canvasHeight, drawTimeline, laneAt, readPalette, type Palette } from './timeline-draw';
import { followView, useTimeline, zoomIn, zoomOut } from './timeline-store';
import { panBy, snapSecond, spanOf, tOf, xOf, type ViewRange } from './time-scale';

/** The view as drawn now: a following view moves with the clock every frame. */
function currentView(): ViewRange | null {
  const s = useTimeline.getState();
  if (!s.view) return null;
  return s.follow ? followView(spanOf(s.view), Date.now() / 1000) : s.view;
}

const DRAG_PX = 4;

/**
 * The canvas every source's lane is drawn on, one time axis for all, and
 * its input: wheel and pinch zoom, drag to pan, click to pick a second,
 * and the same by keyboard. It draws from the slice in an animation frame
 * (never in React's render), only when something changed or while the live
 * edge moves, so panning stays smooth while answers are fetched.
 */
export function TimelineAxis({ lanes }: { lanes: LaneModel[] }) {
  const wrapRef = useRef<HTMLDivElement>(null);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const lanesRef = useRef(lanes);
  const dirtyRef = useRef(true);
  const focusedRef = useRef(false);
  const [focused, setFocused] = useState(false);
  const settled = useTimeline((s) => s.settled);
  const width = useTimeline((s) => s.width);
  const follow = useTimeline((s) => s.follow);
  const now = useNow();

  useEffect(() => {
    lanesRef.current = lanes;
    dirtyRef.current = true;
  }, [lanes]);
  useEffect(() => {
    focusedRef.current = focused;
    dirtyRef.current = true;
  }, [focused]);

  // The drawing width follows the section's width.
  useEffect(() => {
    const wrap = wrapRef.current;
    if (!wrap) return;
    const setWidth = useTimeline.getState().setWidth;
    if (wrap.clientWidth > 0) setWidth(wrap.clientWidth);
    const ro = new ResizeObserver((entries) => {
      const w = entries[0]?.contentRect.width;
      if (w) setWidth(w);
    });
    ro.observe(wrap);
    return () => ro.disconnect();
  }, []);

  // A following view is moved in the slice once a second, so fetches follow it.
  useEffect(() => {
    if (!follow) return;
    const timer = setInterval(() => useTimeline.getState().followTick(Date.now() / 1000), 1000);
    return () => clearInterval(timer);
  }, [follow]);

  // The frame loop.
  useEffect(() => {
    const canvas = canvasRef.current;
    // jsdom (component tests) has no 2D context: the description below says what would be drawn.
    const ctx = canvas?.getContext('2d') ?? null;
    if (!canvas || !ctx) return;
    let palette: Palette = readPalette(canvas);
    let scheme = document.documentElement.getAttribute('data-mantine-color-scheme');
    const unsubscribe = useTimeline.subscribe(() => (dirtyRef.current = true));
    let raf = 0;
    const frame = () => {
      raf = requestAnimationFrame(frame);
      const s = useTimeline.getState();
      const view = currentView();
      if (!view) return;
      const ls = lanesRef.current;
      const moving = s.follow || ls.some((l) => l.capturing);
      if (!dirtyRef.current && !moving) return;
      dirtyRef.current = false;
      const sc = document.documentElement.getAttribute('data-mantine-color-scheme');
      if (sc !== scheme) {
        scheme = sc;
        palette = readPalette(canvas);
      }
      const dpr = window.devicePixelRatio || 1;
      const h = canvasHeight(ls.length);
      const pw = Math.round(s.width * dpr);
      const ph = Math.round(h * dpr);
      if (canvas.width !== pw || canvas.height !== ph) {
        canvas.width = pw;
        canvas.height = ph;
        canvas.style.height = `${h}px`; // CSSOM, allowed by the CSP
      }
      // Whether every lane is drawn from answers at full resolution (the benchmark's first-paint signal).
      const sharp = ls.every((l) => coversView(l.cache, view, s.width)) ? 'true' : 'false';
      if (canvas.dataset.sharp !== sharp) canvas.dataset.sharp = sharp;
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      drawTimeline(ctx, palette, {
        view,
        width: s.width,
        lanes: ls,
        nowMs: Date.now(),
        cursor: s.cursor,
        picked: s.point,
        selected: s.selected,
        focused: focusedRef.current,
      });
    };
    raf = requestAnimationFrame(frame);
    return () => {
      cancelAnimationFrame(raf);
      unsubscribe();
    };
  }, []);

  // Wheel: zoom around the pointer (a trackpad pinch arrives as a wheel with ctrlKey); sideways: pan.
  useEffect(() => {
    const canvas = canvasRef.current;
    if (!canvas) return;
    const onWheel = (e: WheelEvent) => {
      const view = currentView();
      if (!view) return;
      e.preventDefault();
      const s = useTimeline.getState();
      const rect = canvas.getBoundingClientRect();
      const x = e.clientX - rect.left;
      const sideways = e.shiftKey || Math.abs(e.deltaX) > Math.abs(e.deltaY);
      if (sideways && !e.ctrlKey) {
        const d = e.shiftKey && e.deltaX === 0 ? e.deltaY : e.deltaX;
        s.setView(panBy(view, (d / s.width) * spanOf(view)));
        return;
      }
      const factor = Math.exp(-e.deltaY * (e.ctrlKey ? 0.01 : 0.002));
      if (s.follow) s.zoom(factor);
      else s.zoom(factor, tOf(x, view, s.width));
    };
    canvas.addEventListener('wheel', onWheel, { passive: false });
    return () => canvas.removeEventListener('wheel', onWheel);
  }, []);

  const pointers = useRef(new Map<number, { x: number; y: number }>());
  const drag = useRef<{ x: number; view: ViewRange; moved: boolean; pinch: number | null } | null>(null);

  const posOf = (e: React.PointerEvent) => {
    const rect = e.currentTarget.getBoundingClientRect();
    return { x: e.clientX - rect.left, y: e.clientY - rect.top };
  };

  const onPointerDown = (e: React.PointerEvent<HTMLCanvasElement>) => {
    const view = currentView();
    if (!view) return;
    try {
      e.currentTarget.setPointerCapture(e.pointerId);
    } catch {
      // A pointer the browser does not track (a synthetic event): dragging still works inside the canvas.
    }
    pointers.current.set(e.pointerId, posOf(e));
    const pts = [...pointers.current.values()];
    drag.current = {
      x: pts[0]!.x,
      view,
      moved: pts.length > 1,
      pinch: pts.length === 2 ? Math.abs(pts[0]!.x - pts[1]!.x) : null,
    };
  };

  const onPointerMove = (e: React.PointerEvent<HTMLCanvasElement>) => {
    const s = useTimeline.getState();
    const pos = posOf(e);
    const view = currentView();
    if (!view) return;
    if (pointers.current.has(e.pointerId)) pointers.current.set(e.pointerId, pos);
    const d = drag.current;
    const pts = [...pointers.current.values()];
    if (d && pts.length === 2 && d.pinch) {
      // Pinch: the distance between two fingers scales the span, around their midpoint.
      const dist = Math.max(1, Math.abs(pts[0]!.x - pts[1]!.x));
      const mid = tOf((pts[0]!.x + pts[1]!.x) / 2, view, s.width);
      s.zoom(dist / d.pinch, mid);
      d.pinch = dist;
      d.moved = true;
      return;
    }
    if (d && pts.length === 1) {
      const dx = pos.x - d.x;
      if (Math.abs(dx) > DRAG_PX) d.moved = true;
      if (d.moved) {
        s.setView(panBy(d.view, (-dx / s.width) * spanOf(d.view)));
        return;
      }
    }
    s.setCursor(snapSecond(tOf(pos.x, view, s.width)));
  };

  const onPointerUp = (e: React.PointerEvent<HTMLCanvasElement>) => {
    const d = drag.current;
    pointers.current.delete(e.pointerId);
    if (pointers.current.size > 0) return;
    drag.current = null;
    if (!d || d.moved) return;
    const view = currentView();
    const pos = posOf(e);
    const lane = lanes[laneAt(pos.y, lanes.length)];
    if (!view || !lane) return;
    const width = useTimeline.getState().width;
    // On a flag that says where to go (an incident: just before it), that second; else the one clicked.
    const flag = flagNear(lane.flags, pos.x, (t) => xOf(t, view, width));
    const t = flag?.pickAt ?? snapSecond(tOf(pos.x, view, width));
    if (flag?.pickAt !== undefined)
      void useTimeline.getState().pick(lane.source, t, flag.pickExact, flag.label);
    else void useTimeline.getState().pick(lane.source, t);
  };

  const onKeyDown = (e: React.KeyboardEvent<HTMLCanvasElement>) => {
    const s = useTimeline.getState();
    const view = currentView();
    if (!view) return;
    const span = spanOf(view);
    const centre = (view.from + view.to) / 2;
    const step = e.shiftKey ? span : span / 10;
    const k = lanes.findIndex((l) => l.source === s.selected);
    let handled = true;
    switch (e.key) {
      case '+':
      case '=':
        zoomIn();
        break;
      case '-':
      case '_':
      case '−':
        zoomOut();
        break;
      case 'ArrowLeft':
        s.pan(-step);
        break;
      case 'ArrowRight':
        s.pan(step);
        break;
      case 'Home': {
        const starts = Object.values(s.historyStart).filter((t): t is number => t !== null);
        if (starts.length)
          s.setView({ from: Math.min(...starts) - span * 0.05, to: Math.min(...starts) + span * 0.95 });
        break;
      }
      case 'End':
      case 'l':
      case 'L':
        s.setFollow(true);
        break;
      case 'ArrowUp':
        if (lanes.length) s.select(lanes[Math.max(0, k - 1)]!.source);
        break;
      case 'ArrowDown':
        if (lanes.length) s.select(lanes[Math.min(lanes.length - 1, k + 1)]!.source);
        break;
      case 'Enter':
      case ' ': {
        const source = s.selected ?? lanes[0]?.source;
        if (source) void s.pick(source, s.cursor ?? snapSecond(centre));
        break;
      }
      default:
        handled = false;
    }
    if (!handled) return;
    e.preventDefault();
    // The keyboard cursor is the second in the middle of the view.
    const after = currentView();
    if (after && e.key !== 'Enter' && e.key !== ' ') s.setCursor(snapSecond((after.from + after.to) / 2));
  };

  const description = settled ? describeView(settled, width, lanes, now) : 'Loading the timeline…';
  return (
    <div ref={wrapRef} className="timeline-wrap">
      <canvas
        ref={canvasRef}
        className="timeline-canvas"
        role="application"
        aria-roledescription="timeline"
        aria-label={`Timeline of ${lanes.map((l) => l.source).join(', ')}`}
        aria-describedby="timeline-description timeline-keys"
        tabIndex={0}
        onPointerDown={onPointerDown}
        onPointerMove={onPointerMove}
        onPointerUp={onPointerUp}
        onPointerCancel={(e) => {
          pointers.current.delete(e.pointerId);
          drag.current = null;
        }}
        onPointerLeave={() => {
          if (!drag.current) useTimeline.getState().setCursor(null);
        }}
        onKeyDown={onKeyDown}
        onFocus={() => setFocused(true)}
        onBlur={() => setFocused(false)}
        data-testid="timeline-canvas"
      />
      <p id="timeline-description" className="visually-hidden" data-testid="timeline-description">
        {description}
      </p>
      <p id="timeline-keys" className="visually-hidden">
        {KEYBOARD_HELP}
      </p>
    </div>
  );
}
