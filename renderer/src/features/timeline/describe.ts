/**
 * The canvas's description in words: the range shown and, per source, what
 * the drawing shows in it (capture and the live edge, coverage and the
 * restorable share, snapshots by tier and locks, gaps with their cause,
 * edges and flags in view). Screen readers read it; the component tests
 * assert it, since jsdom cannot look at a canvas.
 */
import { duration, epochSecondsToIso, localDateTime } from '../../ui/format';
import { primaryLayer, totalsOf, type MarkerKind } from './layout';
import type { LaneModel } from './lanes';
import { spanOf, type ViewRange } from './time-scale';

const at = (t: number) => localDateTime(epochSecondsToIso(Math.floor(t)));
const pct = (share: number) => `${Math.round(share * 100)}%`;
const KINDS: MarkerKind[] = ['monthly', 'weekly', 'daily', 'hourly', 'on demand', 'imported'];
const inView = (t: number | null, v: ViewRange): t is number => t !== null && t >= v.from && t <= v.to;

export function describeLane(lane: LaneModel, view: ViewRange, width: number, nowMs: number): string {
  const layer = primaryLayer(lane.cache, view);
  const parts: string[] = [];
  if (lane.imported) parts.push('imported from a dump (snapshots only, nothing captured)');
  else if (lane.capturing)
    parts.push(
      `capture running, live edge ${lane.liveEdge === null ? 'not yet' : at(lane.liveEdge)}` +
        (lane.recoveryPointSeconds !== null
          ? ` (recovery point ${duration(lane.recoveryPointSeconds)})`
          : ''),
    );
  else if (lane.liveEdge !== null) parts.push(`capture not running, newest captured ${at(lane.liveEdge)}`);
  if (!layer) return `${lane.source}: ${[...parts, 'loading'].join('; ')}.`;

  const t = totalsOf(layer, view, width, { imported: lane.imported, nowMs });
  if (layer.data.snapshotOnly && lane.capturing) parts.push('no oplog captured yet');
  else if (layer.data.snapshotOnly) parts.push('no oplog: only its snapshots are restore points');
  else if (t.coveredShare === 0 && t.snapshots === 0) parts.push('nothing captured in this range');
  else parts.push(`oplog covers ${pct(t.coveredShare)} of the range, ${pct(t.restorableShare)} restorable`);
  if (t.snapshots > 0) {
    const kinds = KINDS.filter((k) => t.byKind[k]).map((k) => `${t.byKind[k]} ${k}`);
    parts.push(
      `${t.snapshots} snapshot${t.snapshots === 1 ? '' : 's'} (${kinds.join(', ')})` +
        (t.locked ? `, ${t.locked} locked by retention` : ''),
    );
  } else if (t.coveredShare > 0 || layer.data.snapshotOnly) parts.push('no snapshot in this range');
  if (t.gaps.length > 0)
    parts.push(
      ...t.gaps.map(
        (g) => `gap from ${at(g.from)} to ${at(g.to)} (${duration(g.to - g.from + 1)}): ${g.cause}`,
      ),
    );
  else if (t.coveredShare > 0) parts.push('no gap');
  if (inView(lane.pitrStart, view)) parts.push(`PITR window starts ${at(lane.pitrStart)}`);
  if (inView(lane.horizon, view)) parts.push(`retention horizon ${at(lane.horizon)}`);
  for (const f of lane.flags) if (inView(f.t, view)) parts.push(`${f.label} at ${at(f.t)}`);
  return `${lane.source}: ${parts.join('; ')}.`;
}

export function describeView(view: ViewRange, width: number, lanes: LaneModel[], nowMs: number): string {
  const head = `Showing ${at(view.from)} to ${at(view.to)} local time (${duration(spanOf(view))}).`;
  return [head, ...lanes.map((l) => describeLane(l, view, width, nowMs))].join(' ');
}

export const KEYBOARD_HELP =
  'Keys: + or = zooms in, − zooms out, ← and → move back and forward (Shift: a whole view), Home and End go to the oldest and newest, ↑ and ↓ choose the source, Enter shows what a restore at the second under the cursor would use, L follows the live edge.';
