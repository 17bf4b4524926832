import { getSourceByName } from '../../catalog/sources.js';
import type { Services } from '../../services.js';
import { pointView } from '../../views/point-view.js';
import { pointViewInfo } from '../views.js';
import { pointOf } from './restore.js';
import type { PartialHandlers } from './types.js';

export const viewHandlers: PartialHandlers<
  'view.build' | 'view.list' | 'view.drop',
  Pick<Services, 'catalog' | 'stores' | 'tasks' | 'views'>
> = {
  'view.build': async (svc, { source, at }) => {
    const row = getSourceByName(svc.catalog, source);
    const point = pointOf(svc.catalog, row, at);
    await svc.stores.get(row.repository_id); // a locked repository refuses before the task starts
    const task = svc.tasks.start('view.build', async (ctx) => {
      const v = await pointView(svc, source, at, point, ctx);
      return { ...pointViewInfo(v.row), how: v.how };
    });
    return { taskId: task.taskId };
  },
  'view.list': (svc) => (svc.views.exists() ? svc.views.list().map(pointViewInfo) : []),
  'view.drop': (svc, { id }) => {
    svc.views.drop(id);
    return { dropped: id };
  },
};
