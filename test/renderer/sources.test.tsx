import { fireEvent, screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { Sources } from '../../renderer/src/features/sources/Sources';
import { connectedApp, renderWithProviders } from './harness';

let stop: () => void = () => {};
afterEach(() => stop());

const sourceView = (name: string, imported: boolean) => ({
  id: `id-${name}`,
  name,
  repositoryId: 'repo-1',
  uri: imported ? '' : 'mongodb://backup@db1:27017/?replicaSet=rs0',
  username: imported ? null : 'backup',
  tlsCaFile: null,
  tlsCertFile: null,
  readPreference: null,
  passwordStorage: 'none' as const,
  warnings: [],
  imported,
  createdAt: '2026-11-20T08:00:00.000Z',
});

const POLICY = {
  hourly: null,
  daily: { at: '03:00', keepDays: 7 },
  weekly: null,
  monthly: null,
  onDemandKeepDays: 7,
  pitrWindowHours: 72,
  segmentSeconds: 10,
  segmentMaxMB: 16,
  rpoObjectiveSeconds: 60,
  oplogWindowAlertHours: 24,
  diskAlertPercent: 90,
  preset: 'default' as const,
  restoreTest: null,
};

describe('the Sources section', () => {
  it('an imported source offers no connection test nor edit, and says why; a connected one does', async () => {
    const app = connectedApp();
    stop = app.stop;
    app.client.answer('source.list', [sourceView('prod-rs', false), sourceView('legacy', true)]);
    app.client.answer('backup-job.get', async ({ source }) => {
      if (source === 'legacy') throw new Error('legacy was imported from a mongodump: it has no backup job.');
      return { source, state: 'stopped', reason: null, policy: POLICY, nextRuns: {} };
    });
    renderWithProviders(<Sources />);
    app.client.setConnection('connected');

    const legacy = await screen.findByTestId('source-legacy');
    const noTest = within(legacy).getByRole('button', { name: 'Test connection' });
    expect(noTest).toHaveProperty('disabled', true);
    // The reason is the button's description (screen readers read it with the button) and is shown.
    const why = document.getElementById(noTest.getAttribute('aria-describedby')!)!;
    expect(why.textContent).toBe(
      'Imported from a mongodump: legacy has no connection to test or edit. Its snapshots are restore points; nothing is captured.',
    );
    expect(within(legacy).getByTestId('no-connection')).toBe(why);
    fireEvent.click(noTest);
    expect(app.client.calls.filter((c) => c.name === 'source.test')).toEqual([]);
    // Nor a connection to edit: the button is disabled with the same reason, and opens no form.
    const noEdit = within(legacy).getByRole('button', { name: 'Edit connection' });
    expect(noEdit).toHaveProperty('disabled', true);
    expect(noEdit.getAttribute('aria-describedby')).toBe(why.id);
    fireEvent.click(noEdit);
    expect(screen.queryByRole('form', { name: 'Edit source legacy' })).toBeNull();
    expect(screen.queryByText('Edit legacy')).toBeNull();

    const prod = screen.getByTestId('source-prod-rs');
    const test = within(prod).getByRole('button', { name: 'Test connection' });
    expect(test).toHaveProperty('disabled', false);
    expect(test.getAttribute('aria-describedby')).toBeNull();
    expect(within(prod).queryByTestId('no-connection')).toBeNull();
    const edit = within(prod).getByRole('button', { name: 'Edit connection' });
    expect(edit).toHaveProperty('disabled', false);
    expect(edit.getAttribute('aria-describedby')).toBeNull();
    fireEvent.click(edit);
    expect(await screen.findByRole('form', { name: 'Edit source prod-rs' })).toBeTruthy();
  });
});
