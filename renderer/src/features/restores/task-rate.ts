/**
 * Rates and the time left of running tasks, derived from the tasks slice
 * (the one place progress comes from): the engine reports `done / total
 * unit` within the current phase (its message), so the rate is measured per
 * phase and unit, from the first sample of that phase to the last. Also the
 * phases seen so far, in order, for the progress step's list. It follows the
 * tasks slice by subscribing to it, so every screen reads the same numbers.
 */
import { create } from 'zustand';
import { useTasks, type TaskView } from '../../app/tasks-store';

interface Sample {
  at: number;
  done: number;
}

interface Track {
  phases: string[];
  key: string;
  first: Sample;
  last: Sample;
  total: number | null;
  unit: string;
}

/** Pure part, for tests: rate and time left from the first and the last sample of a phase. */
export function rateOf(
  first: Sample,
  last: Sample,
  total: number | null,
): { perSecond: number | null; etaSeconds: number | null } {
  const seconds = (last.at - first.at) / 1000;
  if (seconds < 0.5 || last.done <= first.done) return { perSecond: null, etaSeconds: null };
  const perSecond = (last.done - first.done) / seconds;
  return { perSecond, etaSeconds: total !== null ? Math.max(0, (total - last.done) / perSecond) : null };
}

/** The next track of one task after a progress it reported at `at`. */
export function nextTrack(prev: Track | undefined, task: TaskView, at: number): Track {
  const { message, unit, done, total } = task.progress;
  const phases = prev?.phases ?? [];
  const key = `${message}|${unit}`;
  const sample = { at, done };
  const samePhase = prev && prev.key === key && done >= prev.first.done;
  return {
    phases: message && !phases.includes(message) ? [...phases, message] : phases,
    key,
    first: samePhase ? prev.first : sample,
    last: sample,
    total,
    unit,
  };
}

const useTracks = create<{ tracks: Record<string, Track> }>(() => ({ tracks: {} }));

useTasks.subscribe((s, before) => {
  if (s.tasks === before.tasks) return;
  const now = Date.now();
  const tracks = { ...useTracks.getState().tracks };
  let changed = false;
  for (const [id, task] of Object.entries(s.tasks)) {
    if (task === before.tasks[id] && tracks[id]) continue;
    tracks[id] = nextTrack(tracks[id], task, now);
    changed = true;
  }
  if (changed) useTracks.setState({ tracks });
});

export interface TaskRate {
  phases: string[];
  perSecond: number | null;
  unit: string;
  etaSeconds: number | null;
}

const NONE: TaskRate = { phases: [], perSecond: null, unit: '', etaSeconds: null };

export function useTaskRate(taskId: string | null): TaskRate {
  const track = useTracks((s) => (taskId ? s.tracks[taskId] : undefined));
  if (!track) return NONE;
  return { phases: track.phases, unit: track.unit, ...rateOf(track.first, track.last, track.total) };
}
