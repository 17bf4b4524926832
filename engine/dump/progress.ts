/** The part of a task's context that the dump code uses: progress and cancel. */
import type { TaskProgress } from '../api/schemas.js';

export interface WorkContext {
  progress(p: Partial<TaskProgress>): void;
  throwIfCancelled(): void;
}

export const NO_CONTEXT: WorkContext = { progress: () => {}, throwIfCancelled: () => {} };
