/**
 * Paints the timeline on a 2D canvas: the time axis, then per source lane
 * the oplog coverage band, the restorable strip, gaps in red with their
 * cause, snapshot markers by tier, and the vertical edges (retention
 * horizon, PITR window, in-place restores and incidents, live edge, now),
 * then the cursor and the picked point.
 *
 * Drawn by hand because no charting library draws this picture (bands with
 * partial buckets, markers by tier, gaps, several edges) at 50 frames per
 * second from cached buckets; every number it paints comes from layout.ts,
 * which is unit-tested. Colours are the theme's CSS variables, read again
 * when the colour scheme changes.
 */
import { gapsOf, layersFor, markersOf, primaryLayer, runsOf, type MarkerKind } from './layout';
import type { LaneModel } from './lanes';
import { ticks, xOf, type ViewRange } from './time-scale';

export const AXIS_HEIGHT = 28;
export const LANE_HEIGHT = 76;
const MARKER_Y = 30;
const BAND_TOP = 40;
const BAND_HEIGHT = 18;
const STRIP_TOP = 60;
const STRIP_HEIGHT = 6;

/** The lane under a vertical position (CSS pixels), or -1 on the axis. */
export function laneAt(y: number, lanes: number): number {
  if (y < AXIS_HEIGHT) return -1;
  const k = Math.floor((y - AXIS_HEIGHT) / LANE_HEIGHT);
  return k < lanes ? k : -1;
}

export const canvasHeight = (lanes: number) => AXIS_HEIGHT + Math.max(1, lanes) * LANE_HEIGHT;

export interface Palette {
  text: string;
  dimmed: string;
  border: string;
  band: string;
  restorable: string;
  gap: string;
  gapText: string;
  live: string;
  now: string;
  pending: string;
  pitr: string;
  retention: string;
  inPlace: string;
  incident: string;
  cursor: string;
  picked: string;
  locked: string;
  tiers: Record<MarkerKind, string>;
}

const VARS: Record<Exclude<keyof Palette, 'tiers'>, [string, string]> = {
  text: ['--mantine-color-text', '#212529'],
  dimmed: ['--mantine-color-dimmed', '#868e96'],
  border: ['--mantine-color-default-border', '#dee2e6'],
  band: ['--mantine-color-blue-5', '#339af0'],
  restorable: ['--mantine-color-teal-6', '#12b886'],
  gap: ['--mantine-color-red-6', '#fa5252'],
  gapText: ['--mantine-color-white', '#ffffff'],
  live: ['--mantine-color-green-7', '#37b24d'],
  now: ['--mantine-color-dimmed', '#868e96'],
  pending: ['--mantine-color-yellow-5', '#fcc419'],
  pitr: ['--mantine-color-grape-6', '#be4bdb'],
  retention: ['--mantine-color-gray-6', '#868e96'],
  inPlace: ['--mantine-color-orange-6', '#fd7e14'],
  incident: ['--mantine-color-red-8', '#e03131'],
  cursor: ['--mantine-color-dimmed', '#868e96'],
  picked: ['--mantine-color-violet-6', '#7950f2'],
  locked: ['--mantine-color-yellow-6', '#fab005'],
};
const TIER_VARS: Record<MarkerKind, [string, string]> = {
  monthly: ['--mantine-color-grape-7', '#ae3ec9'],
  weekly: ['--mantine-color-indigo-6', '#4c6ef5'],
  daily: ['--mantine-color-blue-7', '#1c7ed6'],
  hourly: ['--mantine-color-cyan-6', '#15aabf'],
  'on demand': ['--mantine-color-gray-6', '#868e96'],
  imported: ['--mantine-color-orange-7', '#f76707'],
};

export function readPalette(el: Element): Palette {
  const css = getComputedStyle(el);
  const read = ([name, fallback]: [string, string]) => css.getPropertyValue(name).trim() || fallback;
  const out = Object.fromEntries(Object.entries(VARS).map(([k, v]) => [k, read(v)])) as Omit<
    Palette,
    'tiers'
  >;
  const tiers = Object.fromEntries(
    Object.entries(TIER_VARS).map(([k, v]) => [k, read(v)]),
  ) as Palette['tiers'];
  return { ...out, tiers };
}

