import { act, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { Sources } from '../../renderer/src/features/sources/Sources';
import { connectedApp, renderWithProviders } from './harness';

let stop: () => void = () => {};
afterEach(() => stop());

describe('Import a dump (Sources)', () => {
  it('takes a path in the browser, runs import.dump, shows its progress and what it imported', async () => {
    const app = connectedApp();
    stop = app.stop;
    app.client.answer('import.dump', { taskId: 'imp-1' });
    renderWithProviders(<Sources />);
    app.client.setConnection('connected');
    fireEvent.click(await screen.findByRole('button', { name: 'Import a dump…' }));
    const form = screen.getByRole('form', { name: 'Import a dump' });
    expect(within(form).queryByRole('button', { name: 'Browse…' })).toBeNull(); // no file dialog in a browser
    fireEvent.change(within(form).getByLabelText(/^Source/), { target: { value: 'legacy-rs' } });
    fireEvent.click(within(form).getByRole('radio', { name: 'Archive file' }));
    fireEvent.change(within(form).getByRole('textbox', { name: /^Archive file/ }), {
      target: { value: '/dumps/legacy.archive.gz' },
    });
    fireEvent.click(within(form).getByRole('button', { name: 'Import' }));
    await waitFor(() =>
      expect(app.client.calls.find((c) => c.name === 'import.dump')?.input).toEqual({
        source: 'legacy-rs',
        archive: '/dumps/legacy.archive.gz',
      }),
    );
    act(() =>
      app.client.emit('task.progress', {
        taskId: 'imp-1',
        kind: 'import.dump',
        progress: { done: 512, total: 2048, unit: 'bytes', message: 'Reading /dumps/legacy.archive.gz' },
      }),
    );
    const progress = await within(form).findByTestId('task-import.dump');
    expect(progress.getAttribute('data-state')).toBe('running');
    expect(progress.textContent).toContain('512 / 2048 bytes');
    expect(progress.textContent).toContain('Reading /dumps/legacy.archive.gz');

    app.client.answer('task.get', {
      taskId: 'imp-1',
      kind: 'import.dump',
      state: 'succeeded',
      progress: { done: 2048, total: 2048, unit: 'bytes', message: '' },
      startedAt: '2026-11-23T11:00:00.000Z',
      finishedAt: '2026-11-23T11:00:03.000Z',
      error: null,
      result: {
        source: 'legacy-rs',
        sourceCreated: true,
        snapshotId: 'snap-9',
        namespaces: 3,
        documents: 1200,
        oplogEntries: 42,
      },
    });
    act(() =>
      app.client.emit('task.finished', {
        taskId: 'imp-1',
        kind: 'import.dump',
        state: 'succeeded',
        error: null,
      }),
    );
    expect(await within(form).findByRole('status')).toHaveProperty(
      'textContent',
      'Created the imported source legacy-rs; snapshot snap-9: 3 namespace(s), 1,200 documents, 42 oplog entries.',
    );
  });
});
