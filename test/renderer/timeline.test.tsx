import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { useNavigation } from '../../renderer/src/app/navigation';
import { useDashboard } from '../../renderer/src/features/dashboard/dashboard-store';
import { Timeline } from '../../renderer/src/features/timeline/Timeline';
import { useTimeline } from '../../renderer/src/features/timeline/timeline-store';
import { duration, epochSecondsToIso, localDateTime } from '../../renderer/src/ui/format';
import { connectedApp, renderWithProviders } from './harness';
import { op, timelineAnswer, type SourceModel } from './timeline-model';
import type { FakeClient } from './fake-client';

let stop: () => void = () => {};
afterEach(() => stop());
beforeEach(() => {
  useTimeline.setState(useTimeline.getInitialState(), true);
  useNavigation.setState(useNavigation.getInitialState(), true);
});

const NOW = Math.floor(Date.now() / 1000);
const at = (t: number) => localDateTime(epochSecondsToIso(t));
const iso = (t: number) => epochSecondsToIso(t).replace('.000Z', 'Z');

const sourceView = (name: string, imported = false) => ({
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

function status(name: string, state: 'capturing' | 'stopped', captured: number | null, rp: number | null) {
  return {
    source: name,
    imported: false,
    capture: {
      state,
      capturedTs: captured === null ? null : op(captured),
      sourceTs: captured === null ? null : op(captured + (rp ?? 0)),
      recoveryPointSeconds: rp,
      entriesPerSecond: 10,
      bytesPerSecond: 1000,
      segmentsWritten: 3,
      gaps: 0,
      lastError: null,
    },
    lastSnapshot: null,
    coverage: { source: name, intervals: [], gaps: [], snapshots: 0 },
    openAlerts: [],
    oplogWindow: null,
  };
}

/** A status whose coverage holds the model's first interval (where the history is, before any timeline answer). */
function withCoverage(st: ReturnType<typeof status>, model: SourceModel, segments: number) {
  const [from, to] = model.intervals[0]!;
  return {
    ...st,
    coverage: { ...st.coverage, intervals: [{ start: op(from), end: op(to), seconds: to - from, segments }] },
  };
}

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

/** A connected app with one source answered from its model. */
function withSource(
  name: string,
  model: SourceModel,
  opts: { imported?: boolean; capturing?: boolean; rp?: number } = {},
): FakeClient {
  const app = connectedApp();
  stop = app.stop;
  const c = app.client;
  c.answer('source.list', [sourceView(name, opts.imported)]);
  const live = model.intervals.at(-1)?.[1] ?? null;
  c.answer('source.status', status(name, opts.capturing ? 'capturing' : 'stopped', live, opts.rp ?? null));
  c.answer('timeline.get', timelineAnswer(name, model));
  c.answer('restore.list', []);
  c.answer('snapshot.list', []);
  c.answer(
    'backup-job.get',
    opts.imported
      ? new Error(`${name} was imported from a mongodump: it has no backup job.`)
      : ({ source: name, state: 'active', reason: null, policy: POLICY, nextRuns: {} } as never),
  );
  return c;
}

/** The canvas and what its description says. */
async function described(match: RegExp | string) {
  const canvas = await screen.findByRole('application', { name: /^Timeline of / });
  const ids = canvas.getAttribute('aria-describedby')!.split(' ');
  await waitFor(() => expect(document.getElementById(ids[0]!)!.textContent).toMatch(match), {
    timeout: 3000,
  });
  return {
    canvas,
    text: document.getElementById(ids[0]!)!.textContent!,
    keys: document.getElementById(ids[1]!)!.textContent!,
  };
}

describe('the Timeline section', () => {
  it('explains what will appear when there is no source', async () => {
    const app = connectedApp();
    stop = app.stop;
    renderWithProviders(<Timeline />);
    app.client.setConnection('connected');
    expect(await screen.findByText('Nothing captured yet')).toBeTruthy();
    expect(screen.getByRole('note').textContent).toContain('Add a source under Sources');
    expect(screen.queryByRole('application')).toBeNull();
  });

  it('while capturing: the live edge, coverage, snapshots by tier and lock, the PITR edge, in-place restores, the keys', async () => {
    const model: SourceModel = {
      intervals: [[NOW - 3600, NOW - 2]],
      snapshots: [
        { id: 'snap-daily', t: NOW - 3000, tiers: ['daily'] },
        {
          id: 'snap-locked',
          t: NOW - 1200,
          tiers: [],
          lockedUntil: new Date((NOW + 86_400) * 1000).toISOString(),
        },
      ],
      pitrWindowHours: 1,
    };
    const c = withSource('prod-rs', model, { capturing: true, rp: 2 });
    c.answer('restore.list', [
      {
        id: 'r-in-place',
        source: 'prod-rs',
        point: iso(NOW - 2000),
        kind: 'in-place',
        state: 'succeeded',
        startedAt: epochSecondsToIso(NOW - 600),
        finishedAt: epochSecondsToIso(NOW - 590),
        actor: 'dba',
        target: null,
        options: {},
        report: null,
        error: null,
        markerLeft: false,
      },
    ]);
    renderWithProviders(<Timeline />);
    c.setConnection('connected');
    const { canvas, text, keys } = await described(/1 daily/);
    expect(canvas.getAttribute('aria-label')).toBe('Timeline of prod-rs');
    expect(canvas.getAttribute('aria-roledescription')).toBe('timeline');
    expect(canvas.tabIndex).toBe(0);
    expect(text).toMatch(/^Showing \d{4}-\d\d-\d\d \d\d:\d\d:\d\d to .* local time \(/);
    expect(text).toContain(`prod-rs: capture running, live edge ${at(NOW - 2)} (recovery point 2 s)`);
    expect(text).toMatch(/oplog covers \d+% of the range, \d+% restorable/);
    expect(text).toContain('2 snapshots (1 daily, 1 on demand), 1 locked by retention');
    expect(text).toContain('no gap');
    expect(text).toContain(`PITR window starts ${at(NOW - 2 - 3600)}`);
    expect(text).toContain(`in-place restore to ${iso(NOW - 2000)} at ${at(NOW - 600)}`);
    expect(keys).toContain('Enter shows what a restore at the second under the cursor would use');
    // The first view follows now and asked only for its range, at about a bucket per pixel.
    expect(screen.getByRole('switch', { name: 'Follow live edge' })).toHaveProperty('checked', true);
    const asked = c.calls
      .filter((x) => x.name === 'timeline.get')
      .map((x) => x.input as { from: string; to: string; width: number });
    expect(asked.length).toBeGreaterThanOrEqual(2); // the overview, then the view
    const fine = asked.at(-1)!;
    expect(Date.parse(fine.to) - Date.parse(fine.from)).toBeLessThan(4 * 86_400_000);
    expect(fine.width).toBeLessThanOrEqual(8192);
  });

  it('moves the live edge on capture.segment and reads the live end again', async () => {
    const model: SourceModel = {
      intervals: [[NOW - 600, NOW - 20]],
      snapshots: [{ id: 's', t: NOW - 500, tiers: [] }],
    };
    const c = withSource('prod-rs', model, { capturing: true, rp: 20 });
    renderWithProviders(<Timeline />);
    c.setConnection('connected');
    await described(`live edge ${at(NOW - 20)}`);
    const asked = () => c.calls.filter((x) => x.name === 'timeline.get').length;
    const before = asked();
    model.intervals[0]![1] = NOW - 5; // capture wrote a segment
    c.emit('capture.segment', { sourceId: 'id-prod-rs', source: 'prod-rs', lastTs: op(NOW - 5) });
    await described(`live edge ${at(NOW - 5)}`);
    // Within a second the answers reaching the old live edge are read again.
    await waitFor(() => expect(asked()).toBeGreaterThan(before), { timeout: 3000 });
  });

  it('marks an in-place restore once its task ends', async () => {
    const model: SourceModel = {
      intervals: [[NOW - 600, NOW - 2]],
      snapshots: [{ id: 's', t: NOW - 500, tiers: [] }],
    };
    const c = withSource('prod-rs', model, { capturing: true, rp: 2 });
    renderWithProviders(<Timeline />);
    c.setConnection('connected');
    const { text } = await described(/prod-rs: capture running/);
    expect(text).not.toContain('in-place restore');
    c.answer('restore.list', [
      {
        id: 'r-2',
        source: 'prod-rs',
        point: iso(NOW - 400),
        kind: 'in-place',
        state: 'succeeded',
        startedAt: epochSecondsToIso(NOW - 60),
        finishedAt: epochSecondsToIso(NOW - 50),
        actor: null,
        target: null,
        options: {},
        report: null,
        error: null,
        markerLeft: false,
      },
    ]);
    c.answer('task.list', []);
    c.emit('task.finished', { taskId: 't-1', kind: 'restore.in-place', state: 'succeeded', error: null });
    await described(`in-place restore to ${iso(NOW - 400)} at ${at(NOW - 60)}`);
  });

  it('shows gaps in red with their cause', async () => {
    const model: SourceModel = {
      intervals: [
        [NOW - 7200, NOW - 5000],
        [NOW - 4000, NOW - 3000],
        [NOW - 2990, NOW - 10],
      ],
      gapReasons: ['chain-break', 'corrupt'],
      snapshots: [{ id: 's1', t: NOW - 7000, tiers: ['hourly'] }],
    };
    const c = withSource('prod-rs', model, { capturing: true, rp: 1 });
    renderWithProviders(<Timeline />);
    c.setConnection('connected');
    const { text } = await described(/gap from/);
    expect(text).toContain(
      `gap from ${at(NOW - 4999)} to ${at(NOW - 4000)} (17 min): oplog rolled over (capture stopped or fell behind)`,
    );
    expect(text).toContain(`gap from ${at(NOW - 2999)} to ${at(NOW - 2990)} (10 s): corrupt segment`);
    expect(screen.getByRole('list', { name: 'Legend' }).textContent).toContain('gap');
  });

  it('an imported source: snapshots only, marked as imported, nothing captured', async () => {
    const model: SourceModel = {
      intervals: [],
      snapshots: [
        { id: 'imp-1', t: NOW - 3 * 86_400, tiers: [] },
        { id: 'imp-2', t: NOW - 2 * 86_400, tiers: [] },
      ],
    };
    const c = withSource('legacy', model, { imported: true });
    renderWithProviders(<Timeline />);
    c.setConnection('connected');
    const { text } = await described(/imported\)/);
    expect(text).toContain('legacy: imported from a dump (snapshots only, nothing captured)');
    expect(text).toContain('no oplog: only its snapshots are restore points');
    expect(text).toContain('2 snapshots (2 imported)');
    expect(text).not.toContain('live edge');
    expect(screen.getByRole('switch', { name: 'Follow live edge' })).toHaveProperty('checked', false);
  });

  it('opening the section asks for its first view at once, before the section is drawn, and only once', async () => {
    const model: SourceModel = {
      intervals: [[NOW - 30 * 86_400, NOW - 86_400]],
      snapshots: [{ id: 's', t: NOW - 20 * 86_400, tiers: ['daily'] }],
    };
    const c = withSource('prod-rs', model);
    c.answer('source.status', withCoverage(status('prod-rs', 'stopped', NOW - 86_400, null), model, 10));
    c.setConnection('connected');
    // The status bar's poll has read the sources and their statuses (where each history is).
    await waitFor(() => expect(useDashboard.getState().statuses['prod-rs']).toBeDefined());
    const firstViews = () =>
      c.calls
        .filter((x) => x.name === 'timeline.get')
        .map((x) => x.input as { from: string; to: string; width: number })
        .filter((x) => Date.parse(x.from) > (NOW - 40 * 86_400) * 1000);
    expect(firstViews()).toHaveLength(0);
    useNavigation.getState().setSection('timeline');
    // Asked in the same tick as the click, at the window's width (the canvas is not measured yet).
    expect(firstViews()).toHaveLength(1);
    expect(useTimeline.getState().width).toBe(window.innerWidth);
    expect(firstViews()[0]!.width).toBeGreaterThanOrEqual(window.innerWidth);
    renderWithProviders(<Timeline />);
    const { text } = await described(/1 snapshot \(1 daily\)/);
    expect(text).toMatch(/local time \(34 days\)/); // the whole history, placed from the status
    expect(firstViews()).toHaveLength(1);
  });

  it('a first view placed from the status while capturing shows the whole history, its start and the PITR edge', async () => {
    // The PITR window begins 2 s before the first entry: in sight only if the view starts before the history.
    const model: SourceModel = { intervals: [[NOW - 3600, NOW - 2]], snapshots: [], pitrWindowHours: 1 };
    const c = withSource('prod-rs', model, { capturing: true, rp: 2 });
    c.answer('source.status', withCoverage(status('prod-rs', 'capturing', NOW - 2, 2), model, 360));
    c.setConnection('connected');
    await waitFor(() => expect(useDashboard.getState().statuses['prod-rs']).toBeDefined());
    useNavigation.getState().setSection('timeline');
    const first = useTimeline.getState().view!;
    expect(first.from).toBeLessThan(NOW - 3600 - 300); // a tenth of the history before it
    expect(first.to).toBeGreaterThan(Date.now() / 1000); // following: now is in sight
    renderWithProviders(<Timeline />);
    const { text } = await described(/PITR window starts/);
    expect(text).toContain(`PITR window starts ${at(NOW - 2 - 3600)}`);
  });

  it('zooms and pans by keyboard alone, the description following', async () => {
    const model: SourceModel = {
      intervals: [[NOW - 86_400, NOW - 2]],
      snapshots: [{ id: 's', t: NOW - 80_000, tiers: ['daily'] }],
    };
    const c = withSource('prod-rs', model, { capturing: true, rp: 2 });
    renderWithProviders(<Timeline />);
    c.setConnection('connected');
    const { canvas } = await described(/prod-rs: capture running/);
    const span = () => useTimeline.getState().view!.to - useTimeline.getState().view!.from;
    const first = span();
    canvas.focus();
    fireEvent.keyDown(canvas, { key: '+' });
    expect(span()).toBeCloseTo(first / 2, 3);
    fireEvent.keyDown(canvas, { key: '-' });
    fireEvent.keyDown(canvas, { key: '-' });
    expect(span()).toBeCloseTo(first * 2, 3);
    // The description follows once the view settles.
    await described(new RegExp(`local time \\(${duration(first * 2).replace('.', '\\.')}\\)`));
    const before = useTimeline.getState().view!;
    fireEvent.keyDown(canvas, { key: 'ArrowLeft', shiftKey: true });
    const after = useTimeline.getState().view!;
    expect(after.from).toBeCloseTo(before.from - (before.to - before.from), 0);
    expect(useTimeline.getState().follow).toBe(false); // panning back stops following
    fireEvent.keyDown(canvas, { key: 'End' });
    expect(useTimeline.getState().follow).toBe(true);
    expect(screen.getByTestId('timeline-cursor').textContent).toMatch(
      / local · \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/,
    );
  });
});

describe('the point panel', () => {
  const model: SourceModel = {
    intervals: [
      [NOW - 7200, NOW - 5000],
      [NOW - 4000, NOW - 10],
    ],
    snapshots: [
      { id: 'snap-a', t: NOW - 7000, tiers: ['daily'], documents: 120_000 },
      { id: 'snap-b', t: NOW - 3500, tiers: ['hourly'], documents: 120_500 },
    ],
  };
  const restorablePlan = (t: number) => ({
    restorable: true as const,
    source: 'prod-rs',
    point: iso(t),
    replayThrough: op(t),
    snapshot: {
      id: 'snap-b',
      path: 'snapshots/snap-b',
      startTs: op(NOW - 3510),
      consistentTs: op(NOW - 3500),
      completedAt: null,
    },
    interval: { start: op(NOW - 4000), end: op(NOW - 10), seconds: 3990, segments: 40 },
    segments: [{ path: 'oplog/1', firstTs: op(NOW - 3600), lastTs: op(t), entries: 1234 }],
    entriesToReplayAtMost: 1234,
  });

  it('restorable: the snapshot, the entries to replay, the estimate from the last restore, and the hand-offs', async () => {
    const c = withSource('prod-rs', model, { capturing: true, rp: 2 });
    const t = NOW - 1000;
    c.answer('restore.plan', async () => restorablePlan(t));
    c.answer('snapshot.list', [
      {
        id: 'snap-b',
        status: 'complete',
        startTs: op(NOW - 3510),
        consistentTs: op(NOW - 3500),
        completedAt: null,
        documents: 120_500,
        storedBytes: 1,
        lockedUntil: null,
      },
    ]);
    c.answer('restore.list', [
      {
        id: 'r-1',
        source: 'prod-rs',
        point: 'latest',
        kind: 'new-target',
        state: 'succeeded',
        startedAt: '2026-11-20T10:00:00Z',
        finishedAt: '2026-11-20T10:00:30Z',
        actor: null,
        target: null,
        options: {},
        report: {
          namespaces: [{ documents: 100_000 }],
          oplog: { entries: 2000 },
          phases: [
            { name: 'copying documents', ms: 10_000 },
            { name: 'replaying the oplog', ms: 1000 },
            { name: 'checking the target', ms: 2000 },
          ],
        },
        error: null,
        markerLeft: false,
      },
    ]);
    renderWithProviders(<Timeline />);
    c.setConnection('connected');
    await described(/prod-rs: capture running/);
    fireEvent.change(screen.getByLabelText('Go to'), { target: { value: iso(t) } });
    fireEvent.keyDown(screen.getByLabelText('Go to'), { key: 'Enter' });
    const panel = await screen.findByRole('region', { name: 'Restore point' });
    await within(panel).findByText('Restorable');
    expect(within(panel).getByRole('heading').textContent).toBe(
      `prod-rs at ${at(t)} (${epochSecondsToIso(t).replace('T', ' ').replace('.000Z', ' UTC')})`,
    );
    expect(panel.textContent).toContain(`snap-b, consistent at ${at(NOW - 3500)} (120\u2009500 documents)`);
    expect(panel.textContent).toContain('at most 1\u2009234 entries from 1 segment');
    // 2 s fixed + 120,500 docs at 10,000/s + 1,234 entries at 2,000/s = 14.7 s.
    await waitFor(() =>
      expect(within(panel).getByTestId('point-estimate').textContent).toMatch(
        /^about 15 s, at the rate of the restore finished \d{4}-/,
      ),
    );
    expect(c.calls.find((x) => x.name === 'restore.plan')!.input).toEqual({ source: 'prod-rs', at: iso(t) });
    fireEvent.click(within(panel).getByRole('button', { name: 'Restore here' }));
    expect(useNavigation.getState().section).toBe('restores');
    expect(useNavigation.getState().handoff).toEqual({ action: 'restore', source: 'prod-rs', at: iso(t) });
    useNavigation.setState({ section: 'timeline' });
    fireEvent.click(within(panel).getByRole('button', { name: 'Browse here' }));
    expect(useNavigation.getState().handoff).toEqual({ action: 'browse', source: 'prod-rs', at: iso(t) });
    expect(useNavigation.getState().section).toBe('browse');
    fireEvent.click(within(panel).getByRole('button', { name: 'Export here' }));
    expect(useNavigation.getState().handoff?.action).toBe('export');
  });

  it('on an incident flag: the entry just before it, and "restore to just before this" hands that exact point on', async () => {
    const c = withSource('prod-rs', model, { capturing: true, rp: 2 });
    const t = NOW - 1000;
    const exact = `${t}:4`;
    c.answer('restore.plan', async () => ({
      ...restorablePlan(t),
      point: exact,
      replayThrough: { ...op(t), i: 4, text: exact },
    }));
    renderWithProviders(<Timeline />);
    c.setConnection('connected');
    await described(/prod-rs: capture running/);
    // What a click on the flag does (TimelineAxis: the flag's pickAt, pickExact and label).
    void useTimeline
      .getState()
      .pick('prod-rs', t, exact, 'Database shop dropped (2 collections, 10 documents)');
    const panel = await screen.findByRole('region', { name: 'Restore point' });
    await within(panel).findByText('Restorable');
    expect(within(panel).getByTestId('point-before').textContent).toBe(
      `Just before: Database shop dropped (2 collections, 10 documents) (oplog timestamp ${exact})`,
    );
    expect(c.calls.find((x) => x.name === 'restore.plan')!.input).toEqual({ source: 'prod-rs', at: exact });
    expect(within(panel).queryByRole('button', { name: 'Restore here' })).toBeNull();
    fireEvent.click(within(panel).getByRole('button', { name: 'Restore to just before this' }));
    expect(useNavigation.getState().handoff).toEqual({ action: 'restore', source: 'prod-rs', at: exact });
    expect(useNavigation.getState().section).toBe('restores');
  });

  it('not restorable: why, and the nearest restorable seconds as buttons that go there', async () => {
    const c = withSource('prod-rs', model, { capturing: true, rp: 2 });
    const t = NOW - 4500; // in the gap
    c.answer('restore.plan', async ({ at: point }) =>
      point === iso(t)
        ? {
            restorable: false as const,
            source: 'prod-rs',
            point,
            reason: 'IN_GAP' as const,
            message: 'The point falls in a gap of the oplog; no restore can cross it.',
            nearestInterval: { start: op(NOW - 7200), end: op(NOW - 5000) },
          }
        : restorablePlan(Date.parse(point) / 1000),
    );
    renderWithProviders(<Timeline />);
    c.setConnection('connected');
    await described(/prod-rs: capture running/);
    fireEvent.change(screen.getByLabelText('Go to'), { target: { value: iso(t) } });
    fireEvent.click(screen.getByRole('button', { name: 'Go' }));
    const panel = await screen.findByRole('region', { name: 'Restore point' });
    await within(panel).findByText('Not restorable');
    expect(panel.textContent).toContain('Inside a gap of the oplog');
    expect(panel.textContent).toContain('The point falls in a gap of the oplog; no restore can cross it.');
    const nearest = await within(panel).findByRole('group', { name: 'Nearest restorable points' });
    // The last second of the interval before the gap, and the first restorable one after it (its snapshot).
    const earlier = within(nearest).getByRole('button', { name: `Earlier: ${at(NOW - 5000)}` });
    within(nearest).getByRole('button', { name: `Later: ${at(NOW - 3500)}` });
    expect(within(panel).queryByRole('button', { name: 'Restore here' })).toBeNull();
    fireEvent.click(earlier);
    await within(panel).findByText('Restorable');
    expect(useTimeline.getState().point?.t).toBe(NOW - 5000);
    expect(within(panel).getByRole('button', { name: 'Restore here' })).toBeTruthy();
  });
});