export interface DrawInput {
  view: ViewRange;
  width: number;
  lanes: LaneModel[];
  nowMs: number;
  cursor: number | null;
  picked: { source: string; t: number } | null;
  selected: string | null;
  focused: boolean;
}

const FONT = '11px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
const BOLD = '600 12px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';

export function drawTimeline(ctx: CanvasRenderingContext2D, p: Palette, d: DrawInput): void {
  const { view, width, lanes } = d;
  const height = canvasHeight(lanes.length);
  ctx.clearRect(0, 0, width, height);
  ctx.font = FONT;
  ctx.textBaseline = 'middle';

  // The axis: ticks in local time, a line under the labels, faint guides through the lanes.
  const tk = ticks(view, width);
  ctx.fillStyle = p.border;
  ctx.fillRect(0, AXIS_HEIGHT - 1, width, 1);
  for (const t of tk) {
    const x = Math.round(xOf(t.t, view, width)) + 0.5;
    ctx.globalAlpha = t.major ? 0.9 : 0.45;
    ctx.fillRect(x - 0.5, AXIS_HEIGHT - (t.major ? 10 : 6), 1, t.major ? 10 : 6);
    ctx.globalAlpha = t.major ? 0.35 : 0.18;
    ctx.fillRect(x - 0.5, AXIS_HEIGHT, 1, height - AXIS_HEIGHT);
  }
  ctx.globalAlpha = 1;
  ctx.fillStyle = p.dimmed;
  ctx.textAlign = 'left';
  for (const t of tk) {
    const x = xOf(t.t, view, width);
    if (x > width - 40) continue;
    ctx.font = t.major ? BOLD : FONT;
    ctx.fillText(t.label, x + 3, AXIS_HEIGHT / 2);
  }
  ctx.font = FONT;

  lanes.forEach((lane, k) => drawLane(ctx, p, d, lane, AXIS_HEIGHT + k * LANE_HEIGHT));

  // The cursor (snapped to its second) and the picked point, across every lane.
  if (d.cursor !== null) {
    const x0 = xOf(d.cursor, view, width);
    const x1 = xOf(d.cursor + 1, view, width);
    ctx.fillStyle = p.cursor;
    ctx.globalAlpha = 0.25;
    if (x1 - x0 >= 3) ctx.fillRect(x0, AXIS_HEIGHT, x1 - x0, height - AXIS_HEIGHT);
    ctx.globalAlpha = 0.9;
    ctx.fillRect(Math.round(x0), AXIS_HEIGHT, 1, height - AXIS_HEIGHT);
    ctx.globalAlpha = 1;
  }
  if (d.picked) {
    const k = lanes.findIndex((l) => l.source === d.picked!.source);
    if (k >= 0) {
      const x = xOf(d.picked.t + 0.5, view, width);
      const y0 = AXIS_HEIGHT + k * LANE_HEIGHT;
      ctx.fillStyle = p.picked;
      ctx.fillRect(Math.round(x) - 1, y0 + 16, 2, LANE_HEIGHT - 20);
      ctx.beginPath();
      ctx.arc(x, y0 + 16, 4, 0, Math.PI * 2);
      ctx.fill();
    }
  }
}

function vline(ctx: CanvasRenderingContext2D, x: number, y0: number, color: string, dash: number[] = []) {
  ctx.strokeStyle = color;
  ctx.lineWidth = 1.5;
  ctx.setLineDash(dash);
  ctx.beginPath();
  ctx.moveTo(Math.round(x) + 0.5, y0 + 18);
  ctx.lineTo(Math.round(x) + 0.5, y0 + LANE_HEIGHT - 4);
  ctx.stroke();
  ctx.setLineDash([]);
}

