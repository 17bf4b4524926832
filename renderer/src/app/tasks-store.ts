/**
 * Long work the engine runs (snapshots, verification, copies, later
 * restores) is a task. This slice follows `task.progress` and
 * `task.finished` and is the one place a screen reads progress from: a
 * screen that started a task keeps its id and asks `useTask(id)`.
 */
import { create } from 'zustand';
import type { CommandOutput, EventPayload } from '../../../engine/api/contract';
import { engine, useConnection } from './connection-store';

export type TaskView = CommandOutput<'task.get'>;
export type TaskState = TaskView['state'];

interface TasksSlice {
  /** By task id; what this window has seen since it opened, newest work included. */
  tasks: Record<string, TaskView>;
  /** Catches up with tasks that started before this window connected (or while it was disconnected). */
  load(): Promise<void>;
  /** A task this window started: known at once as running, before its first progress event. */
  started(taskId: string, kind: string): void;
  onProgress(e: EventPayload<'task.progress'>): void;
  onFinished(e: EventPayload<'task.finished'>): void;
  cancel(taskId: string): Promise<void>;
}

const blankProgress = { done: 0, total: null, unit: '', message: '' };

export const useTasks = create<TasksSlice>((set, get) => ({
  tasks: {},

  async load() {
    try {
      const list = await engine().invoke('task.list', {});
      set((s) => {
        const tasks = { ...s.tasks };
        for (const t of list) tasks[t.taskId] = t;
        return { tasks };
      });
    } catch (err) {
      useConnection.getState().reportError(err);
    }
  },

  started(taskId, kind) {
    if (get().tasks[taskId]) return; // an event was faster than the command's answer
    set((s) => ({
      tasks: {
        ...s.tasks,
        [taskId]: {
          taskId,
          kind,
          state: 'running',
          progress: blankProgress,
          startedAt: new Date().toISOString(),
          finishedAt: null,
          error: null,
        },
      },
    }));
  },

  onProgress({ taskId, kind, progress }) {
    set((s) => {
      const known = s.tasks[taskId];
      // Progress after the end (events can cross) never reopens a finished task.
      if (known && known.state !== 'running') return s;
      return {
        tasks: {
          ...s.tasks,
          [taskId]: known
            ? { ...known, progress }
            : {
                taskId,
                kind,
                state: 'running',
                progress,
                startedAt: new Date().toISOString(),
                finishedAt: null,
                error: null,
              },
        },
      };
    });
  },

  onFinished({ taskId, kind, state, error }) {
    set((s) => {
      const known = s.tasks[taskId];
      const finishedAt = new Date().toISOString();
      return {
        tasks: {
          ...s.tasks,
          [taskId]: known
            ? { ...known, state, error, finishedAt }
            : { taskId, kind, state, error, finishedAt, startedAt: finishedAt, progress: blankProgress },
        },
      };
    });
  },

  async cancel(taskId) {
    const task = await engine().invoke('task.cancel', { taskId });
    set((s) => ({ tasks: { ...s.tasks, [taskId]: { ...s.tasks[taskId], ...task } } }));
  },
}));

/** One task by id (undefined until known). */
export function useTask(taskId: string | null | undefined): TaskView | undefined {
  return useTasks((s) => (taskId ? s.tasks[taskId] : undefined));
}

/** Tasks still running, for a screen that lists work in progress. */
export function runningTasks(tasks: Record<string, TaskView>): TaskView[] {
  return Object.values(tasks).filter((t) => t.state === 'running');
}
