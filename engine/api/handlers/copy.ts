import { ApiError } from '../../errors.js';
import { raiseAlert, resolveAlerts } from '../../schedule/alerts.js';
import { addCopyTarget, copyTargets, runSecondaryCopy } from '../../store/secondary-copy.js';
import type { PartialHandlers } from './types.js';

export const copyHandlers: PartialHandlers<'copy.add' | 'copy.run'> = {
  'copy.add': async (engine, { path, repository }) => {
    const store = await engine.stores.get(repository);
    const t = addCopyTarget(engine.catalog, store.repo, path);
    return { id: t.id, path: t.path };
  },
  'copy.run': async (engine, { repository }) => {
    const store = await engine.stores.get(repository);
    const targets = copyTargets(engine.catalog, store.repo.id);
    if (targets.length === 0)
      throw new ApiError('NOT_FOUND', 'No secondary copy location: add one with `copy add --path P`.');
    const job = engine.tasks.start('copy.run', async (ctx) => {
      try {
        const reports = [];
        for (const t of targets) reports.push(await runSecondaryCopy(engine.catalog, store.repo, t, ctx));
        const failed = reports.flatMap((r) => r.failed);
        if (failed.length)
          throw new ApiError('UNAVAILABLE', `${failed.length} file(s) could not be copied.`, { reports });
        resolveAlerts(engine.catalog, null, 'COPY_FAILING');
        return reports;
      } catch (err) {
        if ((err as ApiError).code !== 'CANCELLED') {
          raiseAlert(engine.catalog, engine.events, {
            sourceId: null,
            kind: 'COPY_FAILING',
            severity: 'warning',
            message: `Secondary copy of ${store.repo.root} failed: ${(err as Error).message}`,
          });
        }
        throw err;
      }
    });
    return { taskId: job.taskId };
  },
};
