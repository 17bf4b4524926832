/** The renderer's state (zustand): connection, engine info, settings, current section. */
import { create } from 'zustand';
import type { ApiClient, ConnectionState } from '../../engine/api/client';
import type { CommandInput, CommandOutput } from '../../engine/api/contract';

export type AppInfo = CommandOutput<'app.info'>;
export type Settings = CommandOutput<'settings.get'>;
export type RepositoryInfo = CommandOutput<'repo.info'>;
export type SourceView = CommandOutput<'source.list'>[number];
export type SourceStatus = CommandOutput<'source.status'>;
export type AlertView = CommandOutput<'alert.list'>[number];
export type ProbeReportView = CommandOutput<'source.test'>;

export const SECTIONS = [
  { id: 'dashboard', label: 'Dashboard' },
  { id: 'sources', label: 'Sources' },
  { id: 'timeline', label: 'Timeline' },
  { id: 'restores', label: 'Restores' },
  { id: 'alerts', label: 'Alerts' },
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
  sources: SourceView[];
  statuses: Record<string, SourceStatus>;
  /** Every alert, newest first (open and resolved). */
  alerts: AlertView[];
  /** The last connection test of each source, by name, while the window is open. */
  probeReports: Record<string, ProbeReportView>;
  setProbeReport(source: string, report: ProbeReportView): void;
  connect(client: ApiClient): void;
  /** Sources and their live status (capture, recovery point, coverage, alerts). */
  loadSources(): Promise<void>;
  loadRepositories(): Promise<void>;
  loadAlerts(): Promise<void>;
  /** Acknowledges an alert; resolves with an error message, or null. */
  resolveAlert(id: number): Promise<string | null>;
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
  sources: [],
  statuses: {},
  alerts: [],
  probeReports: {},

  setProbeReport(source, report) {
    set((s) => ({ probeReports: { ...s.probeReports, [source]: report } }));
  },

  connect(client) {
    set({ client });
    client.onConnectionChange((connection) => {
      set({ connection });
      if (connection === 'connected') void get().refresh();
    });
    client.on('settings.changed', (settings) => set({ settings }));
    client.on('alert.raised', () => {
      void get().loadSources();
      void get().loadAlerts();
    });
    // The dashboard is live: the recovery point moves every second.
    setInterval(() => {
      if (get().connection === 'connected') {
        void get().loadSources();
        void get().loadAlerts(); // conditions that clear resolve their alerts on the engine side
      }
    }, 3000);
  },

  async loadSources() {
    const { client } = get();
    if (!client) return;
    try {
      const sources = await client.invoke('source.list', {});
      const statuses: Record<string, SourceStatus> = {};
      for (const s of sources) statuses[s.name] = await client.invoke('source.status', { source: s.name });
      set({ sources, statuses });
    } catch (err) {
      set({ lastError: (err as Error).message });
    }
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
      void get().loadSources();
      void get().loadAlerts();
    } catch (err) {
      set({ lastError: (err as Error).message });
    }
  },

  async loadAlerts() {
    const { client } = get();
    if (!client) return;
    try {
      set({ alerts: await client.invoke('alert.list', {}) });
    } catch (err) {
      set({ lastError: (err as Error).message });
    }
  },

  async resolveAlert(id) {
    const { client } = get();
    if (!client) return 'Not connected to the engine.';
    try {
      await client.invoke('alert.resolve', { id });
      await Promise.all([get().loadAlerts(), get().loadSources()]);
      return null;
    } catch (err) {
      return (err as Error).message;
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
