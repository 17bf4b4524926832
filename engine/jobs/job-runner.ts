/**
 * Long work (snapshots, restores, verification) runs as a job: the command
 * returns `{jobId}` at once, progress and the end are published as events,
 * and `job.cancel` aborts it through an AbortSignal that the work checks.
 */
import { randomUUID } from 'node:crypto';
import { ApiError, toApiError } from '../api/errors.js';
import type { Job, JobProgress } from '../api/schemas.js';
import type { EventBus } from '../events.js';

export interface JobContext {
  readonly jobId: string;
  readonly signal: AbortSignal;
  /** Report progress; cheap to call often (events are throttled). */
  progress(p: Partial<JobProgress>): void;
  /** Throws CANCELLED if the job was cancelled; call between units of work. */
  throwIfCancelled(): void;
}

export type JobWork<R> = (ctx: JobContext) => Promise<R>;

interface JobEntry {
  job: Job;
  controller: AbortController;
  done: Promise<void>;
  lastEmit: number;
}

const PROGRESS_EVENT_INTERVAL_MS = 100;
const KEEP_FINISHED = 200;

export class JobRunner {
  private readonly jobs = new Map<string, JobEntry>();

  constructor(private readonly events: EventBus) {}

  start<R>(kind: string, work: JobWork<R>): Job {
    const jobId = randomUUID();
    const controller = new AbortController();
    const job: Job = {
      jobId,
      kind,
      state: 'running',
      progress: { done: 0, total: null, unit: 'steps', message: 'Starting' },
      startedAt: new Date().toISOString(),
      finishedAt: null,
      error: null,
    };
    const entry: JobEntry = { job, controller, done: Promise.resolve(), lastEmit: 0 };
    const ctx: JobContext = {
      jobId,
      signal: controller.signal,
      progress: (p) => {
        job.progress = { ...job.progress, ...p };
        const now = Date.now();
        if (now - entry.lastEmit >= PROGRESS_EVENT_INTERVAL_MS) {
          entry.lastEmit = now;
          this.events.publish('job.progress', { jobId, kind, progress: job.progress });
        }
      },
      throwIfCancelled: () => {
        if (controller.signal.aborted) throw new ApiError('CANCELLED', `Job ${jobId} was cancelled.`);
      },
    };
    this.jobs.set(jobId, entry);
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
            if (apiErr.code === 'INTERNAL') console.error(`[job ${kind} ${jobId}]`, err);
            this.finish(entry, 'failed', apiErr.toJSON());
          }
        },
      );
    return { ...job };
  }

  private finish(entry: JobEntry, state: Job['state'], error: Job['error'], result?: unknown): void {
    const { job } = entry;
    job.state = state;
    job.error = error;
    job.finishedAt = new Date().toISOString();
    if (result !== undefined) job.result = result;
    this.events.publish('job.progress', { jobId: job.jobId, kind: job.kind, progress: job.progress });
    this.events.publish('job.finished', { jobId: job.jobId, kind: job.kind, state, error });
  }

  get(jobId: string): Job {
    const entry = this.jobs.get(jobId);
    if (!entry) throw new ApiError('NOT_FOUND', `No job with id ${jobId}.`);
    return { ...entry.job };
  }

  list(state?: Job['state']): Job[] {
    return [...this.jobs.values()]
      .map((e) => ({ ...e.job }))
      .filter((j) => !state || j.state === state)
      .reverse();
  }

  cancel(jobId: string): Job {
    const entry = this.jobs.get(jobId);
    if (!entry) throw new ApiError('NOT_FOUND', `No job with id ${jobId}.`);
    if (entry.job.state !== 'running') {
      throw new ApiError('CONFLICT', `Job ${jobId} has already ${entry.job.state}.`);
    }
    entry.controller.abort();
    return { ...entry.job };
  }

  /** Resolves when the job has ended (for tests and the CLI's --wait). */
  async wait(jobId: string): Promise<Job> {
    const entry = this.jobs.get(jobId);
    if (!entry) throw new ApiError('NOT_FOUND', `No job with id ${jobId}.`);
    await entry.done;
    return { ...entry.job };
  }

  /** Cancels every running job and waits for them (shutdown). */
  async stopAll(): Promise<void> {
    const running = [...this.jobs.values()].filter((e) => e.job.state === 'running');
    for (const e of running) e.controller.abort();
    await Promise.all(running.map((e) => e.done));
  }

  private prune(): void {
    if (this.jobs.size <= KEEP_FINISHED) return;
    for (const [id, e] of this.jobs) {
      if (this.jobs.size <= KEEP_FINISHED) break;
      if (e.job.state !== 'running') this.jobs.delete(id);
    }
  }
}
