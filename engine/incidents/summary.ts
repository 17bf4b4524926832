/** One line per finding, as the CLI, the incident list and the timeline's flags show it. */
import type { IncidentRow } from '../catalog/incidents.js';

const n = (x: number) => x.toLocaleString('en-US');
const docs = (x: number | null) => (x === null ? 'size not logged' : `${n(x)} document${x === 1 ? '' : 's'}`);
const plural = (x: number, one: string, many = `${one}s`) => `${n(x)} ${x === 1 ? one : many}`;

export function incidentSummary(r: IncidentRow): string {
  const d = JSON.parse(r.details_json) as Record<string, unknown>;
  const seconds = r.last_t - r.first_t;
  const during = seconds === 0 ? 'within one second' : `in ${plural(seconds, 'second')}`;
  switch (r.kind) {
    case 'drop':
      return `Collection ${r.ns} dropped (${docs(r.size)})`;
    case 'dropDatabase': {
      const colls = Array.isArray(d.collections) ? d.collections.length : 0;
      return `Database ${r.ns} dropped (${plural(colls, 'collection')}, ${docs(r.size)})`;
    }
    case 'dropIndexes': {
      const names = Array.isArray(d.indexes) ? (d.indexes as string[]).join(', ') : '';
      return `${plural(r.size ?? 0, 'index', 'indexes')} dropped on ${r.ns}${names ? `: ${names}` : ''}`;
    }
    case 'renameOverCollection':
      return `${String(d.from)} renamed over ${r.ns}, which was dropped (${docs(r.size)})`;
    case 'massDelete':
      return `${docs(r.size)} deleted from ${r.ns} ${during}`;
    case 'massUpdate':
      return `${docs(r.size)} updated in ${r.ns} ${during}`;
    case 'transaction': {
      const list = Array.isArray(d.namespaces)
        ? (d.namespaces as { ns: string; deletes: number; updates: number }[])
        : [];
      const parts = list.map(
        (x) =>
          `${[x.deletes ? `${n(x.deletes)} deleted` : '', x.updates ? `${n(x.updates)} updated` : '']
            .filter(Boolean)
            .join(' and ')} in ${x.ns}`,
      );
      return `${d.prepared ? 'A prepared transaction' : 'A transaction'}: ${parts.join('; ')}`;
    }
    default:
      return `${r.kind} on ${r.ns}`;
  }
}
