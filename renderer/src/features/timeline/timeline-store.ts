/**
 * The Timeline section's state: which source's snapshots and oplog coverage
 * are drawn, and the instant picked on the axis (a restore point to plan).
 * Filled in by the timeline issue; the room is here so that it lands beside
 * its section.
 */
import { create } from 'zustand';

interface TimelineSlice {
  /** Source name shown; null: the first one. */
  source: string | null;
  /** The instant picked on the axis (ISO, UTC), to plan a restore to. */
  picked: string | null;
  setSource(source: string | null): void;
  pick(iso: string | null): void;
}

export const useTimeline = create<TimelineSlice>((set) => ({
  source: null,
  picked: null,
  setSource: (source) => set({ source, picked: null }),
  pick: (picked) => set({ picked }),
}));
