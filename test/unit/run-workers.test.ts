/**
 * Parallel workers (engine/run-workers.ts) settle together: a failure is thrown only once every
 * worker has stopped, so that a caller's cleanup (dropping a restore test's scratch databases,
 * aborting a snapshot) never races a write still in flight.
 */
import { describe, expect, it } from 'vitest';
import { runWorkers } from '../../engine/run-workers.js';

describe('runWorkers', () => {
  it('throws the first failure only after the other workers finished their step and stopped', async () => {
    const events: string[] = [];
    let turn = 0;
    const run = runWorkers(3, async (stopped) => {
      const me = turn++;
      if (me === 0) {
        await new Promise((r) => setTimeout(r, 5));
        events.push('0 fails');
        throw new Error('cancelled');
      }
      for (let step = 0; ; step++) {
        if (stopped()) {
          events.push(`${me} stops at step ${step}`);
          throw new Error('stopped');
        }
        await new Promise((r) => setTimeout(r, 20)); // a write in flight
        events.push(`${me} wrote ${step}`);
      }
    });
    await expect(run).rejects.toThrow('cancelled');
    // The rejection came after both other workers' in-flight writes landed and they stopped.
    expect(events.slice(0, 1)).toEqual(['0 fails']);
    expect(events.filter((e) => e.includes('stops'))).toEqual(['1 stops at step 1', '2 stops at step 1']);
    expect(events.at(-1)).toMatch(/stops/);
  });

  it('resolves when every worker ends, running at least one', async () => {
    const queue = [1, 2, 3, 4, 5];
    const done: number[] = [];
    await runWorkers(0, async () => {
      for (let j = queue.shift(); j; j = queue.shift()) done.push(j);
    });
    expect(done).toEqual([1, 2, 3, 4, 5]);
  });
});
