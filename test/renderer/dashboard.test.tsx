import { screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { ClientError } from '../../renderer/src/app/client/client-error';
import { Dashboard } from '../../renderer/src/features/dashboard/Dashboard';
import { localDateTime } from '../../renderer/src/ui/format';
import { connectedApp, renderWithProviders } from './harness';

let stop: () => void = () => {};
afterEach(() => stop());

const op = (t: number) => ({ t, i: 1, text: `${t}:1`, wall: new Date(t * 1000).toISOString() });
const SOURCE = {
  id: 'src-1',
  name: 'prod-rs',
  repositoryId: 'repo-1',
  uri: 'mongodb://backup@db1:27017/?replicaSet=rs0',
  username: 'backup',
  tlsCaFile: null,
  tlsCertFile: null,
  readPreference: null,
  passwordStorage: 'keychain' as const,
  warnings: [],
  imported: false,
  createdAt: '2026-11-20T08:00:00.000Z',
};
const T0 = 1_795_000_000;

describe('the Dashboard section', () => {
  it('says it is loading while the engine has not answered', async () => {
    const app = connectedApp();
    stop = app.stop;
    app.client.answer('source.list', () => new Promise(() => {}));
    renderWithProviders(<Dashboard />);
    app.client.setConnection('connected');
    expect(await screen.findByText('Loading sources…')).toBeTruthy();
    expect(screen.queryByRole('table', { name: 'Protection by source' })).toBeNull();
    expect(screen.queryByText('No sources protected yet')).toBeNull();
  });

  it('explains what to do when there is no source', async () => {
    const app = connectedApp();
    stop = app.stop;
    renderWithProviders(<Dashboard />);
    app.client.setConnection('connected');
    expect(await screen.findByText('No sources protected yet')).toBeTruthy();
    expect(screen.getByRole('note').textContent).toContain('Add a MongoDB replica set under Sources');
    expect(screen.queryByText('Loading sources…')).toBeNull();
  });

  it('shows the engine refusal instead of an empty page', async () => {
    const app = connectedApp();
    stop = app.stop;
    app.client.answer(
      'source.list',
      new ClientError({ code: 'CATALOG_LOCKED', message: 'The catalog is locked by another engine.' }),
    );
    renderWithProviders(<Dashboard />);
    app.client.setConnection('connected');
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('The catalog is locked by another engine.');
    expect(screen.queryByText('Loading sources…')).toBeNull();
    expect(screen.queryByText('No sources protected yet')).toBeNull();
  });

  it('shows each source with capture, recovery point, last snapshot (local time, UTC on hover), coverage and alerts', async () => {
    const app = connectedApp();
    stop = app.stop;
    const completedAt = '2026-11-23T11:22:58.384Z';
    app.client.answer('source.list', [SOURCE]);
    app.client.answer('source.status', {
      source: 'prod-rs',
      imported: false,
      capture: {
        state: 'capturing',
        capturedTs: op(T0 + 598),
        sourceTs: op(T0 + 600),
        recoveryPointSeconds: 2,
        entriesPerSecond: 120,
        bytesPerSecond: 40_000,
        segmentsWritten: 12,
        gaps: 0,
        lastError: null,
      },
      lastSnapshot: {
        id: 'snap-1',
        status: 'complete',
        startTs: op(T0),
        consistentTs: op(T0 + 5),
        completedAt,
        documents: 1000,
        storedBytes: 1_000_000,
        lockedUntil: null,
      },
      coverage: {
        source: 'prod-rs',
        intervals: [{ start: op(T0), end: op(T0 + 598), seconds: 598, segments: 12 }],
        gaps: [],
        snapshots: 1,
      },
      openAlerts: [
        {
          id: 4,
          source: 'prod-rs',
          kind: 'OPLOG_WINDOW_LOW',
          severity: 'warning',
          message: 'The oplog of prod-rs covers 2.0 h, below the 24 h threshold.',
          raisedAt: completedAt,
          resolvedAt: null,
        },
      ],
      oplogWindow: { first: op(T0 - 7200), last: op(T0 + 600), hours: 2.1666, checkedAt: completedAt },
    });
    renderWithProviders(<Dashboard />);
    app.client.setConnection('connected');
    const row = await screen.findByTestId('source-row-prod-rs');
    await within(row).findByText('capturing');
    const cells = within(row).getAllByRole('cell');
    expect(within(row).getByRole('rowheader').textContent).toBe('prod-rs');
    expect(cells[1]!.textContent).toBe('2 s');
    const snapshotTime = cells[2]!.querySelector('time')!;
    expect(snapshotTime.textContent).toBe(localDateTime(completedAt));
    expect(snapshotTime.getAttribute('title')).toBe('2026-11-23 11:22:58.384 UTC');
    expect(cells[2]!.textContent).toMatch(/ago$/);
    expect(cells[3]!.textContent).toMatch(
      /^1 interval\(s\), 0 gap\(s\), newest to \d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/,
    );
    expect(within(row).getByTestId('oplog-window').textContent).toMatch(/^2\.2 h \(measured \d{4}-/);
    expect(cells[5]!.textContent).toContain('OPLOG_WINDOW_LOW: The oplog of prod-rs covers 2.0 h');
    // No raw ISO string anywhere in the row.
    expect(row.textContent).not.toMatch(/\d{4}-\d\d-\d\dT/);
    // One pass asked for the list, then the status of each source.
    expect(app.client.calls.filter((c) => c.name === 'source.status')).toEqual([
      { name: 'source.status', input: { source: 'prod-rs' } },
    ]);
  });
});
