import { act, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { useTasks } from '../../renderer/src/app/tasks-store';
import { useSources } from '../../renderer/src/features/sources/sources-store';
import { TaskProgress } from '../../renderer/src/ui/TaskProgress';
import { connectedApp, renderWithProviders } from './harness';

let stop: () => void = () => {};
afterEach(() => stop());

const progress = (done: number, total: number | null, message = '') => ({
  done,
  total,
  unit: 'collections',
  message,
});

describe('the tasks slice', () => {
  it('follows task.progress and task.finished, and the screen shows what it follows', async () => {
    const app = connectedApp();
    stop = app.stop;
    app.client.setConnection('connected');
    renderWithProviders(<TaskProgress taskId="t1" label="Snapshot" />);
    expect(screen.queryByText(/Snapshot/)).toBeNull(); // nothing known about t1 yet

    act(() =>
      app.client.emit('task.progress', {
        taskId: 't1',
        kind: 'snapshot',
        progress: progress(3, 10, 'copying app.orders'),
      }),
    );
    expect(screen.getByText('Snapshot running')).toBeTruthy();
    expect(screen.getByText('3 / 10 collections')).toBeTruthy();
    expect(screen.getByText('copying app.orders')).toBeTruthy();
    expect(screen.getByRole('progressbar', { name: 'Snapshot progress' }).getAttribute('aria-valuenow')).toBe(
      '30',
    );

    act(() =>
      app.client.emit('task.progress', { taskId: 't1', kind: 'snapshot', progress: progress(7, 10) }),
    );
    expect(screen.getByText('7 / 10 collections')).toBeTruthy();

    act(() =>
      app.client.emit('task.finished', {
        taskId: 't1',
        kind: 'snapshot',
        state: 'failed',
        error: { code: 'UNAVAILABLE', message: 'Connection refused: connect ECONNREFUSED 127.0.0.1:27017' },
      }),
    );
    expect(screen.getByText('Snapshot failed')).toBeTruthy();
    expect(screen.getByText(/ECONNREFUSED 127\.0\.0\.1:27017/)).toBeTruthy();
    expect(screen.queryByRole('progressbar')).toBeNull();
    expect(screen.getByText(/just now/)).toBeTruthy(); // when it ended

    // A progress event that crossed the end on the wire does not reopen the task.
    act(() =>
      app.client.emit('task.progress', { taskId: 't1', kind: 'snapshot', progress: progress(8, 10) }),
    );
    expect(screen.getByText('Snapshot failed')).toBeTruthy();
    expect(useTasks.getState().tasks.t1!.state).toBe('failed');
  });

  it('catches up on connecting with the tasks that were already running', async () => {
    const app = connectedApp();
    stop = app.stop;
    app.client.answer('task.list', [
      {
        taskId: 'early',
        kind: 'snapshot',
        state: 'running',
        progress: progress(1, 4),
        startedAt: '2026-11-23T11:22:58.384Z',
        finishedAt: null,
        error: null,
      },
    ]);
    renderWithProviders(<TaskProgress taskId="early" label="Snapshot" />);
    app.client.setConnection('connected');
    expect(await screen.findByText('Snapshot running')).toBeTruthy();
    expect(screen.getByText('1 / 4 collections')).toBeTruthy();
  });

  it('knows a task it started before the first event, and an unknown total shows as activity', async () => {
    const app = connectedApp();
    stop = app.stop;
    app.client.setConnection('connected');
    app.client.answer('snapshot.take', { taskId: 't2' });
    const taskId = await act(() => useSources.getState().takeSnapshot('prod-rs'));
    expect(taskId).toBe('t2');
    expect(app.client.calls).toContainEqual({ name: 'snapshot.take', input: { source: 'prod-rs' } });
    renderWithProviders(
      <TaskProgress taskId={useSources.getState().snapshotTasks['prod-rs']} label="Snapshot" />,
    );
    expect(screen.getByText('Snapshot running')).toBeTruthy();
    act(() =>
      app.client.emit('task.progress', {
        taskId: 't2',
        kind: 'snapshot',
        progress: progress(0, null, 'reading the oplog start'),
      }),
    );
    expect(screen.queryByText(/\/ .* collections/)).toBeNull();
    expect(screen.getByText('reading the oplog start')).toBeTruthy();
    act(() =>
      app.client.emit('task.finished', { taskId: 't2', kind: 'snapshot', state: 'succeeded', error: null }),
    );
    expect(screen.getByText('Snapshot finished')).toBeTruthy();
  });

  it('cancels through the engine and shows the answer', async () => {
    const app = connectedApp();
    stop = app.stop;
    app.client.setConnection('connected');
    act(() => app.client.emit('task.progress', { taskId: 't3', kind: 'verify', progress: progress(1, 9) }));
    app.client.answer('task.cancel', {
      taskId: 't3',
      kind: 'verify',
      state: 'cancelled',
      progress: progress(1, 9),
      startedAt: '2026-11-23T11:22:58.384Z',
      finishedAt: new Date().toISOString(),
      error: null,
    });
    renderWithProviders(<TaskProgress taskId="t3" label="Verification" />);
    await act(() => useTasks.getState().cancel('t3'));
    await waitFor(() => expect(screen.getByText('Verification cancelled')).toBeTruthy());
    expect(app.client.calls.some((c) => c.name === 'task.cancel')).toBe(true);
  });
});
