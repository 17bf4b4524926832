/** Every command's implementation, checked against the contract: a missing one fails to compile. */
import { appHandlers } from './app.js';
import { taskHandlers } from './task.js';
import { settingsHandlers } from './settings.js';
import { repositoryHandlers } from './repository.js';
import { coverageHandlers } from './coverage.js';
import { timelineHandlers } from './timeline.js';
import { restoreRunHandlers } from './restore-run.js';
import { retentionHandlers } from './retention.js';
import { copyHandlers } from './copy.js';
import { sourceHandlers } from './sources.js';
import { captureHandlers } from './capture.js';
import { backupJobHandlers } from './backup-jobs.js';
import type { HandlerTable } from './types.js';

export const handlers: HandlerTable = {
  ...appHandlers,
  ...settingsHandlers,
  ...taskHandlers,
  ...repositoryHandlers,
  ...coverageHandlers,
  ...timelineHandlers,
  ...restoreRunHandlers,
  ...retentionHandlers,
  ...copyHandlers,
  ...sourceHandlers,
  ...captureHandlers,
  ...backupJobHandlers,
};
