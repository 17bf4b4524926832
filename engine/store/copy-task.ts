/**
 * The secondary copy of one repository as a task: every copy location in
 * turn; COPY_FAILING is raised when the task fails and resolved when a run
 * copies everything. Used by `copy run` and by the scheduler's hourly pass.
 */
import { ApiError } from '../errors.js';
import type { CatalogDb } from '../catalog/open-catalog.js';
import type { EventBus } from '../events.js';
import { resolveAlerts } from '../catalog/alerts.js';
import { copyTargets } from '../catalog/copy-targets.js';
import { raiseAlert } from '../schedule/alerts.js';
import type { Task } from '../api/schemas.js';
import type { TaskRunner } from '../tasks/task-runner.js';
import { runSecondaryCopy } from './secondary-copy.js';
import type { StoreRegistry } from './store-registry.js';

export interface CopyTaskDeps {
  readonly catalog: CatalogDb;
  readonly events: EventBus;
  readonly tasks: TaskRunner;
  readonly stores: StoreRegistry;
}

/** Starts the copy task; throws (before any task exists) when the repository cannot be opened or has no copy location. */
export async function startCopyTask(deps: CopyTaskDeps, repository?: string): Promise<Task> {
  const { catalog, events, tasks, stores } = deps;
  const store = await stores.get(repository);
  const targets = copyTargets(catalog, store.repo.id);
  if (targets.length === 0)
    throw new ApiError('NOT_FOUND', 'No secondary copy location: add one with `copy add --path P`.');
  return tasks.start('copy.run', async (ctx) => {
    try {
      const reports = [];
      for (const t of targets) reports.push(await runSecondaryCopy(catalog, store.repo, t, ctx));
      const failed = reports.flatMap((r) => r.failed);
      if (failed.length)
        throw new ApiError('UNAVAILABLE', `${failed.length} file(s) could not be copied.`, { reports });
      resolveAlerts(catalog, null, 'COPY_FAILING');
      return reports;
    } catch (err) {
      if ((err as ApiError).code !== 'CANCELLED') {
        raiseAlert(catalog, events, {
          sourceId: null,
          kind: 'COPY_FAILING',
          severity: 'warning',
          message: `Secondary copy of ${store.repo.root} failed: ${(err as Error).message}`,
        });
      }
      throw err;
    }
  });
}
