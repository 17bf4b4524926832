/**
 * Runs `count` copies of a worker that share a queue, and settles only once every one of them
 * has stopped. With Promise.all the caller went on at the first failure (a cancellation
 * included) while the other workers were still writing: a restore test's cleanup dropped its
 * scratch database, and an insert still in flight created it again. Here the first failure is
 * thrown once all have stopped, and `stopped()` tells the others to stop at their next step.
 */
export async function runWorkers(
  count: number,
  worker: (stopped: () => boolean) => Promise<void>,
): Promise<void> {
  const state: { failure: { err: unknown } | null } = { failure: null };
  const stopped = () => state.failure !== null;
  await Promise.all(
    Array.from({ length: Math.max(1, count) }, async () => {
      try {
        await worker(stopped);
      } catch (err) {
        state.failure ??= { err };
      }
    }),
  );
  if (state.failure) throw state.failure.err;
}

/** What a worker throws to stop because another failed (never seen: the first failure is thrown). */
export class StoppedByOtherWorker extends Error {}
