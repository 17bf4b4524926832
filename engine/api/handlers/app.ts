import { APP_NAME, APP_VERSION } from '../../version.js';
import type { PartialHandlers } from './types.js';

export const appHandlers: PartialHandlers<'app.info'> = {
  'app.info': (engine) => ({
    name: APP_NAME,
    version: APP_VERSION,
    mode: engine.mode,
    dataDir: engine.dataDir,
    catalogPath: engine.catalogPath,
    catalogSchemaVersion: engine.schemaVersion,
    engineStartedAt: engine.startedAt.toISOString(),
    uptimeSeconds: Math.round((Date.now() - engine.startedAt.getTime()) / 100) / 10,
    platform: `${process.platform}-${process.arch}`,
    nodeVersion: process.versions.node,
  }),
};
