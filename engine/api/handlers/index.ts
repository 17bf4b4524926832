/** Every command's implementation, checked against the contract: a missing one fails to compile. */
import { appHandlers } from './app.js';
import { jobHandlers } from './jobs.js';
import { settingsHandlers } from './settings.js';
import type { HandlerTable } from './types.js';

export const handlers: HandlerTable = {
  ...appHandlers,
  ...settingsHandlers,
  ...jobHandlers,
};
