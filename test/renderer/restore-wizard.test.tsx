import { act, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import type { CommandInput, CommandOutput } from '../../engine/api/contract';
import { useNavigation } from '../../renderer/src/app/navigation';
import { Restores } from '../../renderer/src/features/restores/Restores';
import { connectedApp, renderWithProviders, SETTINGS } from './harness';

let stop: () => void = () => {};
afterEach(() => stop());

const T0 = 1_795_000_000;
const op = (t: number, i = 1) => ({ t, i, text: `${t}:${i}`, wall: new Date(t * 1000).toISOString() });
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
const snapshot = (id: string, t: number) => ({
  id,
  status: 'complete' as const,
  startTs: op(t),
  consistentTs: op(t + 5),
  completedAt: new Date((t + 6) * 1000).toISOString(),
  documents: 1200,
  storedBytes: 2 * 1024 * 1024,
  lockedUntil: null,
});
const SNAPSHOTS = [snapshot('snap-1', T0), snapshot('snap-2', T0 + 400)];
type Plan = CommandOutput<'restore.plan'>;
const restorable = (at: string, snap = SNAPSHOTS[0]!): Plan => ({
  restorable: true,
  source: 'prod-rs',
  point: at,
  replayThrough: op(Number(at.split(':')[0]) || T0 + 300),
  snapshot: {
    id: snap.id,
    path: `sources/src-1/snapshots/${snap.id}`,
    startTs: snap.startTs,
    consistentTs: snap.consistentTs,
    completedAt: snap.completedAt,
  },
  interval: { start: op(T0), end: op(T0 + 300), seconds: 300, segments: 3 },
  segments: [{ path: 'seg-1', firstTs: op(T0), lastTs: op(T0 + 300), entries: 420 }],
  entriesToReplayAtMost: 420,
});
const MANIFEST: CommandOutput<'snapshot.namespaces'> = {
  snapshotId: 'snap-1',
  consistentTs: op(T0 + 5),
  namespaces: [
    {
      ns: 'shop.orders',
      db: 'shop',
      name: 'orders',
      type: 'collection',
      documents: 1000,
      bytes: 90_000,
      indexes: 2,
    },
    {
      ns: 'shop.carts',
      db: 'shop',
      name: 'carts',
      type: 'collection',
      documents: 150,
      bytes: 9_000,
      indexes: 1,
    },
    {
      ns: 'crm.people',
      db: 'crm',
      name: 'people',
      type: 'collection',
      documents: 50,
      bytes: 4_000,
      indexes: 1,
    },
  ],
  users: null,
  roles: null,
};

/** The app with one source and its snapshots, a plan for every point, and the wizard opened by a hand-off. */
async function openWizard(
  at: string,
  plan: (input: CommandInput<'restore.plan'>) => Plan = (i) => restorable(i.at),
) {
  const app = connectedApp();
  stop = app.stop;
  app.client.answer('source.list', [SOURCE]);
  app.client.answer('snapshot.list', SNAPSHOTS);
  app.client.answer('restore.list', []);
  app.client.answer('restore.plan', async (input) => plan(input));
  app.client.answer('snapshot.namespaces', MANIFEST);
  app.client.setConnection('connected');
  await waitFor(() => expect(app.client.calls.some((c) => c.name === 'source.list')).toBe(true));
  act(() => useNavigation.getState().handOff({ action: 'restore', source: 'prod-rs', at }));
  renderWithProviders(<Restores />);
  const wizard = await screen.findByRole('region', { name: 'Restore wizard' });
  return { app, wizard };
}

const next = (wizard: HTMLElement) => fireEvent.click(within(wizard).getByRole('button', { name: 'Next' }));

describe('the restore wizard', () => {
  it('refuses a point in a gap and offers the nearest restorable points before and after it', async () => {
    const asked = `${T0 + 350}:1`;
    const { wizard } = await openWizard(asked, ({ at }) => {
      if (at === asked)
        return {
          restorable: false,
          source: 'prod-rs',
          point: at,
          reason: 'IN_GAP',
          message: `The point falls in a gap of the oplog between ${T0 + 300}:1 and ${T0 + 400}:1 (chain-break); no restore can cross it.`,
          nearestInterval: { start: op(T0), end: op(T0 + 300) },
        };
      if (at === `${T0 + 300}:1`) return restorable(at);
      if (at === `${T0 + 405}:1`) return restorable(at, SNAPSHOTS[1]);
      throw new Error(`unexpected plan of ${at}`);
    });
    const plan = await within(wizard).findByTestId('plan');
    await within(plan).findByText('Not restorable: In a gap of the oplog');
    expect(plan.textContent).toContain('no restore can cross it');
    const before = await within(plan).findByRole('button', { name: /^Before:/ });
    const after = within(plan).getByRole('button', { name: /^After:/ });
    expect(before.textContent).toContain(`(${T0 + 300}:1)`);
    expect(after.textContent).toContain(`(${T0 + 405}:1)`); // snap-2's consistent point, past the gap
    expect(within(wizard).getByRole('button', { name: 'Next' })).toHaveProperty('disabled', true);

    fireEvent.click(after);
    expect(within(wizard).getByLabelText('Oplog timestamp (t:i)')).toHaveProperty('value', `${T0 + 405}:1`);
    const ok = await within(wizard).findByText('Restorable');
    expect(ok.closest('[data-testid="plan"]')!.textContent).toContain('snap-2');
    expect(within(wizard).getByRole('button', { name: 'Next' })).toHaveProperty('disabled', false);
  });

  it('keeps the in-place Start button disabled until the source name is typed exactly', async () => {
    const { app, wizard } = await openWizard('latest');
    await within(wizard).findByText('Restorable');
    next(wizard);
    // A kind the engine cannot do yet is shown, disabled, with the reason.
    expect(within(wizard).getByRole('radio', { name: 'Into a throwaway local mongod' })).toHaveProperty(
      'disabled',
      true,
    );
    expect(wizard.textContent).toContain('Set the path of a mongod binary first');
    fireEvent.click(within(wizard).getByRole('radio', { name: 'In place, into the source itself' }));
    next(wizard);
    await within(wizard).findByTestId('namespace-tree');
    next(wizard);

    const statement = within(wizard).getByTestId('review-statement');
    const destructive = statement.querySelectorAll('[data-destructive]');
    expect(destructive.length).toBeGreaterThanOrEqual(2);
    expect([...destructive].map((d) => d.textContent).join(' ')).toContain(
      'The chosen namespaces are dropped in prod-rs and restored to the point',
    );
    const start = within(wizard).getByRole('button', { name: 'Start the in-place restore' });
    expect(start).toHaveProperty('disabled', true);
    const confirm = within(wizard).getByLabelText('Type prod-rs to confirm');
    for (const wrong of ['prod-r', 'PROD-RS', 'prod-rs ']) {
      fireEvent.change(confirm, { target: { value: wrong } });
      expect(start).toHaveProperty('disabled', true);
      expect(within(wizard).getByText("That is not the source's name (prod-rs).")).toBeTruthy();
    }
    fireEvent.change(confirm, { target: { value: 'prod-rs' } });
    expect(start).toHaveProperty('disabled', false);
    app.client.answer('restore.in-place', { taskId: 'task-1' });
    fireEvent.click(start);
    await waitFor(() =>
      expect(app.client.calls.find((c) => c.name === 'restore.in-place')?.input).toEqual({
        source: 'prod-rs',
        inPlace: true,
        at: 'latest',
        confirm: 'prod-rs',
        include: [],
        exclude: [],
        strict: false,
        parallel: 4,
      }),
    );
  });

  it('states what a restore into a new target will do, with the chosen namespaces and renames', async () => {
    const { app, wizard } = await openWizard(`${T0 + 200}:1`);
    await within(wizard).findByText('Restorable');
    next(wizard);
    fireEvent.change(within(wizard).getByLabelText('Target connection string'), {
      target: { value: 'mongodb://staging:27017/?replicaSet=rs9' },
    });
    next(wizard);
    const tree = await within(wizard).findByTestId('namespace-tree');
    expect(within(tree).getByText('1,000 documents · 88 KiB · 2 index(es)')).toBeTruthy();
    fireEvent.click(within(tree).getByLabelText('Database crm'));
    fireEvent.click(within(tree).getByLabelText('shop.carts'));
    expect(within(tree).getByLabelText('Database shop')).toHaveProperty('indeterminate', true);
    fireEvent.click(within(wizard).getByRole('button', { name: 'Add a rename' }));
    fireEvent.change(within(wizard).getByLabelText('Rename 1 from'), { target: { value: 'shop.$coll$' } });
    fireEvent.change(within(wizard).getByLabelText('Rename 1 to'), {
      target: { value: 'shop_staging.$coll$' },
    });
    fireEvent.click(within(wizard).getByLabelText('Drop target collections that exist first'));
    next(wizard);

    const lines = within(within(wizard).getByTestId('review-statement'))
      .getAllByRole('listitem')
      .map((li) => li.textContent);
    expect(lines[0]).toBe(
      `Restore prod-rs as it was at ${T0 + 200}:1: snapshot snap-1, then at most 420 oplog entries replayed through ${T0 + 200}:1.`,
    );
    expect(lines).toContain(
      'Into the deployment at mongodb://staging:27017/?replicaSet=rs9 (a new target; the source is not touched).',
    );
    expect(lines).toContain('Namespaces: 1 namespace: shop.orders (1,000 documents, 88 KiB).');
    expect(lines).toContain('Renamed on the way: shop.$coll$ becomes shop_staging.$coll$.');
    const drop = within(wizard).getByText(/Target collections that already exist are dropped first/);
    expect(drop.closest('[data-destructive]')).not.toBeNull();

    app.client.answer('restore.run', { taskId: 'task-2' });
    fireEvent.click(within(wizard).getByRole('button', { name: 'Start the restore' }));
    await waitFor(() =>
      expect(app.client.calls.find((c) => c.name === 'restore.run')?.input).toEqual({
        source: 'prod-rs',
        at: `${T0 + 200}:1`,
        targetUri: 'mongodb://staging:27017/?replicaSet=rs9',
        include: ['shop.orders'],
        exclude: [],
        rename: ['shop.$coll$=shop_staging.$coll$'],
        drop: true,
        usersRoles: false,
        strict: false,
        parallel: 4,
      }),
    );
    // Progress comes from the task events: phase, counts, then the report when it ends.
    act(() =>
      app.client.emit('task.progress', {
        taskId: 'task-2',
        kind: 'restore',
        progress: { done: 500, total: 1000, unit: 'documents', message: 'copying documents' },
      }),
    );
    const progress = await within(wizard).findByTestId('restore-progress');
    expect(within(progress).getByText('copying documents')).toBeTruthy();
    expect(within(progress).getByText('500 / 1,000 documents')).toBeTruthy();

    // Cancel: the engine stops the task; the report is the history's entry, which says a marker was left.
    app.client.answer('task.cancel', {
      taskId: 'task-2',
      kind: 'restore',
      state: 'running',
      progress: { done: 500, total: 1000, unit: 'documents', message: 'copying documents' },
      startedAt: new Date().toISOString(),
      finishedAt: null,
      error: null,
    });
    fireEvent.click(within(progress).getByRole('button', { name: 'Cancel' }));
    await waitFor(() =>
      expect(app.client.calls.find((c) => c.name === 'task.cancel')?.input).toEqual({ taskId: 'task-2' }),
    );
    const cancelled = {
      id: 'r-9',
      source: 'prod-rs',
      point: `${T0 + 200}:1`,
      kind: 'new-target',
      state: 'cancelled' as const,
      startedAt: new Date().toISOString(),
      finishedAt: new Date().toISOString(),
      actor: 'dba',
      target: 'mongodb://staging:27017/',
      options: {},
      report: null,
      error: { code: 'CANCELLED', message: 'Cancelled by the user.' },
      markerLeft: true,
    };
    app.client.answer('restore.list', [cancelled]);
    app.client.answer('restore.get', cancelled);
    act(() =>
      app.client.emit('task.finished', {
        taskId: 'task-2',
        kind: 'restore',
        state: 'cancelled',
        error: { code: 'CANCELLED', message: 'Cancelled by the user.' },
      }),
    );
    const report = await within(wizard).findByTestId('restore-report');
    expect(report.getAttribute('data-outcome')).toBe('cancelled');
    expect(report.textContent).toContain('The target keeps the __mbm_restore_incomplete marker');
  });

  it('pre-selects the dump kind for a point handed over to export', async () => {
    const app = connectedApp();
    stop = app.stop;
    app.client.answer('source.list', [SOURCE]);
    app.client.answer('snapshot.list', SNAPSHOTS);
    app.client.answer('restore.list', []);
    app.client.answer('restore.plan', async (i) => restorable(i.at));
    app.client.setConnection('connected');
    act(() => useNavigation.getState().handOff({ action: 'export', source: 'prod-rs', at: 'latest' }));
    renderWithProviders(<Restores />);
    const wizard = await screen.findByRole('region', { name: 'Restore wizard' });
    await within(wizard).findByText('Restorable');
    next(wizard);
    expect(within(wizard).getByRole('radio', { name: 'Download as a dump' })).toHaveProperty('checked', true);
    expect(within(wizard).getByLabelText('Directory to create')).toBeTruthy();
    expect(useNavigation.getState().handoff).toBeNull(); // taken once
  });
});

describe('the Restores section', () => {
  const finished: CommandOutput<'restore.get'> = {
    id: 'r-1',
    source: 'prod-rs',
    point: `${T0 + 200}:1`,
    kind: 'new-target',
    state: 'succeeded',
    startedAt: '2026-11-23T11:00:00.000Z',
    finishedAt: '2026-11-23T11:00:42.000Z',
    actor: 'dba@ws1',
    target: 'mongodb://staging:27017/',
    options: {},
    report: {
      phases: [
        { name: 'copying documents', ms: 30_000, engineCpuMs: 9000 },
        { name: 'replaying the oplog', ms: 11_500, engineCpuMs: 3000 },
      ],
      validation: {
        passed: false,
        point: `${T0 + 200}:1`,
        snapshotId: 'snap-1',
        namespaces: 2,
        documentsCompared: 200,
        durationMs: 500,
        checks: [
          { name: 'collections', title: 'Databases and collections present', passed: true, findings: [] },
          {
            name: 'counts',
            title: 'Document counts per namespace',
            passed: false,
            findings: ['shop.orders: 999 documents on the target, 1000 in the backup.'],
          },
        ],
      },
      namespaces: [
        { source: 'shop.orders', target: 'shop.orders', type: 'collection', documents: 1000, failures: 0 },
      ],
      failures: { count: 0, examples: [] },
      oplog: { entries: 420, operations: 400, failures: 0 },
      durationMs: 41_500,
    },
    error: null,
    markerLeft: false,
  };

  it('lists the history from the catalog and shows a report: checklist with pass and fail, RTO per phase', async () => {
    const app = connectedApp();
    stop = app.stop;
    app.client.answer('restore.list', [finished]);
    app.client.answer('restore.get', finished);
    renderWithProviders(<Restores />);
    app.client.setConnection('connected');
    const table = await screen.findByRole('table', { name: 'Restore history' });
    const row = within(table).getByTestId('restore-row-r-1');
    const cells = within(row)
      .getAllByRole('cell')
      .map((c) => c.textContent);
    expect(cells.slice(0, 5)).toEqual([
      'validation failed',
      'new target',
      'prod-rs',
      `${T0 + 200}:1`,
      'mongodb://staging:27017/',
    ]);
    expect(cells[6]).toBe('42 s');

    fireEvent.click(within(row).getByRole('button', { name: `Report of prod-rs at ${T0 + 200}:1` }));
    const report = await screen.findByTestId('restore-report');
    expect(within(report).getByText('Validation failed')).toBeTruthy();
    const counts = within(report).getByTestId('check-counts');
    expect(within(counts).getByText('fail')).toBeTruthy();
    expect(counts.textContent).toContain('shop.orders: 999 documents on the target, 1000 in the backup.');
    expect(within(within(report).getByTestId('check-collections')).getByText('pass')).toBeTruthy();
    const rto = within(report).getByRole('table', { name: 'Recovery time per phase' });
    expect(rto.textContent).toContain('copying documents30.0 s');
    expect(rto.textContent).toContain('Total41.5 s');
    expect(report.textContent).toContain('Recovery time (RTO): 41.5 s');
    expect(app.client.calls.filter((c) => c.name === 'restore.get')).toEqual([
      { name: 'restore.get', input: { id: 'r-1' } },
    ]);
  });
});

describe('a wall-clock point', () => {
  it('is sent as an ISO second with this machine’s explicit offset, the UTC instant shown beside it', async () => {
    const asked = '2026-11-23T11:22:58Z';
    const { app, wizard } = await openWizard(asked);
    await within(wizard).findByText('Restorable');
    const at = app.client.calls.find((c) => c.name === 'restore.plan')!.input as { at: string };
    expect(at.at).toMatch(/^2026-11-2\dT\d\d:22:58[+-]\d\d:\d\d$/);
    expect(Date.parse(at.at)).toBe(Date.parse(asked));
    expect(wizard.textContent).toContain(
      'Every entry with a time up to this second is replayed: 2026-11-23 11:22:58 UTC.',
    );
  });
});

describe('a point handed over with a namespace', () => {
  it('chooses only that namespace (an incident’s collection) in the tree', async () => {
    const app = connectedApp();
    stop = app.stop;
    app.client.answer('source.list', [SOURCE]);
    app.client.answer('snapshot.list', SNAPSHOTS);
    app.client.answer('restore.list', []);
    app.client.answer('restore.plan', async (i) => restorable(i.at));
    app.client.answer('snapshot.namespaces', MANIFEST);
    app.client.setConnection('connected');
    act(() =>
      useNavigation
        .getState()
        .handOff({ action: 'restore', source: 'prod-rs', at: `${T0 + 200}:1`, ns: 'shop.carts' }),
    );
    renderWithProviders(<Restores />);
    const wizard = await screen.findByRole('region', { name: 'Restore wizard' });
    await within(wizard).findByText('Restorable');
    next(wizard);
    fireEvent.change(within(wizard).getByLabelText('Target connection string'), {
      target: { value: 'mongodb://staging:27017/' },
    });
    next(wizard);
    const tree = await within(wizard).findByTestId('namespace-tree');
    await waitFor(() => expect(within(tree).getByLabelText('shop.orders')).toHaveProperty('checked', false));
    expect(within(tree).getByLabelText('shop.carts')).toHaveProperty('checked', true);
    expect(within(tree).getByLabelText('crm.people')).toHaveProperty('checked', false);
  });
});

describe('the throwaway local mongod', () => {
  it('restores into it once a mongod binary is set, with users and roles when the snapshot has them', async () => {
    const { app, wizard } = await openWizard('latest');
    app.client.answer('snapshot.namespaces', { ...MANIFEST, users: 3, roles: 1 });
    act(() => app.client.emit('settings.changed', { ...SETTINGS, mongodBinary: '/opt/mongodb/bin/mongod' }));
    app.client.answer('local-mongod.status', {
      state: 'stopped',
      binary: '/opt/mongodb/bin/mongod',
      version: null,
      pid: null,
      port: null,
      uri: null,
      dataDir: null,
      startedAt: null,
      lastError: null,
    });
    await within(wizard).findByText('Restorable');
    next(wizard);
    const local = within(wizard).getByRole('radio', { name: 'Into a throwaway local mongod' });
    expect(local).toHaveProperty('disabled', false);
    fireEvent.click(local);
    expect((await within(wizard).findByTestId('local-mongod')).textContent).toContain(
      'Started when the restore begins, from /opt/mongodb/bin/mongod',
    );
    next(wizard);
    await within(wizard).findByTestId('namespace-tree');
    const usersRoles = within(wizard).getByLabelText('Users and roles');
    expect(usersRoles).toHaveProperty('disabled', false);
    fireEvent.click(usersRoles);
    next(wizard);
    expect(within(wizard).getByTestId('review-statement').textContent).toContain(
      'Into the throwaway local mongod the app runs',
    );
    app.client.answer('restore.run', { taskId: 'task-3' });
    fireEvent.click(within(wizard).getByRole('button', { name: 'Start the restore' }));
    await waitFor(() =>
      expect(app.client.calls.find((c) => c.name === 'restore.run')?.input).toEqual({
        source: 'prod-rs',
        at: 'latest',
        localMongod: true,
        include: [],
        exclude: [],
        rename: [],
        drop: false,
        usersRoles: true,
        strict: false,
        parallel: 4,
      }),
    );
  });
});
