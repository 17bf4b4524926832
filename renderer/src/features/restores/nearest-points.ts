/**
 * When a point cannot be restored, the wizard offers the nearest points that
 * can, before and after it. The engine's refusal names the nearest captured
 * interval; the source's snapshots add their consistent points (a snapshot
 * whose oplog range is captured is restorable there, also past a gap). These
 * are only candidates: the wizard keeps those that restore.plan accepts.
 */
import type { CommandOutput } from '../../../../engine/api/contract';

type RestorePlan = CommandOutput<'restore.plan'>;
type SnapshotView = CommandOutput<'snapshot.list'>[number];

interface Ts {
  t: number;
  i: number;
}
type Refusal = Extract<RestorePlan, { restorable: false }>;

const cmp = (a: Ts, b: Ts) => a.t - b.t || a.i - b.i;
const text = (ts: Ts) => `${ts.t}:${ts.i}`;

/** Where the asked point lies as an oplog timestamp: a second S covers every entry with `t <= S`. */
export function pointTs(at: string): Ts | null {
  const op = /^(\d+):(\d+)$/.exec(at);
  if (op) return { t: Number(op[1]), i: Number(op[2]) };
  const ms = Date.parse(at);
  return Number.isNaN(ms) ? null : { t: Math.floor(ms / 1000), i: 0xffffffff };
}

/** Candidates before and after the point, nearest first on each side, as `t:i`. */
export function nearestCandidates(
  refusal: Refusal,
  snapshots: SnapshotView[],
): { before: string[]; after: string[] } {
  const at = pointTs(refusal.point);
  if (!at) return { before: [], after: [] };
  const all: Ts[] = [];
  if (refusal.nearestInterval) all.push(refusal.nearestInterval.end, refusal.nearestInterval.start);
  for (const s of snapshots) if (s.status === 'complete' && s.consistentTs) all.push(s.consistentTs);
  const unique = [...new Map(all.map((ts) => [text(ts), { t: ts.t, i: ts.i }])).values()];
  return {
    before: unique
      .filter((ts) => cmp(ts, at) < 0)
      .sort((a, b) => cmp(b, a))
      .map(text),
    after: unique
      .filter((ts) => cmp(ts, at) > 0)
      .sort(cmp)
      .map(text),
  };
}
