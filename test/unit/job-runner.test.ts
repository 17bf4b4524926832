import { describe, expect, it } from 'vitest';
import { ApiError } from '../../engine/api/errors.js';
import type { EngineEvent } from '../../engine/api/contract.js';
import { EventBus } from '../../engine/events.js';
import { JobRunner } from '../../engine/jobs/job-runner.js';

const setup = () => {
  const bus = new EventBus();
  const events: EngineEvent[] = [];
  bus.subscribe((e) => events.push(e));
  return { runner: new JobRunner(bus), events };
};

describe('job runner', () => {
  it('returns the id at once, reports progress and the result', async () => {
    const { runner, events } = setup();
    const job = runner.start('count', async (ctx) => {
      for (let i = 1; i <= 3; i++) ctx.progress({ done: i, total: 3, unit: 'items' });
      return { counted: 3 };
    });
    expect(job.state).toBe('running');
    expect(events).toEqual([]); // nothing published before the caller has the id
    const done = await runner.wait(job.jobId);
    expect(done).toMatchObject({
      state: 'succeeded',
      result: { counted: 3 },
      progress: { done: 3, total: 3 },
    });
    expect(events.at(-1)).toEqual({
      event: 'job.finished',
      payload: { jobId: job.jobId, kind: 'count', state: 'succeeded', error: null },
    });
    expect(events.some((e) => e.event === 'job.progress')).toBe(true);
  });

  it('cancels through the signal', async () => {
    const { runner } = setup();
    const job = runner.start('slow', async (ctx) => {
      for (;;) {
        ctx.throwIfCancelled();
        await new Promise((r) => setTimeout(r, 5));
      }
    });
    await new Promise((r) => setTimeout(r, 20));
    runner.cancel(job.jobId);
    expect(await runner.wait(job.jobId)).toMatchObject({ state: 'cancelled', error: { code: 'CANCELLED' } });
    expect(() => runner.cancel(job.jobId)).toThrow(/already cancelled/);
  });

  it('keeps typed errors and masks unexpected ones', async () => {
    const { runner } = setup();
    const a = runner.start('typed', async () => {
      throw new ApiError('UNAVAILABLE', 'server unreachable');
    });
    const b = runner.start('untyped', async () => {
      throw new TypeError('x is undefined');
    });
    const origError = console.error;
    console.error = () => {};
    try {
      expect((await runner.wait(a.jobId)).error).toEqual({
        code: 'UNAVAILABLE',
        message: 'server unreachable',
      });
      expect((await runner.wait(b.jobId)).error?.code).toBe('INTERNAL');
    } finally {
      console.error = origError;
    }
    expect(
      runner
        .list('failed')
        .map((j) => j.kind)
        .sort(),
    ).toEqual(['typed', 'untyped']);
  });

  it('says NOT_FOUND for an unknown job', () => {
    const { runner } = setup();
    expect(() => runner.get('nope')).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }) as Error);
  });
});
