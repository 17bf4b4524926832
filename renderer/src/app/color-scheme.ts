/**
 * Mantine's colour scheme (light, dark, or "auto": follow the system), kept
 * in the engine's settings (`theme`) instead of localStorage, so that it is
 * the same in the desktop window and the browser, and follows a change made
 * through any door (`settings.changed`).
 */
import type { MantineColorScheme, MantineColorSchemeManager } from '@mantine/core';
import { useSettings, type Settings } from '../features/settings/settings-store';

type Theme = Settings['theme'];

export const toScheme = (theme: Theme | undefined): MantineColorScheme =>
  !theme || theme === 'system' ? 'auto' : theme;
export const toTheme = (scheme: MantineColorScheme): Theme => (scheme === 'auto' ? 'system' : scheme);

export function settingsColorSchemeManager(): MantineColorSchemeManager {
  let unsubscribe: (() => void) | null = null;
  return {
    get: (fallback) => {
      const theme = useSettings.getState().settings?.theme;
      return theme ? toScheme(theme) : fallback;
    },
    set: (scheme) => {
      const { settings, change } = useSettings.getState();
      // Mantine calls set() again for a change that came from the engine: do not write it back.
      if (settings && settings.theme !== toTheme(scheme)) void change({ theme: toTheme(scheme) });
    },
    subscribe: (onUpdate) => {
      unsubscribe = useSettings.subscribe((s, prev) => {
        const theme = s.settings?.theme;
        if (theme && theme !== prev.settings?.theme) onUpdate(toScheme(theme));
      });
    },
    unsubscribe: () => {
      unsubscribe?.();
      unsubscribe = null;
    },
    clear: () => {},
  };
}
