import { readSettings, writeSettings } from '../../catalog/settings-store.js';
import type { PartialHandlers } from './types.js';

export const settingsHandlers: PartialHandlers<'settings.get' | 'settings.set'> = {
  'settings.get': (engine) => readSettings(engine.catalog),
  'settings.set': (engine, change) => {
    const settings = writeSettings(engine.catalog, change);
    engine.events.publish('settings.changed', settings);
    return settings;
  },
};