function label(
  ctx: CanvasRenderingContext2D,
  text: string,
  x: number,
  y: number,
  color: string,
  width: number,
) {
  ctx.fillStyle = color;
  const w = ctx.measureText(text).width;
  const left = x + 4 + w > width ? x - 4 - w : x + 4;
  ctx.textAlign = 'left';
  ctx.fillText(text, Math.max(2, left), y);
}

function drawLane(ctx: CanvasRenderingContext2D, p: Palette, d: DrawInput, lane: LaneModel, y0: number) {
  const { view, width } = d;
  const opts = { imported: lane.imported, nowMs: d.nowMs };
  const now = d.nowMs / 1000;

  // Lane frame and name.
  ctx.fillStyle = p.border;
  ctx.fillRect(0, y0 + LANE_HEIGHT - 1, width, 1);
  if (d.selected === lane.source && d.focused) {
    ctx.strokeStyle = p.picked;
    ctx.lineWidth = 2;
    ctx.strokeRect(1, y0 + 1, width - 2, LANE_HEIGHT - 3);
  }
  ctx.font = BOLD;
  ctx.fillStyle = p.text;
  ctx.textAlign = 'left';
  ctx.fillText(lane.source, 6, y0 + 10);
  ctx.font = FONT;

  // Bands from every cached layer, coarse to fine; the finer paint over the stretched coarse ones.
  const layers = layersFor(lane.cache, view);
  for (const layer of layers) {
    const x0 = Math.max(0, xOf(layer.from, view, width));
    const x1 = Math.min(width, xOf(layer.to, view, width));
    ctx.fillStyle = p.band;
    if (layers.length > 1 && layer !== layers[0]) {
      // A finer layer replaces what the coarser one drew under it.
      ctx.clearRect(x0, y0 + BAND_TOP, x1 - x0, STRIP_TOP + STRIP_HEIGHT - BAND_TOP);
    }
    for (const r of runsOf(layer, layer.data.covered, view, width)) {
      ctx.globalAlpha = 0.25 + 0.6 * r.value;
      ctx.fillRect(r.x0, y0 + BAND_TOP, Math.max(1, r.x1 - r.x0), BAND_HEIGHT);
    }
    ctx.fillStyle = p.restorable;
    for (const r of runsOf(layer, layer.data.restorable, view, width)) {
      ctx.globalAlpha = 0.35 + 0.65 * r.value;
      ctx.fillRect(r.x0, y0 + STRIP_TOP, Math.max(1, r.x1 - r.x0), STRIP_HEIGHT);
    }
    ctx.globalAlpha = 1;
  }

  const primary = primaryLayer(lane.cache, view);
  if (!primary) {
    ctx.fillStyle = p.dimmed;
    ctx.fillText('loading…', 6, y0 + BAND_TOP + BAND_HEIGHT / 2);
    return;
  }

  // Between the live edge and now: writes not kept yet (the recovery point), while capture runs.
  if (lane.capturing && lane.liveEdge !== null) {
    const x0 = Math.max(0, xOf(lane.liveEdge + 1, view, width));
    const x1 = Math.min(width, xOf(now, view, width));
    if (x1 > x0) {
      ctx.fillStyle = p.pending;
      ctx.globalAlpha = 0.35;
      ctx.fillRect(x0, y0 + BAND_TOP, x1 - x0, BAND_HEIGHT);
      ctx.globalAlpha = 1;
    }
  }

  // Gaps: red, with their cause when there is room.
  for (const g of gapsOf(primary, view, width)) {
    ctx.fillStyle = p.gap;
    ctx.fillRect(g.x0, y0 + BAND_TOP - 4, g.x1 - g.x0, STRIP_TOP + STRIP_HEIGHT - BAND_TOP + 8);
    const text = `gap: ${g.cause}`;
    if (ctx.measureText(text).width + 8 < g.x1 - g.x0) {
      ctx.fillStyle = p.gapText;
      ctx.textAlign = 'left';
      ctx.fillText(text, g.x0 + 4, y0 + BAND_TOP + BAND_HEIGHT / 2);
    } else if (g.x1 - g.x0 >= 2) {
      ctx.fillStyle = p.gap;
      ctx.fillText('gap', Math.min(width - 24, g.x1 + 3), y0 + STRIP_TOP + STRIP_HEIGHT + 6);
    }
  }

  // Edges: retention horizon, PITR window start, flags, live edge, now.
  const edge = (t: number | null, color: string, text: string, dash: number[] = []) => {
    if (t === null || t < view.from || t > view.to) return;
    const x = xOf(t, view, width);
    vline(ctx, x, y0, color, dash);
    label(ctx, text, x, y0 + LANE_HEIGHT - 8, color, width);
  };
  edge(lane.horizon, p.retention, 'retention horizon', [2, 3]);
  edge(lane.pitrStart, p.pitr, 'PITR window', [5, 3]);
  for (const f of lane.flags) {
    if (f.t < view.from || f.t > view.to) continue;
    const x = xOf(f.t, view, width);
    const color = f.kind === 'incident' ? p.incident : p.inPlace;
    vline(ctx, x, y0, color);
    ctx.fillStyle = color;
    ctx.beginPath();
    ctx.moveTo(Math.round(x) + 0.5, y0 + 14);
    ctx.lineTo(Math.round(x) + 10, y0 + 18);
    ctx.lineTo(Math.round(x) + 0.5, y0 + 22);
    ctx.fill();
    label(ctx, f.label, x + 8, y0 + 18, color, width);
  }
  if (lane.liveEdge !== null && lane.liveEdge + 1 >= view.from && lane.liveEdge <= view.to) {
    const x = xOf(lane.liveEdge + 1, view, width);
    vline(ctx, x, y0, p.live);
    const rp =
      lane.capturing && lane.recoveryPointSeconds !== null
        ? ` · RP ${Math.round(lane.recoveryPointSeconds)} s`
        : '';
    label(ctx, `live edge${rp}`, x, y0 + BAND_TOP - 8, p.live, width);
  }
  if (now >= view.from && now <= view.to) {
    ctx.globalAlpha = 0.7;
    vline(ctx, xOf(now, view, width), y0, p.now, [1, 2]);
    ctx.globalAlpha = 1;
  }

  // Snapshot markers above the band, shaped and coloured by tier; a ring when locked by retention.
  for (const m of markersOf(primary, view, width, opts))
    drawMarker(ctx, p, m.kind, m.locked, m.x, y0 + MARKER_Y, m.count);
}

