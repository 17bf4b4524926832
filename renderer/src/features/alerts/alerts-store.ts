/** Every alert the engine raised, open and resolved (Alerts section, and the count in the navigation). */
import { create } from 'zustand';
import type { CommandOutput } from '../../../../engine/api/contract';
import { engine, errorMessage } from '../../app/connection-store';

export type AlertView = CommandOutput<'alert.list'>[number];

interface AlertsSlice {
  /** Newest first; null until the first answer. */
  alerts: AlertView[] | null;
  error: string | null;
  load(): Promise<void>;
  /** Acknowledges an alert; resolves with an error message, or null. */
  resolve(id: number): Promise<string | null>;
}

export const useAlerts = create<AlertsSlice>((set, get) => ({
  alerts: null,
  error: null,
  async load() {
    try {
      set({ alerts: await engine().invoke('alert.list', {}), error: null });
    } catch (err) {
      set({ error: errorMessage(err) });
    }
  },
  async resolve(id) {
    try {
      const resolved = await engine().invoke('alert.resolve', { id });
      set((s) => ({ alerts: s.alerts?.map((a) => (a.id === id ? resolved : a)) ?? null }));
      void get().load();
      return null;
    } catch (err) {
      return errorMessage(err);
    }
  },
}));

/** How many alerts are open (the badge on the Alerts tab). */
export const useOpenAlertCount = () => useAlerts((s) => s.alerts?.filter((a) => !a.resolvedAt).length ?? 0);
