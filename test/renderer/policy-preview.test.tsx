import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import type { CommandOutput } from '../../engine/api/contract';
import { BackupJobCard } from '../../renderer/src/features/sources/BackupJobCard';
import { connectedApp, renderWithProviders } from './harness';

let stop: () => void = () => {};
afterEach(() => stop());

const POLICY: CommandOutput<'backup-job.get'>['policy'] = {
  hourly: { everyHours: 1, keepDays: 2 },
  daily: { at: '03:00', keepDays: 7 },
  weekly: null,
  monthly: { day: 1, at: '03:00', keepMonths: 12 },
  onDemandKeepDays: 7,
  pitrWindowHours: 72,
  segmentSeconds: 10,
  segmentMaxMB: 16,
  rpoObjectiveSeconds: 60,
  oplogWindowAlertHours: 24,
  diskAlertPercent: 90,
  restoreTest: null,
  preset: 'custom',
};
const JOB: CommandOutput<'backup-job.get'> = {
  source: 'prod-rs',
  state: 'active',
  reason: null,
  policy: POLICY,
  nextRuns: { hourly: '2026-12-01T12:00:00.000Z' },
};
const MiB = 1024 * 1024;
const at = (iso: string, tiers: string[], existing = false, lockedUntil: string | null = null) => ({
  at: iso,
  tiers: tiers as ('hourly' | 'daily' | 'weekly' | 'monthly')[],
  existing,
  id: existing ? `snap-${iso}` : null,
  lockedUntil,
  storedBytes: existing ? 20 * MiB : null,
});

function preview(problems: string[] = []): CommandOutput<'policy.preview'> {
  const hourly = Array.from({ length: 48 }, (_, k) =>
    at(new Date(Date.parse('2026-12-29T12:00:00Z') + k * 3_600_000).toISOString(), ['hourly']),
  );
  return {
    source: 'prod-rs',
    from: '2026-12-01T11:37:00.000Z',
    horizon: '2026-12-31T11:37:00.000Z',
    problems,
    snapshots: [
      at('2026-10-15T09:00:00.000Z', [], true, '2027-06-01T00:00:00.000Z'),
      at('2026-12-01T11:37:00.000Z', ['hourly', 'daily', 'monthly'], true),
      ...['25', '26', '27', '28'].map((d) => at(`2026-12-${d}T03:00:00.000Z`, ['hourly', 'daily'])),
      ...hourly,
    ].sort((a, b) => a.at.localeCompare(b.at)),
    planned: 721,
    storage: {
      snapshotBytes: 540 * MiB,
      oplogBytes: 300 * MiB,
      totalBytes: 840 * MiB,
      oplogDays: 77.1,
      estimatedSnapshots: 52,
      basis: { snapshotBytes: 10 * MiB, oplogBytesPerDay: 4 * MiB, oplogMeasuredDays: 2 },
    },
  };
}

async function openEditor(answer: CommandOutput<'policy.preview'>) {
  const app = connectedApp();
  stop = app.stop;
  app.client.answer('backup-job.get', JOB);
  app.client.answer('backup-job.defaults', {
    policy: POLICY,
    presets: { default: POLICY, 'pci-dss': POLICY },
  });
  app.client.answer('policy.preview', answer);
  renderWithProviders(<BackupJobCard source="prod-rs" />);
  app.client.setConnection('connected');
  fireEvent.click(await screen.findByRole('button', { name: 'Edit policy' }));
  const section = await screen.findByRole('region', { name: 'Preview of this policy' });
  return { app, section };
}

