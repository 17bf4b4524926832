/**
 * The Incidents list's state: what the engine's finder for destructive
 * operations found for the chosen source (incident.list), read when the
 * panel opens, when the source changes, on Refresh, and again on the
 * engine's `incident.found` event for that source (app/live-updates.ts).
 */
import { create } from 'zustand';
import type { CommandOutput } from '../../../../engine/api/contract';
import { engine, errorMessage } from '../../app/connection-store';

export type IncidentList = CommandOutput<'incident.list'>;
export type IncidentView = IncidentList['incidents'][number];

interface IncidentsSlice {
  source: string | null;
  /** The answer for `source`; null until it arrives. */
  list: IncidentList | null;
  loading: boolean;
  error: string | null;
  /** Chooses the source and reads its findings. */
  select(source: string | null): Promise<void>;
  reload(): Promise<void>;
}

export const useIncidents = create<IncidentsSlice>((set, get) => ({
  source: null,
  list: null,
  loading: false,
  error: null,
  async select(source) {
    set({ source, list: null, error: null });
    await get().reload();
  },
  async reload() {
    const source = get().source;
    if (!source) return;
    set({ loading: true });
    try {
      const list = await engine().invoke('incident.list', { source, newest: true });
      if (get().source === source) set({ list, error: null, loading: false });
    } catch (err) {
      if (get().source === source) set({ error: errorMessage(err), loading: false });
    }
  },
}));
