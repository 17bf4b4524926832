import { screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { ClientError } from '../../renderer/src/app/client/client-error';
import { Dashboard } from '../../renderer/src/features/dashboard/Dashboard';
import { SourceCard } from '../../renderer/src/features/dashboard/SourceCard';
import type { CommandOutput } from '../../engine/api/contract';
import { refreshSourcesAndAlerts } from '../../renderer/src/app/live-updates';
import { localDateTime, utcDateTime } from '../../renderer/src/ui/format';
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

  it('shows a card per source: capture, recovery point within its objective, last and next snapshot, PITR window, storage, alerts', async () => {
    const app = connectedApp();
    stop = app.stop;
    app.client.answer('source.list', [SOURCE]);
    app.client.answer('source.status', status());
    app.client.answer('source.overview', overview());
    renderWithProviders(<Dashboard />);
    app.client.setConnection('connected');
    const card = await screen.findByRole('region', { name: 'Protection of prod-rs' });
    await within(card).findByText('capturing');
    await within(card).findByText('job active');
    const field = (id: string) => within(card).getByTestId(id);
    expect(field('recovery-point').textContent).toBe('2 s (objective 60 s)');
    expect(field('recovery-point').querySelector('[data-above-objective="true"]')).toBeNull();
    const snapshotTime = field('last-snapshot').querySelector('time')!;
    expect(snapshotTime.textContent).toBe(localDateTime(COMPLETED));
    expect(snapshotTime.getAttribute('title')).toBe('2026-11-23 11:22:58.384 UTC');
    expect(field('last-snapshot').textContent).toMatch(/ago$/);
    expect(field('next-snapshot').textContent).toMatch(
      /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d · (in .*|just now|.* ago) \(hourly, daily\)$/,
    );
    expect(field('pitr-window').textContent).toBe('5.0 h of 72 h covered · 4.5 h restorableno gap');
    expect(field('oplog-window').textContent).toMatch(/^2\.2 h \(measured \d{4}-/);
    expect(field('storage-used').textContent).toBe('1.5 GiB (snapshots 1.0 GiB, oplog 512 MiB)');
    expect(field('open-alerts').textContent).toContain('OPLOG_WINDOW_LOW: The oplog of prod-rs covers 2.0 h');
    // No raw ISO string anywhere on the card.
    expect(card.textContent).not.toMatch(/\d{4}-\d\d-\d\dT/);
  });

  it('shows the recovery point in red, in words too, when it is above the objective', async () => {
    const app = connectedApp();
    stop = app.stop;
    app.client.answer('source.list', [SOURCE]);
    app.client.answer('source.status', status({ recoveryPointSeconds: 95 }));
    app.client.answer('source.overview', overview());
    renderWithProviders(<Dashboard />);
    app.client.setConnection('connected');
    const card = await screen.findByRole('region', { name: 'Protection of prod-rs' });
    const rp = await within(card).findByText(/above the objective/);
    const field = within(card).getByTestId('recovery-point');
    expect(field.textContent).toBe('95 s — above the objective of 60 s');
    const value = field.querySelector('[data-above-objective="true"]') as HTMLElement;
    expect(value).not.toBeNull();
    expect(value.style.color).toContain('red');
    expect(rp.style.color).toContain('red');
  });

  it('lists the gaps of the PITR window in red with their cause', async () => {
    const app = connectedApp();
    stop = app.stop;
    app.client.answer('source.list', [SOURCE]);
    app.client.answer('source.status', status());
    app.client.answer(
      'source.overview',
      overview({
        gaps: [
          { after: op(T0 + 100), before: op(T0 + 400), seconds: 300, reason: 'chain-break' },
          { after: op(T0 + 500), before: op(T0 + 560), seconds: 60, reason: 'corrupt' },
        ],
        gapSeconds: 358,
      }),
    );
    renderWithProviders(<Dashboard />);
    app.client.setConnection('connected');
    const gaps = await screen.findByTestId('pitr-gaps');
    expect(gaps.textContent).toMatch(
      /^2 gaps \(6 min lost\): chain-break after \d{4}-\d\d-\d\d \d\d:\d\d:\d\d, corrupt after \d{4}-/,
    );
    expect(gaps.style.color).toContain('red');
    expect(gaps.querySelectorAll('time')[0]!.getAttribute('title')).toBe(utcDateTime(op(T0 + 100).wall));
  });

  it('says when a source has no restore test yet, and when no snapshot is scheduled', async () => {
    const app = connectedApp();
    stop = app.stop;
    app.client.answer('source.list', [SOURCE]);
    app.client.answer('source.status', status());
    app.client.answer('source.overview', { ...overview(), jobState: 'stopped', nextSnapshot: null });
    renderWithProviders(<Dashboard />);
    app.client.setConnection('connected');
    const card = await screen.findByRole('region', { name: 'Protection of prod-rs' });
    await within(card).findByText('job stopped');
    expect(within(card).getByTestId('restore-test').textContent).toBe('no restore test yet');
    expect(within(card).getByTestId('next-snapshot').textContent).toBe('none scheduled (job stopped)');
  });

  it('shows the last restore test with its RTO, and the next one, when the engine has them', () => {
    renderWithProviders(
      <SourceCard
        source={SOURCE}
        status={status()}
        overview={overview()}
        restoreTest={{
          last: { passed: false, startedAt: COMPLETED, finishedAt: COMPLETED, rtoSeconds: 200 },
          nextRunAt: new Date(Date.now() + 3 * 86_400_000).toISOString(),
        }}
      />,
    );
    const field = screen.getByTestId('restore-test');
    expect(field.textContent).toMatch(
      /^failed \d{4}-\d\d-\d\d \d\d:\d\d:\d\d · \d+ days ago · RTO 3 min · next \d{4}-\d\d-\d\d \d\d:\d\d:\d\d · in [23] days$/,
    );
  });

  it("shows the engine's last restore test of the source with its RTO", async () => {
    const app = connectedApp();
    stop = app.stop;
    app.client.answer('source.list', [SOURCE]);
    app.client.answer('source.status', status());
    app.client.answer('source.overview', overview());
    app.client.answer('restore-test.last', [
      {
        source: 'prod-rs',
        settings: {
          everyDays: 7,
          point: 'latest-snapshot',
          target: { kind: 'uri', uri: 'mongodb://scratch:27017', passwordEnv: null },
          sample: 100,
        },
        nextRunAt: new Date(Date.now() + 6.5 * 86_400_000).toISOString(),
        last: {
          id: 'rst-1',
          state: 'succeeded',
          passed: true,
          trigger: 'schedule',
          point: 'snap-1',
          startedAt: COMPLETED,
          finishedAt: COMPLETED,
          target: 'mongodb://scratch:27017',
          rto: { restoreMs: 95_000, validationMs: 20_000, totalMs: 115_000, phases: [] },
          failedChecks: [],
          error: null,
          scratchLeftOver: [],
        },
      },
    ]);
    renderWithProviders(<Dashboard />);
    app.client.setConnection('connected');
    const card = await screen.findByRole('region', { name: 'Protection of prod-rs' });
    await within(card).findByText('passed');
    expect(within(card).getByTestId('restore-test').textContent).toMatch(
      /^passed \d{4}-\d\d-\d\d \d\d:\d\d:\d\d · \d+ days ago · RTO 95 s · next .* · in 6 days$/,
    );
  });

  it('draws the 30-day storage trend with uPlot and says what it shows', async () => {
    const app = connectedApp();
    stop = app.stop;
    app.client.answer('source.list', [SOURCE]);
    app.client.answer('source.status', status());
    app.client.answer('source.overview', overview());
    renderWithProviders(<Dashboard />);
    app.client.setConnection('connected');
    const chart = await screen.findByRole('img', { name: /^Storage held per day by prod-rs\./ });
    // Storage held, not bytes written: the peak is the day before retention pruned, not the biggest write.
    expect(chart.getAttribute('aria-label')).toBe(
      'Storage held per day by prod-rs. Held on 2026-11-30: 1.4 GiB (snapshots 768 MiB, oplog 688 MiB); ' +
        'on 2026-11-06: 1.4 GiB (recorded since 2026-11-06); most on 2026-11-20 (1.6 GiB).',
    );
    const card = screen.getByRole('region', { name: 'Protection of prod-rs' });
    expect(card.textContent).toContain('Storage held at the end of each day, last 30 days (compressed)');
    // uPlot built its chart: a canvas and the legend with both series.
    expect(chart.querySelector('.uplot canvas')).not.toBeNull();
    const legend = [...chart.querySelectorAll('.u-legend .u-series .u-label')].map((l) => l.textContent);
    expect(legend).toEqual(['day (UTC)', 'total', 'snapshots', 'oplog']);
  });

  it('reads each overview once a minute, and again at once after a task ends', async () => {
    const app = connectedApp();
    stop = app.stop;
    app.client.answer('source.list', [SOURCE]);
    app.client.answer('source.status', status());
    app.client.answer('source.overview', overview());
    renderWithProviders(<Dashboard />);
    app.client.setConnection('connected');
    await screen.findByRole('img', { name: /Storage held per day/ });
    const overviewCalls = () => app.client.calls.filter((c) => c.name === 'source.overview');
    expect(overviewCalls()).toEqual([{ name: 'source.overview', input: { source: 'prod-rs', days: 30 } }]);
    await refreshSourcesAndAlerts();
    expect(overviewCalls()).toHaveLength(1);
    app.client.emit('task.finished', { taskId: 't1', kind: 'snapshot', state: 'succeeded', error: null });
    await waitFor(() => expect(overviewCalls()).toHaveLength(2));
  });
});

