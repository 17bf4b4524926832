/** export.dump: a restore point as mongodump output (engine/dump/export-dump.ts), run as a task. */
import { getSourceByName } from '../../catalog/sources.js';
import { exportDump } from '../../dump/export-dump.js';
import type { StoreRegistry } from '../../store/store-registry.js';
import type { CatalogDb } from '../../catalog/open-catalog.js';
import type { TaskRunner } from '../../tasks/task-runner.js';
import type { CommandParsedInput } from '../contract.js';
import type { PartialHandlers } from './types.js';

/** The services an export needs, and no more. */
export interface ExportServices {
  catalog: CatalogDb;
  stores: StoreRegistry;
  tasks: TaskRunner;
}

export async function startExport(
  svc: ExportServices,
  { source, ...input }: CommandParsedInput<'export.dump'>,
) {
  const row = getSourceByName(svc.catalog, source);
  const store = await svc.stores.get(row.repository_id);
  store.repo.key(); // LOCKED now rather than inside the task
  const task = svc.tasks.start('export.dump', (ctx) => exportDump(store, row.id, input, ctx));
  return { taskId: task.taskId };
}

export const exportHandlers: PartialHandlers<'export.dump'> = {
  'export.dump': (engine, input) => startExport(engine, input),
};
