import { getSourceByName } from '../../catalog/sources.js';
import type { Services } from '../../services.js';
import { listDatabases } from '../../views/collections.js';
import { withView } from '../../views/point-view.js';
import { viewAnswer } from '../views.js';
import { pointOf } from './restore.js';
import type { PartialHandlers } from './types.js';

export const collectionsHandlers: PartialHandlers<
  'collections.list',
  Pick<Services, 'catalog' | 'stores' | 'views'>
> = {
  'collections.list': async (svc, { source, at }) => {
    const point = pointOf(svc.catalog, getSourceByName(svc.catalog, source), at);
    return withView(svc, source, at, point, (v) => ({
      view: viewAnswer(v.row, v.how),
      databases: listDatabases(v.db),
    }));
  },
};
