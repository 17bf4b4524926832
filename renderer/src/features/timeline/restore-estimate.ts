/**
 * How long a restore at a point would take, from the last measured restore
 * (restore.list keeps each one's report: documents copied, oplog entries
 * replayed, and the milliseconds of every phase). The rate of copying (with
 * index builds) and of replaying are measured separately because a plan's
 * mix of the two differs from the last restore's; the other phases are a
 * fixed cost. Null while no restore has been measured: nothing is guessed.
 */
import type { CommandOutput } from '../../../../engine/api/contract';

export type RestoreView = CommandOutput<'restore.list'>[number];

export interface MeasuredRate {
  restoreId: string;
  finishedAt: string;
  docsPerSecond: number | null;
  entriesPerSecond: number | null;
  fixedSeconds: number;
}

interface ReportShape {
  namespaces?: { documents?: number }[];
  oplog?: { entries?: number };
  phases?: { name?: string; ms?: number }[];
}

const COPY_PHASES = new Set(['copying documents', 'building indexes', 'creating collections']);
const REPLAY_PHASE = 'replaying the oplog';

/** The newest succeeded restore with phase timings, this source's first, else any source's. */
export function measuredRate(restores: readonly RestoreView[], source: string): MeasuredRate | null {
  const done = restores.filter((r) => r.state === 'succeeded' && r.finishedAt && hasPhases(r.report));
  const newest = (list: RestoreView[]) =>
    [...list].sort((a, b) => Date.parse(b.finishedAt!) - Date.parse(a.finishedAt!))[0];
  const r = newest(done.filter((x) => x.source === source)) ?? newest(done);
  if (!r) return null;
  const report = r.report as ReportShape;
  const docs = (report.namespaces ?? []).reduce((n, ns) => n + (ns.documents ?? 0), 0);
  const entries = report.oplog?.entries ?? 0;
  let copyMs = 0;
  let replayMs = 0;
  let fixedMs = 0;
  for (const p of report.phases ?? []) {
    const ms = p.ms ?? 0;
    if (p.name && COPY_PHASES.has(p.name)) copyMs += ms;
    else if (p.name === REPLAY_PHASE) replayMs += ms;
    else fixedMs += ms;
  }
  return {
    restoreId: r.id,
    finishedAt: r.finishedAt!,
    docsPerSecond: docs > 0 && copyMs > 0 ? docs / (copyMs / 1000) : null,
    entriesPerSecond: entries > 0 && replayMs > 0 ? entries / (replayMs / 1000) : null,
    fixedSeconds: fixedMs / 1000,
  };
}

function hasPhases(report: RestoreView['report']): boolean {
  return !!report && Array.isArray((report as ReportShape).phases);
}

/**
 * Seconds for `documents` and `entries` at the measured rates. A rate the
 * last restore could not measure (it replayed nothing) borrows the other.
 */
export function estimateSeconds(rate: MeasuredRate, documents: number, entries: number): number | null {
  const docsRate = rate.docsPerSecond ?? rate.entriesPerSecond;
  const entriesRate = rate.entriesPerSecond ?? rate.docsPerSecond;
  if (!docsRate || !entriesRate) return null;
  return rate.fixedSeconds + documents / docsRate + entries / entriesRate;
}
