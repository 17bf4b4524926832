/** The CLI waits for the tasks it starts (they die with the process), shows progress, and cancels on Ctrl-C. */
import type { ApiErrorShape } from '../errors.js';
import type { Engine } from '../engine.js';

export async function waitForTask(
  engine: Engine,
  taskId: string,
  showProgress: boolean,
): Promise<{ state: string; error: ApiErrorShape | null; result?: unknown }> {
  const unsubscribe = engine.events.subscribe((e) => {
    if (showProgress && e.event === 'task.progress' && e.payload.taskId === taskId) {
      const p = e.payload.progress;
      process.stderr.write(`\r${p.message} ${p.done}${p.total !== null ? `/${p.total}` : ''} ${p.unit}   `);
    }
  });
  const onSigint = () => {
    process.stderr.write('\nCancelling…\n');
    engine.tasks.cancel(taskId);
  };
  process.once('SIGINT', onSigint);
  try {
    const task = await engine.tasks.wait(taskId);
    if (showProgress) process.stderr.write('\n');
    return { state: task.state, error: task.error as ApiErrorShape | null, result: task.result };
  } finally {
    unsubscribe();
    process.off('SIGINT', onSigint);
  }
}
