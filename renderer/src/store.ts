/** The renderer's state (zustand): connection, engine info, settings, current section. */
import { create } from 'zustand';
import type { ApiClient, ConnectionState } from '../../engine/api/client';
import type { CommandInput, CommandOutput } from '../../engine/api/contract';

export type AppInfo = CommandOutput<'app.info'>;
export type Settings = CommandOutput<'settings.get'>;
export type RepositoryInfo = CommandOutput<'repo.info'>;

export const SECTIONS = [
  { id: 'dashboard', label: 'Dashboard' },
  { id: 'sources', label: 'Sources' },
  { id: 'timeline', label: 'Timeline' },
  { id: 'restores', label: 'Restores' },
  { id: 'settings', label: 'Settings' },
] as const;
export type SectionId = (typeof SECTIONS)[number]['id'];

interface AppState {
  client: ApiClient | null;
  connection: ConnectionState;
  info: AppInfo | null;
  settings: Settings | null;
  section: SectionId;
  lastError: string | null;
  repositories: RepositoryInfo[];
  connect(client: ApiClient): void;
  loadRepositories(): Promise<void>;
  /** Resolves with an error message, or null when unlocked. */
  unlockRepository(repository: string, passphrase: string): Promise<string | null>;
  refresh(): Promise<void>;
  setSection(id: SectionId): void;
  changeSettings(change: CommandInput<'settings.set'>): Promise<void>;
}

export const useApp = create<AppState>((set, get) => ({
  client: null,
  connection: 'connecting',
  info: null,
  settings: null,
  section: 'dashboard',
  lastError: null,
  repositories: [],

  connect(client) {
    set({ client });
    client.onConnectionChange((connection) => {
      set({ connection });
      if (connection === 'connected') void get().refresh();
    });
    client.on('settings.changed', (settings) => set({ settings }));
  },

  async refresh() {
    const { client } = get();
    if (!client) return;
    try {
      const [info, settings] = await Promise.all([
        client.invoke('app.info', {}),
        client.invoke('settings.get', {}),
      ]);
      set({ info, settings, lastError: null });
    } catch (err) {
      set({ lastError: (err as Error).message });
    }
  },

  async loadRepositories() {
    const { client } = get();
    if (!client) return;
    try {
      set({ repositories: await client.invoke('repo.list', {}) });
    } catch (err) {
      set({ lastError: (err as Error).message });
    }
  },

  async unlockRepository(repository, passphrase) {
    const { client } = get();
    if (!client) return 'Not connected to the engine.';
    try {
      await client.invoke('repo.unlock', { repository, passphrase });
      await get().loadRepositories();
      return null;
    } catch (err) {
      return (err as Error).message;
    }
  },

  setSection(section) {
    set({ section });
  },

  async changeSettings(change) {
    const { client } = get();
    if (!client) return;
    try {
      set({ settings: await client.invoke('settings.set', change), lastError: null });
    } catch (err) {
      set({ lastError: (err as Error).message });
    }
  },
}));
