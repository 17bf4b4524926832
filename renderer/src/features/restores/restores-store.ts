/**
 * The Restores section's state and every call it makes to the engine: the
 * restore history (from the catalog, so it survives a reload), one restore
 * with its report, and what the wizard asks while it is filled in (plans,
 * snapshots, a snapshot's namespaces) and starts (restore, in place, dump).
 * Progress of what it starts is read from the tasks slice, like every task's.
 */
import { create } from 'zustand';
import type { CommandInput, CommandOutput } from '../../../../engine/api/contract';
import { engine, errorMessage } from '../../app/connection-store';
import { useTasks } from '../../app/tasks-store';
import { nearestCandidates } from './nearest-points';

export type RestoreView = CommandOutput<'restore.get'>;
export type RestorePlan = CommandOutput<'restore.plan'>;
export type SnapshotView = CommandOutput<'snapshot.list'>[number];
export type SnapshotNamespaces = CommandOutput<'snapshot.namespaces'>;
export type ReportFile = CommandOutput<'restore.report'>;
export type LocalMongod = CommandOutput<'local-mongod.status'>;
export type ExportResult = {
  path: string;
  format: 'directory' | 'archive';
  gzip: boolean;
  namespaces: number;
  documents: number;
  oplogEntries: number;
  bytes: number;
};

/** What the wizard starts: one of the engine's restore kinds, with its command's own input. */
export type RestoreStart =
  | { command: 'restore.run'; input: CommandInput<'restore.run'> }
  | { command: 'restore.in-place'; input: CommandInput<'restore.in-place'> }
  | { command: 'export.dump'; input: CommandInput<'export.dump'> };

export interface StartedRestore {
  taskId: string;
  command: RestoreStart['command'];
  source: string;
  /** What was asked for, as the user chose it: a snapshot id, a wall-clock second or `t:i`. */
  point: string;
}

/** The kind of task each command runs (the tasks slice knows a task by its kind). */
const TASK_KIND: Record<RestoreStart['command'], string> = {
  'restore.run': 'restore',
  'restore.in-place': 'restore.in-place',
  'export.dump': 'export.dump',
};

interface RestoresSlice {
  /** The history, newest first; null until the first answer. */
  history: RestoreView[] | null;
  historyError: string | null;
  /** Restores read one by one (with their reports), by id. */
  restores: Record<string, RestoreView>;
  /** Restores started from this window (their progress: tasks slice). */
  started: StartedRestore[];

  loadHistory(): Promise<void>;
  loadRestore(id: string): Promise<RestoreView>;
  plan(source: string, at: string): Promise<RestorePlan>;
  /** For a refused point: the nearest restorable points before and after it (`t:i`), each checked with restore.plan. */
  nearestRestorable(
    refusal: Extract<RestorePlan, { restorable: false }>,
    snapshots: SnapshotView[],
  ): Promise<{ before: string | null; after: string | null }>;
  snapshots(source: string): Promise<SnapshotView[]>;
  namespaces(source: string, snapshot: string): Promise<SnapshotNamespaces>;
  reportFile(id: string, format: 'json' | 'html'): Promise<ReportFile>;
  /** The throwaway local mongod as the engine runs it (null until read). */
  localMongod: LocalMongod | null;
  loadLocalMongod(): Promise<void>;
  stopLocalMongod(): Promise<void>;
  /** Starts the restore; resolves with its task id once the engine accepted it. */
  start(request: RestoreStart): Promise<string>;
  /** What a finished task returned (the restore's report carries its id; an export its path). */
  resultOf(taskId: string): Promise<unknown>;
  cancel(taskId: string): Promise<void>;
}

export const useRestores = create<RestoresSlice>((set) => ({
  history: null,
  historyError: null,
  restores: {},
  started: [],

  async loadHistory() {
    try {
      set({ history: await engine().invoke('restore.list', {}), historyError: null });
    } catch (err) {
      set({ historyError: errorMessage(err) });
    }
  },
  async loadRestore(id) {
    const restore = await engine().invoke('restore.get', { id });
    set((s) => ({ restores: { ...s.restores, [id]: restore } }));
    return restore;
  },
  plan: (source, at) => engine().invoke('restore.plan', { source, at }),
  async nearestRestorable(refusal, snapshots) {
    const { before, after } = nearestCandidates(refusal, snapshots);
    // A few tries per side: candidates are ordered nearest first, and most are restorable.
    const first = async (candidates: string[]) => {
      for (const at of candidates.slice(0, 4)) {
        const plan = await engine().invoke('restore.plan', { source: refusal.source, at });
        if (plan.restorable) return at;
      }
      return null;
    };
    const [b, a] = await Promise.all([first(before), first(after)]);
    return { before: b, after: a };
  },
  snapshots: (source) => engine().invoke('snapshot.list', { source }),
  namespaces: (source, snapshot) => engine().invoke('snapshot.namespaces', { source, snapshot }),
  reportFile: (id, format) => engine().invoke('restore.report', { id, format }),
  localMongod: null,
  async loadLocalMongod() {
    set({ localMongod: await engine().invoke('local-mongod.status', {}) });
  },
  async stopLocalMongod() {
    set({ localMongod: await engine().invoke('local-mongod.stop', {}) });
  },

  async start(request) {
    // One call per command keeps each input typed against its own schema.
    const { taskId } =
      request.command === 'restore.run'
        ? await engine().invoke('restore.run', request.input)
        : request.command === 'restore.in-place'
          ? await engine().invoke('restore.in-place', request.input)
          : await engine().invoke('export.dump', request.input);
    useTasks.getState().started(taskId, TASK_KIND[request.command]);
    const entry: StartedRestore = {
      taskId,
      command: request.command,
      source: request.input.source,
      point: request.input.at,
    };
    set((s) => ({ started: [entry, ...s.started] }));
    // A restore is in the history from its start (state running).
    void useRestores.getState().loadHistory();
    return taskId;
  },
  async resultOf(taskId) {
    return (await engine().invoke('task.get', { taskId })).result;
  },
  cancel: (taskId) => useTasks.getState().cancel(taskId),
}));
