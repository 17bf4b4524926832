import type { Services } from '../../services.js';
import type { PartialHandlers } from './types.js';

export const localMongodHandlers: PartialHandlers<
  'local-mongod.start' | 'local-mongod.stop' | 'local-mongod.status',
  Pick<Services, 'localMongod'>
> = {
  'local-mongod.start': (svc, { port }) => svc.localMongod.ensureStarted(port),
  'local-mongod.stop': (svc) => svc.localMongod.stop(),
  'local-mongod.status': (svc) => svc.localMongod.status(),
};
