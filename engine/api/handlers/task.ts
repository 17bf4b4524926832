import type { Services } from '../../services.js';
import type { PartialHandlers } from './types.js';

export const taskHandlers: PartialHandlers<
  'task.list' | 'task.get' | 'task.cancel',
  Pick<Services, 'tasks'>
> = {
  'task.list': (svc, { state }) => svc.tasks.list(state),
  'task.get': (svc, { taskId }) => svc.tasks.get(taskId),
  'task.cancel': (svc, { taskId }) => svc.tasks.cancel(taskId),
};