function drawMarker(
  ctx: CanvasRenderingContext2D,
  p: Palette,
  kind: MarkerKind,
  locked: boolean,
  x: number,
  y: number,
  count: number,
) {
  const size = kind === 'monthly' ? 7 : kind === 'weekly' ? 6 : kind === 'hourly' ? 4 : 5;
  ctx.fillStyle = p.tiers[kind];
  ctx.beginPath();
  switch (kind) {
    case 'monthly':
    case 'weekly':
      ctx.moveTo(x, y - size);
      ctx.lineTo(x + size, y);
      ctx.lineTo(x, y + size);
      ctx.lineTo(x - size, y);
      ctx.closePath();
      break;
    case 'imported':
      ctx.moveTo(x, y - size);
      ctx.lineTo(x + size, y + size);
      ctx.lineTo(x - size, y + size);
      ctx.closePath();
      break;
    case 'on demand':
      ctx.rect(x - size + 1, y - size + 1, 2 * size - 2, 2 * size - 2);
      break;
    default:
      ctx.arc(x, y, size, 0, Math.PI * 2);
  }
  ctx.fill();
  if (locked) {
    ctx.strokeStyle = p.locked;
    ctx.lineWidth = 2;
    ctx.beginPath();
    ctx.arc(x, y, size + 3, 0, Math.PI * 2);
    ctx.stroke();
  }
  if (count > 1) {
    ctx.fillStyle = p.dimmed;
    ctx.textAlign = 'left';
    ctx.fillText(String(count), x + size + 2, y - size);
  }
}
