/**
 * The Restores section's state: restores started from this window, by task
 * id (their progress is read from the tasks slice, like every task's).
 * Filled in by the restore issues; the room is here so that they land
 * beside their section.
 */
import { create } from 'zustand';

export interface StartedRestore {
  taskId: string;
  source: string;
  /** What was asked for, as the user typed it: a snapshot id, a wall-clock second or `t:i`. */
  point: string;
}

interface RestoresSlice {
  started: StartedRestore[];
  remember(restore: StartedRestore): void;
}

export const useRestores = create<RestoresSlice>((set) => ({
  started: [],
  remember: (restore) => set((s) => ({ started: [restore, ...s.started] })),
}));
