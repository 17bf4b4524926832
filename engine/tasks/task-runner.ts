/**
 * Long work (snapshots, restores, verification) runs as a task: the command
 * returns `{taskId}` at once, progress and the end are published as events,
 * and `task.cancel` aborts it through an AbortSignal that the work checks.
 */
import { randomUUID } from 'node:crypto';
import { ApiError, toApiError } from '../errors.js';
import type { Task, TaskProgress } from '../api/schemas.js';
import type { EventBus } from '../events.js';

export interface TaskContext {
  readonly taskId: string;
  readonly signal: AbortSignal;
  /** Report progress; cheap to call often (events are throttled). */
  progress(p: Partial<TaskProgress>): void;
  /** Throws CANCELLED if the task was cancelled; call between units of work. */
  throwIfCancelled(): void;
}

export type TaskWork<R> = (ctx: TaskContext) => Promise<R>;

interface TaskEntry {
  task: Task;
  controller: AbortController;
  done: Promise<void>;
  lastEmit: number;
}

const PROGRESS_EVENT_INTERVAL_MS = 100;
const KEEP_FINISHED = 200;

export class TaskRunner {
  private readonly tasks = new Map<string, TaskEntry>();

  constructor(private readonly events: EventBus) {}

  start<R>(kind: string, work: TaskWork<R>): Task {
    const taskId = randomUUID();
    const controller = new AbortController();
    const task: Task = {
      taskId,
      kind,
      state: 'running',
      progress: { done: 0, total: null, unit: 'steps', message: 'Starting' },
      startedAt: new Date().toISOString(),
      finishedAt: null,
      error: null,
    };
    const entry: TaskEntry = { task, controller, done: Promise.resolve(), lastEmit: 0 };
    const ctx: TaskContext = {
      taskId,
      signal: controller.signal,
      progress: (p) => {
        // A new message is a new phase: always sent, so a phase shorter than the interval still shows.
        const newPhase = p.message !== undefined && p.message !== task.progress.message;
        task.progress = { ...task.progress, ...p };
        const now = Date.now();
        if (newPhase || now - entry.lastEmit >= PROGRESS_EVENT_INTERVAL_MS) {
          entry.lastEmit = now;
          this.events.publish('task.progress', { taskId, kind, progress: task.progress });
        }
      },
      throwIfCancelled: () => {
        if (controller.signal.aborted) throw new ApiError('CANCELLED', `Task ${taskId} was cancelled.`);
      },
    };
    this.tasks.set(taskId, entry);
    this.prune();
    // Run on the next tick so the caller gets the id before any event.
    entry.done = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => work(ctx))
      .then(
        (result) => this.finish(entry, 'succeeded', null, result),
        (err: unknown) => {
          const apiErr = toApiError(err);
          if (controller.signal.aborted || apiErr.code === 'CANCELLED') {
            this.finish(entry, 'cancelled', { code: 'CANCELLED', message: 'Cancelled by the user.' });
          } else {
            if (apiErr.code === 'INTERNAL') console.error(`[task ${kind} ${taskId}]`, err);
            this.finish(entry, 'failed', apiErr.toJSON());
          }
        },
      );
    return { ...task };
  }

  private finish(entry: TaskEntry, state: Task['state'], error: Task['error'], result?: unknown): void {
    const { task } = entry;
    task.state = state;
    task.error = error;
    task.finishedAt = new Date().toISOString();
    if (result !== undefined) task.result = result;
    this.events.publish('task.progress', { taskId: task.taskId, kind: task.kind, progress: task.progress });
    this.events.publish('task.finished', { taskId: task.taskId, kind: task.kind, state, error });
  }

  get(taskId: string): Task {
    const entry = this.tasks.get(taskId);
    if (!entry) throw new ApiError('NOT_FOUND', `No task with id ${taskId}.`);
    return { ...entry.task };
  }

  list(state?: Task['state']): Task[] {
    return [...this.tasks.values()]
      .map((e) => ({ ...e.task }))
      .filter((j) => !state || j.state === state)
      .reverse();
  }

  cancel(taskId: string): Task {
    const entry = this.tasks.get(taskId);
    if (!entry) throw new ApiError('NOT_FOUND', `No task with id ${taskId}.`);
    if (entry.task.state !== 'running') {
      throw new ApiError('CONFLICT', `Task ${taskId} has already ${entry.task.state}.`);
    }
    entry.controller.abort();
    return { ...entry.task };
  }

  /** Resolves when the task has ended (for tests and the CLI's --wait). */
  async wait(taskId: string): Promise<Task> {
    const entry = this.tasks.get(taskId);
    if (!entry) throw new ApiError('NOT_FOUND', `No task with id ${taskId}.`);
    await entry.done;
    return { ...entry.task };
  }

  /** Cancels every running task and waits for them (shutdown). */
  async stopAll(): Promise<void> {
    const running = [...this.tasks.values()].filter((e) => e.task.state === 'running');
    for (const e of running) e.controller.abort();
    await Promise.all(running.map((e) => e.done));
  }

  private prune(): void {
    if (this.tasks.size <= KEEP_FINISHED) return;
    for (const [id, e] of this.tasks) {
      if (this.tasks.size <= KEEP_FINISHED) break;
      if (e.task.state !== 'running') this.tasks.delete(id);
    }
  }
}
