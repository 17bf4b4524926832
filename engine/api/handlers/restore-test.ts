import { lastRestoreOfKind } from '../../catalog/restores.js';
import { getSourceByName, listSources } from '../../catalog/sources.js';
import { getBackupJob } from '../../schedule/backup-jobs.js';
import type { Services } from '../../services.js';
import { RESTORE_TEST_KIND, startRestoreTest } from '../../verify/restore-test.js';
import { restoreTestStatusView } from '../views.js';
import type { PartialHandlers } from './types.js';

export const restoreTestHandlers: PartialHandlers<
  'restore-test.run' | 'restore-test.last',
  Pick<
    Services,
    'catalog' | 'events' | 'tasks' | 'stores' | 'secrets' | 'sourceTimeoutMs' | 'actor' | 'localMongod'
  >
> = {
  'restore-test.run': (svc, { source }) => {
    const row = getSourceByName(svc.catalog, source);
    const task = startRestoreTest(svc, row, { trigger: 'manual', actor: svc.actor });
    return { taskId: task.taskId };
  },
  'restore-test.last': (svc, { source }) => {
    const rows = source ? [getSourceByName(svc.catalog, source)] : listSources(svc.catalog);
    return rows.map((row) =>
      restoreTestStatusView(
        row,
        getBackupJob(svc.catalog, row.id),
        lastRestoreOfKind(svc.catalog, row.id, RESTORE_TEST_KIND),
      ),
    );
  },
};
