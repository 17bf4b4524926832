import { ApiError } from '../../errors.js';
import { listRepositories } from '../../catalog/repositories.js';
import { Repository } from '../../repo/repository.js';
import { rebuildFromRepository } from '../../store/reconcile.js';
import type { Services } from '../../services.js';
import type { PartialHandlers } from './types.js';

export const catalogHandlers: PartialHandlers<
  'catalog.rebuild',
  Pick<Services, 'catalog' | 'stores' | 'tasks'>
> = {
  'catalog.rebuild': async (svc, { repositoryPaths }) => {
    const paths = repositoryPaths ?? listRepositories(svc.catalog).map((r) => r.path);
    if (paths.length === 0)
      throw new ApiError('NOT_FOUND', 'No repository to rebuild from: give --repository-paths.');
    const repos = paths.map((p) => Repository.open(p));
    // Lock every repository first (CONFLICT now, not inside the task): rebuilding removes
    // temporaries, which only the repository's one writer may do.
    const cleanable = repos.map((r) => svc.stores.hold(r));
    const task = svc.tasks.start('catalog.rebuild', async (ctx) => {
      ctx.progress({ done: 0, total: repos.length, unit: 'repositories', message: 'Rebuilding the catalog' });
      for (const r of repos) svc.stores.forget(r.id);
      const reports = await rebuildFromRepository(svc.catalog, repos, {
        removeTemporaries: cleanable.every(Boolean),
      });
      for (const r of repos) await svc.stores.attach(r);
      return reports;
    });
    return { taskId: task.taskId };
  },
};
