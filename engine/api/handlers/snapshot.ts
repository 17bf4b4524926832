import { snapshotsOfSource } from '../../catalog/snapshots.js';
import { getSourceByName } from '../../catalog/sources.js';
import type { Services } from '../../services.js';
import { snapshotView } from '../views.js';
import type { PartialHandlers } from './types.js';

export const snapshotHandlers: PartialHandlers<
  'snapshot.take' | 'snapshot.list' | 'snapshot.delete',
  Pick<Services, 'catalog' | 'stores' | 'capture' | 'actor'>
> = {
  'snapshot.take': async (svc, { source, ...opts }) => {
    const row = getSourceByName(svc.catalog, source);
    (await svc.stores.get(row.repository_id)).repo.key(); // LOCKED now rather than inside the task
    const task = svc.capture.startSnapshot(row, opts);
    return { taskId: task.taskId };
  },
  'snapshot.list': async (svc, { source }) => {
    const s = getSourceByName(svc.catalog, source);
    await svc.stores.get(s.repository_id);
    return snapshotsOfSource(svc.catalog, s.id).map(snapshotView);
  },
  'snapshot.delete': async (svc, { id, repository }) => {
    await (await svc.stores.get(repository)).delete('snapshot', id, svc.actor);
    return { deleted: id };
  },
};
