/** The CLI waits for the jobs it starts (they die with the process), shows progress, and cancels on Ctrl-C. */
import type { ApiErrorShape } from '../api/errors.js';
import type { Engine } from '../engine.js';

export async function waitForJob(
  engine: Engine,
  jobId: string,
  showProgress: boolean,
): Promise<{ state: string; error: ApiErrorShape | null; result?: unknown }> {
  const unsubscribe = engine.events.subscribe((e) => {
    if (showProgress && e.event === 'job.progress' && e.payload.jobId === jobId) {
      const p = e.payload.progress;
      process.stderr.write(`\r${p.message} ${p.done}${p.total !== null ? `/${p.total}` : ''} ${p.unit}   `);
    }
  });
  const onSigint = () => {
    process.stderr.write('\nCancelling…\n');
    engine.jobs.cancel(jobId);
  };
  process.once('SIGINT', onSigint);
  try {
    const job = await engine.jobs.wait(jobId);
    if (showProgress) process.stderr.write('\n');
    return { state: job.state, error: job.error as ApiErrorShape | null, result: job.result };
  } finally {
    unsubscribe();
    process.off('SIGINT', onSigint);
  }
}
