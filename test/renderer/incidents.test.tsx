import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CommandOutput } from '../../engine/api/contract';
import { ClientError } from '../../renderer/src/app/client/client-error';
import { useNavigation } from '../../renderer/src/app/navigation';
import { IncidentList } from '../../renderer/src/features/incidents/IncidentList';
import { useIncidents } from '../../renderer/src/features/incidents/incidents-store';
import { connectedApp, renderWithProviders } from './harness';

let stop: () => void = () => {};
afterEach(() => stop());
beforeEach(() => {
  useIncidents.setState(useIncidents.getInitialState(), true);
  useNavigation.setState(useNavigation.getInitialState(), true);
});

const op = (t: number, i = 1) => ({ t, i, text: `${t}:${i}`, wall: new Date(t * 1000).toISOString() });
const source = (name: string) => ({
  id: `id-${name}`,
  name,
  repositoryId: 'repo-1',
  uri: 'mongodb://db1:27017/?replicaSet=rs0',
  username: null,
  tlsCaFile: null,
  tlsCertFile: null,
  readPreference: null,
  passwordStorage: 'none' as const,
  warnings: [],
  imported: false,
  createdAt: '2026-11-20T08:00:00.000Z',
});
const T0 = 1_795_000_000;
type List = CommandOutput<'incident.list'>;
const scan = { through: op(T0 + 100), pendingSegments: 0, documents: 1000, seconds: 10 };
const finding = (over: Partial<List['incidents'][number]>): List['incidents'][number] => ({
  id: 1,
  kind: 'massDelete',
  ns: 'shop.orders',
  summary: '1,500 documents deleted from shop.orders within one second',
  firstTs: op(T0, 7),
  lastTs: op(T0, 1506),
  restoreBefore: op(T0, 6),
  wall: new Date(T0 * 1000).toISOString(),
  size: 1500,
  lsid: null,
  txnNumber: null,
  details: {},
  ...over,
});

function app(lists: Record<string, List | Error>) {
  const a = connectedApp();
  stop = a.stop;
  a.client.answer('source.list', Object.keys(lists).map(source) as never);
  let current = Object.keys(lists)[0]!;
  a.client.answer('incident.list', async () => {
    const last = a.client.calls.filter((c) => c.name === 'incident.list').pop()!;
    current = (last.input as { source: string }).source;
    const answer = lists[current]!;
    if (answer instanceof Error) throw answer;
    return answer;
  });
  renderWithProviders(<IncidentList />);
  a.client.setConnection('connected');
  return a;
}

