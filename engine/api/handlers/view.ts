import { ApiError } from '../../errors.js';
import type { Services } from '../../services.js';
import type { PartialHandlers } from './types.js';

const notYet = (): never => {
  throw new ApiError('UNSUPPORTED', 'Point-in-time views are being built; this command is not ready yet.');
};

export const viewHandlers: PartialHandlers<
  'view.build' | 'view.list' | 'view.drop',
  Pick<Services, 'catalog' | 'stores' | 'tasks' | 'dataDir'>
> = {
  'view.build': notYet,
  'view.list': () => [],
  'view.drop': notYet,
};
