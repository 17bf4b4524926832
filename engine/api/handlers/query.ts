import { ApiError } from '../../errors.js';
import type { Services } from '../../services.js';
import type { PartialHandlers } from './types.js';

const notYet = (): never => {
  throw new ApiError('UNSUPPORTED', 'Queries at a point are being built; this command is not ready yet.');
};

export const queryHandlers: PartialHandlers<
  'query.find' | 'query.count' | 'query.distinct' | 'query.aggregate' | 'query.export' | 'query.restore',
  Pick<Services, 'catalog' | 'stores' | 'tasks' | 'dataDir' | 'actor'>
> = {
  'query.find': notYet,
  'query.count': notYet,
  'query.distinct': notYet,
  'query.aggregate': notYet,
  'query.export': notYet,
  'query.restore': notYet,
};