describe('the Incidents list', () => {
  it("lists the first source's findings, newest first, and hands the point just before one to the restore wizard", async () => {
    const list: List = {
      source: 'prod-rs',
      scan,
      truncated: true, // older findings left out: the list says so
      incidents: [
        finding({}),
        finding({
          id: 2,
          kind: 'dropDatabase',
          ns: 'crm',
          summary: 'Database crm dropped (2 collections, 30 documents)',
          firstTs: op(T0 + 50, 1),
          lastTs: op(T0 + 50, 3),
          restoreBefore: op(T0 + 49, 4),
          size: 30,
        }),
        finding({
          id: 3,
          kind: 'transaction',
          ns: 'bank.accounts',
          summary: 'A transaction: 1,200 deleted in bank.accounts',
          firstTs: op(T0 + 60, 1),
          restoreBefore: op(T0 + 59, 9),
          lsid: { id: '3f0f41c2-7a7b-4c55-9a5e-0b4d7a1f2e3d', uid: null },
          txnNumber: 4,
        }),
      ],
    };
    const a = app({ 'prod-rs': list });
    const table = await screen.findByRole('table', { name: 'Incidents' });
    const rows = within(table).getAllByRole('row').slice(1);
    expect(rows.map((r) => within(r).getAllByRole('cell')[1]!.textContent)).toEqual([
      'Transaction',
      'Database dropped',
      'Mass delete',
    ]);
    expect(rows[0]!.textContent).toContain('session 3f0f41c2-7a7b-4c55-9a5e-0b4d7a1f2e3d, txnNumber 4');
    expect(rows[1]!.textContent).toContain('Database crm dropped (2 collections, 30 documents)');
    expect(rows[1]!.textContent).toContain(`${T0 + 49}:4`);
    expect(rows[2]!.textContent).toContain(`ts ${T0}:7`);
    expect(a.client.calls.find((c) => c.name === 'incident.list')?.input).toEqual({
      source: 'prod-rs',
      newest: true,
    });
    expect(screen.getByText('Only the newest 3 findings are shown.')).toBeTruthy();
    expect(
      screen.getByText(/more than\s+1,000\s+documents of one namespace within\s+10\s+seconds/),
    ).toBeTruthy();

    fireEvent.click(
      within(rows[1]!).getByRole('button', { name: /Restore prod-rs to just before: Database crm/ }),
    );
    expect(useNavigation.getState()).toMatchObject({
      section: 'restores',
      handoff: { action: 'restore', source: 'prod-rs', at: `${T0 + 49}:4`, ns: 'crm.*' },
    });
    fireEvent.click(within(rows[2]!).getByRole('button', { name: /Restore prod-rs to just before/ }));
    expect(useNavigation.getState().handoff).toEqual({
      action: 'restore',
      source: 'prod-rs',
      at: `${T0}:6`,
      ns: 'shop.orders',
    });
  });

  it('reads the list again when the engine finds something new for the shown source', async () => {
    let answer: List = { source: 'prod-rs', scan, truncated: false, incidents: [] };
    const a = connectedApp();
    stop = a.stop;
    a.client.answer('source.list', [source('prod-rs')] as never);
    a.client.answer('incident.list', async () => answer);
    renderWithProviders(<IncidentList />);
    a.client.setConnection('connected');
    expect(await screen.findByText('No incidents found')).toBeTruthy();
    answer = { ...answer, incidents: [finding({})] };
    a.client.emit('incident.found', { sourceId: 'id-other', source: 'other-rs', changed: 1 });
    a.client.emit('incident.found', { sourceId: 'id-prod-rs', source: 'prod-rs', changed: 1 });
    const table = await screen.findByRole('table', { name: 'Incidents' });
    expect(table.textContent).toContain('1,500 documents deleted from shop.orders');
    expect(a.client.calls.filter((c) => c.name === 'incident.list')).toHaveLength(2); // not for other-rs
  });

  it('cannot restore before an event that is the first entry captured', async () => {
    app({
      'prod-rs': { source: 'prod-rs', scan, truncated: false, incidents: [finding({ restoreBefore: null })] },
    });
    const table = await screen.findByRole('table', { name: 'Incidents' });
    const button = within(table).getByRole('button', { name: /Restore prod-rs to just before/ });
    expect((button as HTMLButtonElement).disabled).toBe(true);
    expect(table.textContent).toContain('none captured');
  });

  it('says when nothing was found, shows the engine refusal, and follows the chosen source', async () => {
    const a = app({
      'prod-rs': {
        source: 'prod-rs',
        scan: { ...scan, pendingSegments: 3 },
        truncated: false,
        incidents: [],
      },
      'staging-rs': new ClientError({
        code: 'LOCKED',
        message: 'Repository /backups is encrypted: give its passphrase.',
      }),
    });
    expect(await screen.findByText('No incidents found')).toBeTruthy();
    expect(screen.getByRole('note').textContent).toContain('(3 segments still to scan)');
    fireEvent.change(screen.getByRole('combobox', { name: 'Source' }), { target: { value: 'staging-rs' } });
    expect((await screen.findByRole('alert')).textContent).toContain('Repository /backups is encrypted');
    expect(screen.queryByRole('table', { name: 'Incidents' })).toBeNull();
    await waitFor(() =>
      expect(a.client.calls.filter((c) => c.name === 'incident.list').map((c) => c.input)).toEqual([
        { source: 'prod-rs', newest: true },
        { source: 'staging-rs', newest: true },
      ]),
    );
  });
});
