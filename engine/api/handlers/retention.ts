import type { Services } from '../../services.js';
import type { PartialHandlers } from './types.js';

export const retentionHandlers: PartialHandlers<'retention.lock', Pick<Services, 'stores' | 'actor'>> = {
  'retention.lock': async (svc, input) => {
    const store = await svc.stores.get(input.repository);
    const kind = input.snapshot ? ('snapshot' as const) : ('segment' as const);
    const target = (input.snapshot ?? input.segment)!;
    const until = new Date(input.until);
    await store.lock(kind, target, until, input.reason ?? '', svc.actor);
    return { kind, target, lockedUntil: until.toISOString() };
  },
};
