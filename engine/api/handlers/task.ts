import type { PartialHandlers } from './types.js';

export const taskHandlers: PartialHandlers<'task.list' | 'task.get' | 'task.cancel'> = {
  'task.list': (engine, { state }) => engine.tasks.list(state),
  'task.get': (engine, { taskId }) => engine.tasks.get(taskId),
  'task.cancel': (engine, { taskId }) => engine.tasks.cancel(taskId),
};
