import type { PartialHandlers } from './types.js';

export const jobHandlers: PartialHandlers<'job.list' | 'job.get' | 'job.cancel'> = {
  'job.list': (engine, { state }) => engine.jobs.list(state),
  'job.get': (engine, { jobId }) => engine.jobs.get(jobId),
  'job.cancel': (engine, { jobId }) => engine.jobs.cancel(jobId),
};
