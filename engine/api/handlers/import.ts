/**
 * import.dump: mongodump output becomes a snapshot (engine/dump/import-dump.ts),
 * run as a task. A source that does not exist is created as an imported
 * source; if the import fails, that new source is removed again.
 */
import { rm } from 'node:fs/promises';
import { ApiError } from '../../errors.js';
import { audit } from '../../catalog/audit.js';
import type { CatalogDb } from '../../catalog/open-catalog.js';
import { getRepository } from '../../catalog/repositories.js';
import { deleteSourceRow, findSourceByName } from '../../catalog/sources.js';
import { importDump, openDump } from '../../dump/import-dump.js';
import type { StoreRegistry } from '../../store/store-registry.js';
import type { TaskRunner } from '../../tasks/task-runner.js';
import { setBackupJobState } from '../../schedule/backup-jobs.js';
import type { CommandParsedInput } from '../contract.js';
import type { PartialHandlers } from './types.js';

export interface ImportServices {
  catalog: CatalogDb;
  stores: StoreRegistry;
  tasks: TaskRunner;
  actor: string;
}

export const IMPORTED_REASON = 'Imported from a mongodump: no connection, nothing to capture.';

export async function startImport(svc: ImportServices, input: CommandParsedInput<'import.dump'>) {
  if (!!input.dir === !!input.archive)
    throw new ApiError(
      'INVALID_INPUT',
      'Give exactly one of --dir (a mongodump directory) or --archive (a file).',
    );
  const existing = findSourceByName(svc.catalog, input.source);
  const repositoryId = existing?.repository_id ?? getRepository(svc.catalog, input.repository).id;
  const store = await svc.stores.get(repositoryId);
  store.repo.key();
  const label = (input.dir ?? input.archive)!;
  const task = svc.tasks.start('import.dump', async (ctx) => {
    // Opening reads the directory listing or the archive prelude: a bad dump fails before any source exists.
    const dump = await openDump(input);
    const sourceId = existing?.id ?? (await store.ensureSource(input.source, null, { imported: true }));
    if (!existing) setBackupJobState(svc.catalog, sourceId, 'stopped', IMPORTED_REASON);
    try {
      const summary = await importDump(store, sourceId, dump, label, ctx);
      audit(svc.catalog, {
        actor: svc.actor,
        action: 'import.dump',
        target: input.source,
        outcome: 'done',
        details: { from: label, snapshotId: summary.snapshotId },
      });
      return { source: input.source, sourceCreated: !existing, ...summary };
    } catch (err) {
      if (!existing) {
        deleteSourceRow(svc.catalog, sourceId);
        await rm(store.repo.sourceDir(sourceId), { recursive: true, force: true });
      }
      throw err;
    }
  });
  return { taskId: task.taskId };
}

export const importHandlers: PartialHandlers<'import.dump'> = {
  'import.dump': (engine, input) => startImport(engine, input),
};
