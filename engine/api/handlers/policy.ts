import { getSourceByName } from '../../catalog/sources.js';
import { completeSnapshotsOfSource, tieredSnapshotStarts } from '../../catalog/snapshots.js';
import { getBackupJob, mergePolicyChange } from '../../schedule/backup-jobs.js';
import { measuredSizes } from '../../schedule/measured-sizes.js';
import { validatePolicy } from '../../schedule/policy.js';
import { estimateStorage, previewPolicy } from '../../schedule/preview.js';
import { lastTierRuns, retentionSnapshot } from '../../schedule/retention-rows.js';
import { policyPreviewView } from '../views.js';
import type { Services } from '../../services.js';
import type { PartialHandlers } from './types.js';

export const policyHandlers: PartialHandlers<'policy.preview', Pick<Services, 'catalog' | 'stores'>> = {
  'policy.preview': async (svc, { source, policy: change, days }) => {
    const row = getSourceByName(svc.catalog, source);
    const policy = mergePolicyChange(getBackupJob(svc.catalog, row.id).policy, change);
    await svc.stores.get(row.repository_id); // reconciled before answering
    const now = new Date();
    const snaps = completeSnapshotsOfSource(svc.catalog, row.id);
    const preview = previewPolicy(
      policy,
      snaps.map(retentionSnapshot),
      lastTierRuns(tieredSnapshotStarts(svc.catalog, row.id)),
      now,
      days,
    );
    const measured = measuredSizes(svc.catalog, row.id, snaps, now);
    const bytes = new Map(snaps.map((s) => [s.id, s.stored_bytes]));
    const basis = { ...measured, storedBytesOf: (id: string) => bytes.get(id) ?? null };
    const storage = estimateStorage(policy, preview, basis, now);
    return policyPreviewView(row.name, now, preview, storage, basis, validatePolicy(policy));
  },
};
