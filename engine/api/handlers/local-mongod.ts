import type { Services } from '../../services.js';
import type { PartialHandlers } from './types.js';

/** Starts, stops and exits are published (local-mongod.changed) and audited by the service itself. */
export const localMongodHandlers: PartialHandlers<
  'local-mongod.start' | 'local-mongod.stop' | 'local-mongod.status',
  Pick<Services, 'localMongod'>
> = {
  'local-mongod.start': (svc, { port }) => svc.localMongod.ensureStarted(port),
  'local-mongod.stop': (svc) => svc.localMongod.stop(),
  'local-mongod.status': (svc) => svc.localMongod.status(),
};
