import { ApiError } from '../../errors.js';
import type { Services } from '../../services.js';
import type { PartialHandlers } from './types.js';

export const historyHandlers: PartialHandlers<
  'history.get',
  Pick<Services, 'catalog' | 'stores' | 'dataDir'>
> = {
  'history.get': () => {
    throw new ApiError('UNSUPPORTED', 'Document history is being built; not ready yet.');
  },
};
