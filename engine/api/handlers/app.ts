import { APP_NAME, APP_VERSION } from '../../version.js';
import type { Services } from '../../services.js';
import type { PartialHandlers } from './types.js';

export const appHandlers: PartialHandlers<
  'app.info',
  Pick<Services, 'mode' | 'dataDir' | 'catalogPath' | 'schemaVersion' | 'startedAt'>
> = {
  'app.info': (svc) => ({
    name: APP_NAME,
    version: APP_VERSION,
    mode: svc.mode,
    dataDir: svc.dataDir,
    catalogPath: svc.catalogPath,
    catalogSchemaVersion: svc.schemaVersion,
    engineStartedAt: svc.startedAt.toISOString(),
    uptimeSeconds: Math.round((Date.now() - svc.startedAt.getTime()) / 100) / 10,
    platform: `${process.platform}-${process.arch}`,
    nodeVersion: process.versions.node,
  }),
};
