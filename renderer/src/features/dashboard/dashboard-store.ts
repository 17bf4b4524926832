/** The live protection state of every source (Dashboard section). */
import { create } from 'zustand';
import type { CommandOutput } from '../../../../engine/api/contract';
import { engine, errorMessage } from '../../app/connection-store';

export type SourceStatus = CommandOutput<'source.status'>;

interface DashboardSlice {
  /** By source name; a source missing here has not answered yet. */
  statuses: Record<string, SourceStatus>;
  error: string | null;
  /** One pass over the given sources, all asked at once; replaces the whole map so removed sources go. */
  loadStatuses(sources: readonly string[]): Promise<void>;
}

export const useDashboard = create<DashboardSlice>((set) => ({
  statuses: {},
  error: null,
  async loadStatuses(sources) {
    try {
      const client = engine();
      const answers = await Promise.all(sources.map((source) => client.invoke('source.status', { source })));
      set({ statuses: Object.fromEntries(answers.map((s) => [s.source, s])), error: null });
    } catch (err) {
      set({ error: errorMessage(err) });
    }
  },
}));