const COMPLETED = '2026-11-23T11:22:58.384Z';

function status(capture: { recoveryPointSeconds?: number } = {}) {
  return {
    source: 'prod-rs',
    imported: false,
    capture: {
      state: 'capturing' as const,
      capturedTs: op(T0 + 598),
      sourceTs: op(T0 + 600),
      recoveryPointSeconds: capture.recoveryPointSeconds ?? 2,
      entriesPerSecond: 120,
      bytesPerSecond: 40_000,
      segmentsWritten: 12,
      gaps: 0,
      lastError: null,
    },
    lastSnapshot: {
      id: 'snap-1',
      status: 'complete' as const,
      startTs: op(T0),
      consistentTs: op(T0 + 5),
      completedAt: COMPLETED,
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
        kind: 'OPLOG_WINDOW_LOW' as const,
        severity: 'warning' as const,
        message: 'The oplog of prod-rs covers 2.0 h, below the 24 h threshold.',
        raisedAt: COMPLETED,
        resolvedAt: null,
      },
    ],
    oplogWindow: { first: op(T0 - 7200), last: op(T0 + 600), hours: 2.1666, checkedAt: COMPLETED },
  };
}

const MiB = 1024 * 1024;

function overview(
  window: { gaps?: CommandOutput<'source.overview'>['pitrWindow']['gaps']; gapSeconds?: number } = {},
): CommandOutput<'source.overview'> {
  const days = Array.from({ length: 30 }, (_, k) => ({
    day: new Date(Date.parse('2026-11-01T00:00:00Z') + k * 86_400_000).toISOString().slice(0, 10),
    snapshotBytes: k === 19 ? 30 * MiB : 0,
    oplogBytes: 12 * MiB,
    // Recorded from the 6th on: 400 MiB of oplog growing by 12 MiB a day; on the 21st retention
    // deleted 256 MiB of snapshots (what was written per day above does not show that).
    held:
      k < 5 ? null : { snapshotBytes: (k < 20 ? 1024 : 768) * MiB, oplogBytes: (400 + 12 * (k - 5)) * MiB },
  }));
  return {
    source: 'prod-rs',
    jobState: 'active',
    rpoObjectiveSeconds: 60,
    nextSnapshot: { at: new Date(Date.now() + 20 * 60_000).toISOString(), tiers: ['hourly', 'daily'] },
    pitrWindow: {
      hours: 72,
      from: '2026-11-28T12:00:00Z',
      to: '2026-12-01T12:00:00Z',
      coveredSeconds: 5 * 3600,
      restorableSeconds: 4.5 * 3600,
      gaps: window.gaps ?? [],
      gapSeconds: window.gapSeconds ?? 0,
    },
    storage: {
      storedBytes: 1536 * MiB,
      snapshotBytes: 1024 * MiB,
      oplogBytes: 512 * MiB,
      snapshots: 4,
      segments: 900,
      days,
    },
  };
}
