import type { Services } from '../../services.js';
import type { PartialHandlers } from './types.js';

export const segmentHandlers: PartialHandlers<'segment.delete', Pick<Services, 'stores' | 'actor'>> = {
  'segment.delete': async (svc, { path, repository }) => {
    await (await svc.stores.get(repository)).delete('segment', path, svc.actor);
    return { deleted: path };
  },
};
