import { listAudit } from '../../catalog/audit.js';
import type { PartialHandlers } from './types.js';

export const retentionHandlers: PartialHandlers<
  'retention.lock' | 'snapshot.delete' | 'segment.delete' | 'audit.list'
> = {
  'retention.lock': async (engine, input) => {
    const store = await engine.stores.get(input.repository);
    const kind = input.snapshot ? ('snapshot' as const) : ('segment' as const);
    const target = (input.snapshot ?? input.segment)!;
    const until = new Date(input.until);
    await store.lock(kind, target, until, input.reason ?? '', engine.actor);
    return { kind, target, lockedUntil: until.toISOString() };
  },
  'snapshot.delete': async (engine, { id, repository }) => {
    await (await engine.stores.get(repository)).delete('snapshot', id, engine.actor);
    return { deleted: id };
  },
  'segment.delete': async (engine, { path, repository }) => {
    await (await engine.stores.get(repository)).delete('segment', path, engine.actor);
    return { deleted: path };
  },
  'audit.list': (engine, { limit }) =>
    listAudit(engine.catalog, limit ?? 100).map((r) => ({
      id: r.id,
      at: r.at,
      actor: r.actor,
      action: r.action,
      target: r.target,
      outcome: r.outcome,
      details: r.details_json ? (JSON.parse(r.details_json) as unknown) : null,
    })),
};
