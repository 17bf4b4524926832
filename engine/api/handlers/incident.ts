import { incidentsBetween, type IncidentRow } from '../../catalog/incidents.js';
import { getSourceByName } from '../../catalog/sources.js';
import { ApiError } from '../../errors.js';
import { findingRow } from '../../incidents/incident-finder.js';
import { MAX_INCREMENT, compareOpTime, type OpTime } from '../../repo/optime.js';
import { parseRestorePoint } from '../../restore/planner.js';
import type { Services } from '../../services.js';
import { incidentScanView, incidentView } from '../views.js';
import type { PartialHandlers } from './types.js';

/** `--from` / `--to`: a `t:i`, or an ISO second (all of that second). */
function bound(text: string, end: 'from' | 'to'): OpTime {
  const p = parseRestorePoint(text);
  if (p.kind === 'ts') return p.ts;
  if (p.kind === 'wall') return end === 'from' ? { t: p.seconds, i: 0 } : { t: p.seconds, i: MAX_INCREMENT };
  throw new ApiError('INVALID_INPUT', `--${end} takes t:i or an ISO-8601 second, not "${text}".`);
}

const inRange = (ts: OpTime, from: OpTime | null, to: OpTime | null) =>
  (!from || compareOpTime(ts, from) >= 0) && (!to || compareOpTime(ts, to) <= 0);

export const incidentHandlers: PartialHandlers<
  'incident.list',
  Pick<Services, 'catalog' | 'stores' | 'incidents' | 'readOnly'>
> = {
  'incident.list': async (svc, { source, from, to, limit, newest }) => {
    const fromTs = from ? bound(from, 'from') : null;
    const toTs = to ? bound(to, 'to') : null;
    if (fromTs && toTs && compareOpTime(fromTs, toTs) > 0)
      throw new ApiError('INVALID_INPUT', '--from must not be after --to.');
    const s = getSourceByName(svc.catalog, source);
    await svc.stores.get(s.repository_id); // reconciled (and LOCKED said now) before answering
    let rows: IncidentRow[];
    if (!svc.readOnly) {
      await svc.incidents.catchUp(s.id);
      rows = incidentsBetween(svc.catalog, s.id, fromTs, toTs, limit + 1, newest);
    } else {
      // Beside the engine that stores them: what it has stored, plus a scan in memory of the rest.
      const extra = await svc.incidents.unsaved(s.id);
      const stored = extra.startedOver ? [] : incidentsBetween(svc.catalog, s.id, fromTs, toTs, 1_000_000);
      const replaced = new Set([...extra.removed, ...extra.upserts.map((f) => f.key)]);
      rows = [
        ...stored.filter((r) => !replaced.has(r.key)),
        ...extra.upserts
          .filter((f) => inRange(f.firstTs, fromTs, toTs))
          .map((f, k) => findingRow(s.id, f, -1 - k)),
      ].sort((a, b) => a.first_t - b.first_t || a.first_i - b.first_i);
      rows = newest ? rows.slice(-(limit + 1)) : rows.slice(0, limit + 1);
    }
    // One more than asked was read, to say whether any were left out: the oldest with `newest`.
    const kept = newest ? rows.slice(Math.max(0, rows.length - limit)) : rows.slice(0, limit);
    return {
      source: s.name,
      scan: incidentScanView(svc.incidents.status(s.id)),
      incidents: kept.map(incidentView),
      truncated: rows.length > limit,
    };
  },
};
