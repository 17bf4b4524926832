import { getSourceByName } from '../../catalog/sources.js';
import { heldBytesByDay, sourceStorage, storageSplit, storedBytesByDay } from '../../catalog/storage.js';
import { getBackupJob } from '../../schedule/backup-jobs.js';
import { nextScheduledSnapshot } from '../../schedule/next-snapshot.js';
import { windowCoverage } from '../../timeline/window-coverage.js';
import { sourceOverviewView } from '../views.js';
import type { Services } from '../../services.js';
import type { PartialHandlers } from './types.js';

export const sourceOverviewHandlers: PartialHandlers<
  'source.overview',
  Pick<Services, 'catalog' | 'stores'>
> = {
  'source.overview': async (svc, { source, days }) => {
    const row = getSourceByName(svc.catalog, source);
    await svc.stores.get(row.repository_id); // reconciled before answering
    const now = new Date();
    const job = getBackupJob(svc.catalog, row.id);
    const nowT = Math.floor(now.getTime() / 1000);
    const fromT = nowT - job.policy.pitrWindowHours * 3600;
    const window = windowCoverage(svc.catalog, row.id, fromT, nowT, now);
    // The trend's first day starts at 00:00 UTC, `days - 1` days before today.
    const firstDayT = (Math.floor(nowT / 86_400) - (days - 1)) * 86_400;
    return sourceOverviewView({
      source: row.name,
      job,
      next: job.state === 'active' ? nextScheduledSnapshot(job.policy, now) : null,
      window: { fromT, toT: nowT, coverage: window },
      storage: { ...sourceStorage(svc.catalog, row.id), ...storageSplit(svc.catalog, row.id) },
      days: storedBytesByDay(svc.catalog, row.id, firstDayT),
      held: heldBytesByDay(svc.catalog, row.id, new Date(firstDayT * 1000).toISOString().slice(0, 10), days),
      firstDayT,
      dayCount: days,
    });
  },
};
