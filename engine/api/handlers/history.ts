import { getSourceByName } from '../../catalog/sources.js';
import type { Services } from '../../services.js';
import { documentHistory } from '../../views/history.js';
import { historyWindow } from '../../views/history-window.js';
import { planFor } from '../../views/point-view.js';
import { parseId } from '../../views/query-input.js';
import { documentByIdKey } from '../../views/query.js';
import { historyView } from '../views.js';
import { pointOf } from './restore.js';
import type { PartialHandlers } from './types.js';

export const historyHandlers: PartialHandlers<
  'history.get',
  Pick<Services, 'catalog' | 'stores' | 'views'>
> = {
  'history.get': async (svc, input) => {
    const idDoc = parseId(input.id);
    const source = getSourceByName(svc.catalog, input.source);
    const store = await svc.stores.get(source.repository_id);
    const to = input.to ?? 'latest';
    const plan = planFor(svc, source.id, to, pointOf(svc.catalog, source, to));
    const from = input.from
      ? planFor(svc, source.id, input.from, pointOf(svc.catalog, source, input.from)).bound
      : null;
    const window = historyWindow(svc.catalog, source.id, plan);
    const repoId = store.repo.id;
    // A view at the window's snapshot point gives the starting version without reading the snapshot.
    const snapView = svc.views.existing(source.id, window.snapshot.id, window.snapshot.consistentTs);
    const atConsistent = snapView
      ? (aliases: Set<string>, key: Buffer) => documentByIdKey(svc.views.open(snapView), aliases, key)
      : null;
    // Read between segment reads: not moved in place meanwhile.
    const release = snapView ? svc.views.lease(snapView.id) : () => undefined;
    let result: Awaited<ReturnType<typeof documentHistory>>;
    try {
      result = await documentHistory(
        store.repo,
        window,
        input.ns,
        idDoc,
        {
          indexed: (path, payload) => svc.views.segmentIndexed(repoId, path, payload),
          touching: (h) => svc.views.segmentsTouching(repoId, h),
          record: (path, payload, ids) =>
            svc.views.recordSegment(repoId, path, ids.hashes, ids.commands, payload),
        },
        from,
        atConsistent,
      );
    } finally {
      release();
    }
    return historyView(source.name, input.ns, input.id, from, plan.bound, result);
  },
};
