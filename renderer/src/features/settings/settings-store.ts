/** Settings of this workstation and the registered repositories (Settings section). */
import { create } from 'zustand';
import type { CommandInput, CommandOutput } from '../../../../engine/api/contract';
import { engine, errorMessage, useConnection } from '../../app/connection-store';

export type Settings = CommandOutput<'settings.get'>;
export type RepositoryInfo = CommandOutput<'repo.info'>;

interface SettingsSlice {
  settings: Settings | null;
  repositories: RepositoryInfo[] | null;
  repositoriesError: string | null;
  load(): Promise<void>;
  /** From the `settings.changed` event: a change made through any door (another window, the CLI). */
  changed(settings: Settings): void;
  change(change: CommandInput<'settings.set'>): Promise<void>;
  loadRepositories(): Promise<void>;
  /** Resolves with an error message, or null when unlocked. */
  unlockRepository(repository: string, passphrase: string): Promise<string | null>;
}

export const useSettings = create<SettingsSlice>((set, get) => ({
  settings: null,
  repositories: null,
  repositoriesError: null,

  async load() {
    try {
      set({ settings: await engine().invoke('settings.get', {}) });
    } catch (err) {
      useConnection.getState().reportError(err);
    }
  },
  changed: (settings) => set({ settings }),
  async change(change) {
    try {
      set({ settings: await engine().invoke('settings.set', change) });
    } catch (err) {
      useConnection.getState().reportError(err);
    }
  },
  async loadRepositories() {
    try {
      set({ repositories: await engine().invoke('repo.list', {}), repositoriesError: null });
    } catch (err) {
      set({ repositoriesError: errorMessage(err) });
    }
  },
  async unlockRepository(repository, passphrase) {
    try {
      await engine().invoke('repo.unlock', { repository, passphrase });
      await get().loadRepositories();
      return null;
    } catch (err) {
      return errorMessage(err);
    }
  },
}));
