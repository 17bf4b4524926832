import { addCopyTarget } from '../../store/secondary-copy.js';
import { startCopyTask } from '../../store/copy-task.js';
import type { Services } from '../../services.js';
import type { PartialHandlers } from './types.js';

export const copyHandlers: PartialHandlers<
  'copy.add' | 'copy.run',
  Pick<Services, 'catalog' | 'events' | 'tasks' | 'stores'>
> = {
  'copy.add': async (svc, { path, repository }) => {
    const store = await svc.stores.get(repository);
    const t = addCopyTarget(svc.catalog, store.repo, path);
    return { id: t.id, path: t.path };
  },
  'copy.run': async (svc, { repository }) => ({ taskId: (await startCopyTask(svc, repository)).taskId }),
};
