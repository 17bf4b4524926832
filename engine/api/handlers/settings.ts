import { readSettings, writeSettings } from '../../catalog/settings-store.js';
import type { Services } from '../../services.js';
import type { PartialHandlers } from './types.js';

export const settingsHandlers: PartialHandlers<
  'settings.get' | 'settings.set',
  Pick<Services, 'catalog' | 'events'>
> = {
  'settings.get': (svc) => readSettings(svc.catalog),
  'settings.set': (svc, change) => {
    const settings = writeSettings(svc.catalog, change);
    svc.events.publish('settings.changed', settings);
    return settings;
  },
};