describe('the policy preview', () => {
  it('shows, before saving, the calendar of snapshots that exist a month from now and the estimated storage', async () => {
    const p = preview();
    const { app, section } = await openEditor(p);
    const summary = await within(section).findByTestId('preview-summary');
    expect(summary.textContent).toBe(
      '54 snapshot(s) kept: 1 monthly, 4 daily, 48 hourly, 1 on demand · 2 of them taken already · 721 taken in the month',
    );
    // The editor asked with the policy as it stands in the form.
    expect(app.client.calls.find((c) => c.name === 'policy.preview')!.input).toEqual({
      source: 'prod-rs',
      policy: POLICY,
    });
    const calendar = within(section).getByRole('table', {
      name: 'Snapshots that exist on 2026-12-31, by the UTC day they were taken',
    });
    const day = (d: string) => calendar.querySelector(`[data-day="${d}"]`)!;
    expect(day('2026-11-30').getAttribute('aria-label')).toBe('2026-11-30: none');
    expect(day('2026-12-01').getAttribute('aria-label')).toBe('2026-12-01: 1 monthly');
    expect(day('2026-12-01').textContent).toBe('12-011M');
    expect(day('2026-12-25').getAttribute('aria-label')).toBe('2026-12-25: 1 daily');
    expect(day('2026-12-29').getAttribute('aria-label')).toBe('2026-12-29: 12 hourly');
    expect(day('2026-12-30').textContent).toBe('12-3024H');
    expect(day('2026-12-31').getAttribute('aria-label')).toBe('2026-12-31: 12 hourly');
    expect(calendar.querySelectorAll('tbody tr')).toHaveLength(5);
    expect(within(section).getByTestId('preview-older').textContent).toBe(
      'Older, still kept: 2026-10-15 (on demand, locked)',
    );
    const storage = within(section).getByTestId('preview-storage');
    expect(storage.textContent).toContain(
      'Estimated storage then: 840 MiB — snapshots 540 MiB, oplog 300 MiB (77.1 days kept)',
    );
    expect(storage.textContent).toContain('52 planned snapshot(s) sized like the newest one (10 MiB).');
    expect(storage.textContent).toContain('Oplog at 4.0 MiB per day, measured over 2 days.');
    expect(within(section).queryByText('Saving would be refused')).toBeNull();
  });

  it('asks again when a field changes, and says what saving would refuse', async () => {
    const p = preview(['PCI-DSS needs daily snapshots kept at least 90 days.']);
    const { app, section } = await openEditor(p);
    expect(await within(section).findByText('Saving would be refused')).toBeTruthy();
    expect(section.textContent).toContain('PCI-DSS needs daily snapshots kept at least 90 days.');
    const asked = () => app.client.calls.filter((c) => c.name === 'policy.preview');
    const before = asked().length;
    fireEvent.change(screen.getByLabelText('daily keep (days)'), { target: { value: '30' } });
    await waitFor(() => expect(asked().length).toBe(before + 1));
    expect((asked().at(-1)!.input as { policy: typeof POLICY }).policy.daily).toEqual({
      at: '03:00',
      keepDays: 30,
    });
  });

  it('shows the engine refusal of values it cannot preview', async () => {
    const app = connectedApp();
    stop = app.stop;
    app.client.answer('backup-job.get', JOB);
    app.client.answer('backup-job.defaults', {
      policy: POLICY,
      presets: { default: POLICY, 'pci-dss': POLICY },
    });
    const { ClientError } = await import('../../renderer/src/app/client/client-error');
    app.client.answer(
      'policy.preview',
      new ClientError({ code: 'INVALID_INPUT', message: 'policy.daily.keepDays: expected number' }),
    );
    renderWithProviders(<BackupJobCard source="prod-rs" />);
    app.client.setConnection('connected');
    fireEvent.click(await screen.findByRole('button', { name: 'Edit policy' }));
    const section = await screen.findByRole('region', { name: 'Preview of this policy' });
    const alert = await within(section).findByRole('alert');
    expect(alert.textContent).toBe('No preview for these values: policy.daily.keepDays: expected number');
  });
});

describe('the policy editor', () => {
  const fsyncField = () => screen.getByRole('textbox', { name: 'Fsync the capture journal every (ms)' });

  it("edits the capture journal's fsync interval (200 ms when the policy does not say) and saves it", async () => {
    const { app } = await openEditor(preview());
    expect(fsyncField()).toHaveProperty('value', '200');
    expect(screen.getByText(/a recovery point that trails by up to this much/)).toBeTruthy();
    const asked = () => app.client.calls.filter((c) => c.name === 'policy.preview');
    const before = asked().length;
    fireEvent.change(fsyncField(), { target: { value: '500' } });
    // The preview follows the field, and Save sends it.
    await waitFor(() => expect(asked().length).toBe(before + 1));
    expect((asked().at(-1)!.input as { policy: typeof POLICY }).policy.journalFsyncMs).toBe(500);
    app.client.answer('backup-job.set', { ...JOB, policy: { ...POLICY, journalFsyncMs: 500 } });
    fireEvent.click(screen.getByRole('button', { name: 'Save policy' }));
    await waitFor(() =>
      expect(app.client.calls.find((c) => c.name === 'backup-job.set')?.input).toEqual({
        source: 'prod-rs',
        policy: { ...POLICY, journalFsyncMs: 500 },
      }),
    );
  });

  it('refuses an interval outside 10 ms to 10 s, says why, and sends nothing', async () => {
    const { app } = await openEditor(preview());
    for (const bad of ['5', '20000', '']) {
      fireEvent.change(fsyncField(), { target: { value: bad } });
      await waitFor(() => expect(fsyncField().getAttribute('aria-invalid')).toBe('true'));
      expect(screen.getByText('A whole number of milliseconds from 10 to 10,000.')).toBeTruthy();
      fireEvent.click(screen.getByRole('button', { name: 'Save policy' }));
      expect(await screen.findByText('Nothing saved: correct the field marked in red.')).toBeTruthy();
    }
    expect(app.client.calls.filter((c) => c.name === 'backup-job.set')).toEqual([]);
    fireEvent.change(fsyncField(), { target: { value: '10000' } });
    await waitFor(() => expect(fsyncField().getAttribute('aria-invalid')).not.toBe('true'));
    expect(screen.queryByText('A whole number of milliseconds from 10 to 10,000.')).toBeNull();
  });
});
