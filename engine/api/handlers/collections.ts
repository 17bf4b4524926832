import { ApiError } from '../../errors.js';
import type { Services } from '../../services.js';
import type { PartialHandlers } from './types.js';

export const collectionsHandlers: PartialHandlers<
  'collections.list',
  Pick<Services, 'catalog' | 'stores' | 'dataDir'>
> = {
  'collections.list': () => {
    throw new ApiError('UNSUPPORTED', 'collections at a point is being built; not ready yet.');
  },
};
