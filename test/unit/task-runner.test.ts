import { describe, expect, it } from 'vitest';
import { ApiError } from '../../engine/errors.js';
import type { EngineEvent } from '../../engine/api/contract.js';
import { EventBus } from '../../engine/events.js';
import { TaskRunner } from '../../engine/tasks/task-runner.js';

const setup = () => {
  const bus = new EventBus();
  const events: EngineEvent[] = [];
  bus.subscribe((e) => events.push(e));
  return { runner: new TaskRunner(bus), events };
};

describe('task runner', () => {
  it('returns the id at once, reports progress and the result', async () => {
    const { runner, events } = setup();
    const task = runner.start('count', async (ctx) => {
      for (let i = 1; i <= 3; i++) ctx.progress({ done: i, total: 3, unit: 'items' });
      return { counted: 3 };
    });
    expect(task.state).toBe('running');
    expect(events).toEqual([]); // nothing published before the caller has the id
    const done = await runner.wait(task.taskId);
    expect(done).toMatchObject({
      state: 'succeeded',
      result: { counted: 3 },
      progress: { done: 3, total: 3 },
    });
    expect(events.at(-1)).toEqual({
      event: 'task.finished',
      payload: { taskId: task.taskId, kind: 'count', state: 'succeeded', error: null },
    });
    expect(events.some((e) => e.event === 'task.progress')).toBe(true);
  });

  it('sends every phase (a new message) at once, and throttles the counts within one', async () => {
    const { runner, events } = setup();
    const task = runner.start('phases', async (ctx) => {
      for (const phase of [
        'checking the plan',
        'creating collections',
        'copying documents',
        'building indexes',
      ]) {
        ctx.progress({ message: phase });
        for (let i = 1; i <= 50; i++) ctx.progress({ done: i, total: 50, unit: 'documents' });
      }
    });
    await runner.wait(task.taskId);
    const sent = events.flatMap((e) => (e.event === 'task.progress' ? [e.payload.progress] : []));
    expect([...new Set(sent.map((p) => p.message))]).toEqual([
      'checking the plan',
      'creating collections',
      'copying documents',
      'building indexes',
    ]);
    // 204 calls within a few milliseconds: the counts are not each sent.
    expect(sent.length).toBeLessThan(20);
  });

  it('cancels through the signal', async () => {
    const { runner } = setup();
    const task = runner.start('slow', async (ctx) => {
      for (;;) {
        ctx.throwIfCancelled();
        await new Promise((r) => setTimeout(r, 5));
      }
    });
    await new Promise((r) => setTimeout(r, 20));
    runner.cancel(task.taskId);
    expect(await runner.wait(task.taskId)).toMatchObject({
      state: 'cancelled',
      error: { code: 'CANCELLED' },
    });
    expect(() => runner.cancel(task.taskId)).toThrow(/already cancelled/);
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
      expect((await runner.wait(a.taskId)).error).toEqual({
        code: 'UNAVAILABLE',
        message: 'server unreachable',
      });
      expect((await runner.wait(b.taskId)).error?.code).toBe('INTERNAL');
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

  it('says NOT_FOUND for an unknown task', () => {
    const { runner } = setup();
    expect(() => runner.get('nope')).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }) as Error);
  });
});
