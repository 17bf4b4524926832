import { snapshotById, snapshotsOfSource } from '../../catalog/snapshots.js';
import { ApiError } from '../../errors.js';
import { readManifest } from '../../repo/snapshot-files.js';
import { getSourceByName } from '../../catalog/sources.js';
import type { Services } from '../../services.js';
import { snapshotNamespacesView, snapshotView } from '../views.js';
import type { PartialHandlers } from './types.js';

export const snapshotHandlers: PartialHandlers<
  'snapshot.take' | 'snapshot.list' | 'snapshot.delete' | 'snapshot.namespaces',
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
  'snapshot.namespaces': async (svc, { source, snapshot }) => {
    const s = getSourceByName(svc.catalog, source);
    const store = await svc.stores.get(s.repository_id);
    const row = snapshotById(svc.catalog, snapshot);
    if (!row || row.source_id !== s.id)
      throw new ApiError('NOT_FOUND', `${source} has no snapshot ${snapshot}.`);
    if (row.status !== 'complete')
      throw new ApiError('CONFLICT', `Snapshot ${snapshot} is ${row.status}; its manifest cannot be read.`);
    // Read and checked like every manifest (checksum, place in the tree): the picker shows only what a restore would find.
    return snapshotNamespacesView(await readManifest(store.repo, row.path));
  },
  'snapshot.delete': async (svc, { id, repository }) => {
    await (await svc.stores.get(repository)).delete('snapshot', id, svc.actor);
    return { deleted: id };
  },
};
