import { ApiError } from '../../errors.js';
import { getSourceByName } from '../../catalog/sources.js';
import { stoppedMetrics } from '../../source/oplog-capture.js';
import type { Services } from '../../services.js';
import { metricsView } from '../views.js';
import type { PartialHandlers } from './types.js';

export const captureHandlers: PartialHandlers<
  'capture.start' | 'capture.stop' | 'capture.pause' | 'capture.resume',
  Pick<Services, 'catalog' | 'capture' | 'protection' | 'mode'>
> = {
  'capture.start': async (svc, { source }) => {
    if (svc.mode === 'cli') {
      throw new ApiError(
        'INVALID_INPUT',
        'Continuous capture runs in the desktop app or the headless server (npm run serve); a CLI command ends when it returns.',
      );
    }
    const row = getSourceByName(svc.catalog, source);
    return metricsView((await svc.capture.start(row)).metrics);
  },
  'capture.stop': async (svc, { source }) => {
    const row = getSourceByName(svc.catalog, source);
    const c = svc.capture.get(row.id);
    await svc.capture.stop(row.id);
    return metricsView(c?.metrics ?? stoppedMetrics());
  },
  'capture.pause': async (svc, { source }) =>
    metricsView(await svc.protection.pauseCapture(getSourceByName(svc.catalog, source))),
  'capture.resume': (svc, { source }) =>
    metricsView(svc.protection.resumeCapture(getSourceByName(svc.catalog, source))),
};
