import { getSourceByName } from '../../catalog/sources.js';
import { ApiError } from '../../errors.js';
import { getBackupJob } from '../../schedule/backup-jobs.js';
import { buildTimeline } from '../../timeline/timeline.js';
import { timelineView } from '../views.js';
import type { PartialHandlers } from './types.js';

/** Snapshots are listed one by one while the range holds at most this many (a marker per snapshot). */
const MAX_MARKERS = 2_000;
/** Longer ranges are refused: a century is far beyond any retention. */
const MAX_RANGE_SECONDS = 100 * 366 * 86_400;

export const timelineHandlers: PartialHandlers<'timeline.get'> = {
  'timeline.get': async (engine, { source, from, to, width }) => {
    const fromT = Math.floor(Date.parse(from) / 1000);
    const toT = Math.ceil(Date.parse(to) / 1000);
    if (toT <= fromT)
      throw new ApiError('INVALID_INPUT', 'The range must end after it starts (at least one second).');
    if (toT - fromT > MAX_RANGE_SECONDS)
      throw new ApiError('INVALID_INPUT', 'The range may span at most 100 years.');
    const s = getSourceByName(engine.catalog, source);
    await engine.stores.get(s.repository_id); // reconciled before answering
    const timeline = buildTimeline(engine.catalog, s.id, {
      fromT,
      toT,
      width,
      now: new Date(),
      pitrWindowHours: getBackupJob(engine.catalog, s.id).policy.pitrWindowHours,
      maxMarkers: MAX_MARKERS,
    });
    return timelineView(s.name, fromT, toT, width, timeline);
  },
};
