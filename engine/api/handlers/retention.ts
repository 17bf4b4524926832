import { listAudit } from '../../catalog/audit.js';
import type { Services } from '../../services.js';
import type { PartialHandlers } from './types.js';

export const retentionHandlers: PartialHandlers<
  'retention.lock' | 'snapshot.delete' | 'segment.delete' | 'audit.list',
  Pick<Services, 'catalog' | 'stores' | 'actor'>
> = {
  'retention.lock': async (svc, input) => {
    const store = await svc.stores.get(input.repository);
    const kind = input.snapshot ? ('snapshot' as const) : ('segment' as const);
    const target = (input.snapshot ?? input.segment)!;
    const until = new Date(input.until);
    await store.lock(kind, target, until, input.reason ?? '', svc.actor);
    return { kind, target, lockedUntil: until.toISOString() };
  },
  'snapshot.delete': async (svc, { id, repository }) => {
    await (await svc.stores.get(repository)).delete('snapshot', id, svc.actor);
    return { deleted: id };
  },
  'segment.delete': async (svc, { path, repository }) => {
    await (await svc.stores.get(repository)).delete('segment', path, svc.actor);
    return { deleted: path };
  },
  'audit.list': (svc, { limit }) =>
    listAudit(svc.catalog, limit ?? 100).map((r) => ({
      id: r.id,
      at: r.at,
      actor: r.actor,
      action: r.action,
      target: r.target,
      outcome: r.outcome,
      details: r.details_json ? (JSON.parse(r.details_json) as unknown) : null,
    })),
};
