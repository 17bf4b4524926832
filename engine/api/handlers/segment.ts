import type { Services } from '../../services.js';
import type { PartialHandlers } from './types.js';

export const segmentHandlers: PartialHandlers<
  'segment.delete',
  Pick<Services, 'stores' | 'actor' | 'views'>
> = {
  'segment.delete': async (svc, { path, repository }) => {
    const store = await svc.stores.get(repository);
    await store.delete('segment', path, svc.actor);
    // Document history's index of the segment goes with it.
    svc.views.forgetSegments(store.repo.id, [path]);
    return { deleted: path };
  },
};
