/**
 * Every command's implementation, one file per command prefix (`alert.ts`
 * serves `alert.*`), checked against the contract: a missing one fails to compile.
 */
import { alertHandlers } from './alert.js';
import { appHandlers } from './app.js';
import { auditHandlers } from './audit.js';
import { backupJobHandlers } from './backup-job.js';
import { captureHandlers } from './capture.js';
import { catalogHandlers } from './catalog.js';
import { copyHandlers } from './copy.js';
import { exportHandlers } from './export.js';
import { importHandlers } from './import.js';
import { incidentHandlers } from './incident.js';
import { localMongodHandlers } from './local-mongod.js';
import { policyHandlers } from './policy.js';
import { repoHandlers } from './repo.js';
import { restoreHandlers } from './restore.js';
import { restoreInPlaceHandlers } from './restore-in-place.js';
import { restoreTestHandlers } from './restore-test.js';
import { retentionHandlers } from './retention.js';
import { segmentHandlers } from './segment.js';
import { settingsHandlers } from './settings.js';
import { snapshotHandlers } from './snapshot.js';
import { sourceHandlers } from './source.js';
import { sourceOverviewHandlers } from './source-overview.js';
import { taskHandlers } from './task.js';
import { timelineHandlers } from './timeline.js';
import { viewHandlers } from './view.js';
import { queryHandlers } from './query.js';
import { collectionsHandlers } from './collections.js';
import { historyHandlers } from './history.js';
import type { HandlerTable } from './types.js';

export const handlers: HandlerTable = {
  ...alertHandlers,
  ...appHandlers,
  ...auditHandlers,
  ...backupJobHandlers,
  ...captureHandlers,
  ...catalogHandlers,
  ...copyHandlers,
  ...exportHandlers,
  ...importHandlers,
  ...incidentHandlers,
  ...localMongodHandlers,
  ...policyHandlers,
  ...repoHandlers,
  ...restoreHandlers,
  ...restoreInPlaceHandlers,
  ...restoreTestHandlers,
  ...retentionHandlers,
  ...segmentHandlers,
  ...settingsHandlers,
  ...snapshotHandlers,
  ...sourceHandlers,
  ...sourceOverviewHandlers,
  ...taskHandlers,
  ...timelineHandlers,
  ...viewHandlers,
  ...queryHandlers,
  ...collectionsHandlers,
  ...historyHandlers,
};
