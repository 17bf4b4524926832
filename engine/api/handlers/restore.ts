import { parseRestorePoint, planRestore } from '../../restore/planner.js';
import { getSourceByName } from '../../catalog/sources.js';
import type { Services } from '../../services.js';
import { restorePlanView } from '../views.js';
import type { PartialHandlers } from './types.js';

export const restoreHandlers: PartialHandlers<'restore.plan', Pick<Services, 'catalog' | 'stores'>> = {
  'restore.plan': async (svc, { source, at }) => {
    const point = parseRestorePoint(at);
    const s = getSourceByName(svc.catalog, source);
    await svc.stores.get(s.repository_id); // reconciled before answering
    return restorePlanView(s.name, at, planRestore(svc.catalog, s.id, point));
  },
};
