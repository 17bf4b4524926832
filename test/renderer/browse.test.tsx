import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { CommandOutput } from '../../engine/api/contract';
import { ClientError } from '../../renderer/src/app/client/client-error';
import { useNavigation } from '../../renderer/src/app/navigation';
import { Browse } from '../../renderer/src/features/browse/Browse';
import { useBrowse } from '../../renderer/src/features/browse/browse-store';
import { useIncidents } from '../../renderer/src/features/incidents/incidents-store';
import { connectedApp, renderWithProviders } from './harness';

let stop: () => void = () => {};
afterEach(() => {
  stop();
  vi.restoreAllMocks();
});
beforeEach(() => {
  // jsdom lays nothing out: the results' scroll box measures as a window 420 px high, as in the app.
  vi.spyOn(HTMLElement.prototype, 'clientHeight', 'get').mockReturnValue(420);
  vi.spyOn(HTMLElement.prototype, 'clientWidth', 'get').mockReturnValue(1000);
  useBrowse.setState(useBrowse.getInitialState(), true);
  useIncidents.setState(useIncidents.getInitialState(), true);
  useNavigation.setState(useNavigation.getInitialState(), true);
});

const T0 = 1_795_000_000;
const op = (t: number, i = 1) => ({ t, i, text: `${t}:${i}`, wall: new Date(t * 1000).toISOString() });
const view = { viewId: 3, bound: op(T0 + 41, 6), how: 'built' as const };
const collection = (name: string, count: number | null, type: 'collection' | 'view' = 'collection') => ({
  name,
  type,
  count,
  options: {},
  indexes: [{ v: 2, key: { _id: 1 }, name: '_id_' }],
});
const collections: CommandOutput<'collections.list'> = {
  view,
  databases: [
    { name: 'crm', collections: [collection('people', 12)] },
    { name: 'shop', collections: [collection('orders', 1500), collection('openOrders', null, 'view')] },
  ],
};
const orders = [
  '{"_id": 1, "status": "A", "qty": 5}',
  '{"_id": 2, "status": "B", "qty": 7, "note": {"by": "ann"}}',
  '{"_id": {"$oid": "65f0c1e2a1b2c3d4e5f60718"}, "status": "A", "at": {"$date": "2026-11-30T10:00:00Z"}}',
];
const history: CommandOutput<'history.get'> = {
  source: 'prod-rs',
  ns: 'shop.orders',
  id: '2',
  from: op(T0),
  to: op(T0 + 100),
  segmentsRead: 2,
  segmentsInWindow: 9,
  versions: [
    {
      ts: op(T0 + 10, 1),
      op: 'insert',
      ns: 'shop.orders',
      inTransaction: false,
      change: ['+ _id: 2', '+ status: "A"', '+ qty: 7'],
      after: '{"_id": 2, "status": "A", "qty": 7}',
      restoreBefore: op(T0 + 9, 4),
    },
    {
      ts: op(T0 + 20, 3),
      op: 'update',
      ns: 'shop.orders',
      inTransaction: false,
      change: ['~ status: "A" -> "B"', '+ note: {"by": "ann"}'],
      after: orders[1]!,
      restoreBefore: op(T0 + 20, 2),
    },
    {
      ts: op(T0 + 42, 1),
      op: 'delete',
      ns: 'shop.orders',
      inTransaction: false,
      change: [],
      after: null,
      restoreBefore: op(T0 + 41, 6),
    },
  ],
};

/** The browser opened on a point handed over by the timeline, as the app does it. */
async function opened(at = `${T0 + 41}:6`) {
  const a = connectedApp();
  stop = a.stop;
  a.client.answer('source.list', [] as never);
  a.client.answer('incident.list', new ClientError({ code: 'NOT_FOUND', message: 'no source' }));
  a.client.answer('view.build', { taskId: 'task-view-1' } as never);
  a.client.answer('collections.list', collections);
  a.client.answer('query.find', async (input) => ({
    view,
    ns: input.ns,
    documents: orders,
    more: false,
    cursorId: null,
    plan: { index: null, documentsExamined: 1500 },
  }));
  a.client.answer('query.close', async (input) => ({ cursorId: input.cursorId, closed: true }));
  a.client.answer('history.get', history);
  useNavigation.getState().handOff({ action: 'browse', source: 'prod-rs', at });
  renderWithProviders(<Browse />);
  a.client.setConnection('connected');
  return a;
}

describe('the point-in-time browser', () => {
  it('opens the handed-over point: builds the view as a task and lists databases and collections with their counts', async () => {
    const a = await opened();
    const tree = await screen.findByRole('navigation', { name: 'Databases and collections' });
    await within(tree).findByText('shop');
    expect(within(tree).getByText(/^1\s500 documents$/)).toBeTruthy();
    expect(within(tree).getByText('12 documents')).toBeTruthy();
    expect(within(tree).getByTestId('count-shop.orders').textContent).toBe('1\u2009500');
    expect(within(tree).getByTestId('count-crm.people').textContent).toBe('12');
    // A view has no stored count.
    expect(within(tree).getByTestId('count-shop.openOrders').textContent).toBe('—');
    expect(within(tree).getByText('view')).toBeTruthy();
    expect(a.client.calls.find((c) => c.name === 'view.build')?.input).toEqual({
      source: 'prod-rs',
      at: `${T0 + 41}:6`,
    });
    expect(screen.getByTestId('task-view.build').getAttribute('data-state')).toBe('running');
    a.client.emit('task.finished', {
      taskId: 'task-view-1',
      kind: 'view.build',
      state: 'succeeded',
      error: null,
    });
    await waitFor(() =>
      expect(screen.getByTestId('task-view.build').getAttribute('data-state')).toBe('succeeded'),
    );
    expect(screen.getByText('View finished')).toBeTruthy();
  });

  it('holds latest at the point of its view while browsing, until moved to latest again', async () => {
    const a = await opened('latest');
    fireEvent.click(await screen.findByLabelText('shop.orders'));
    await screen.findByRole('table', { name: 'Results' });
    // Capture goes on: the tree, the results and their next batches all read the view latest stood for.
    expect(a.client.calls.find((c) => c.name === 'collections.list')?.input).toEqual({
      source: 'prod-rs',
      at: 'latest',
    });
    expect(a.client.calls.filter((c) => c.name === 'query.find').at(-1)?.input).toMatchObject({
      at: `${T0 + 41}:6`,
    });
    const pinned = screen.getByTestId('pinned-latest');
    expect(pinned.textContent).toContain(
      `Latest as of ${new Date((T0 + 41) * 1000).toISOString().slice(0, 19).replace('T', ' ')} UTC (${T0 + 41}:6)`,
    );
    const builds = () => a.client.calls.filter((c) => c.name === 'view.build').map((c) => c.input);
    expect(builds()).toEqual([{ source: 'prod-rs', at: 'latest' }]);
    fireEvent.click(within(pinned).getByRole('button', { name: 'Move to latest' }));
    await waitFor(() => expect(builds()).toHaveLength(2));
    expect(builds()[1]).toEqual({ source: 'prod-rs', at: 'latest' });
    // The namespace opened stays open at the new point.
    await waitFor(() => expect(a.client.calls.filter((c) => c.name === 'collections.list')).toHaveLength(2));
    await waitFor(() => expect(a.client.calls.filter((c) => c.name === 'query.find')).toHaveLength(2));
  });

  it('shows a JSON syntax error under the field as it is typed and sends nothing until it parses', async () => {
    const a = await opened();
    fireEvent.click(await screen.findByLabelText('shop.orders'));
    await screen.findByRole('table', { name: 'Results' });
    const finds = () => a.client.calls.filter((c) => c.name === 'query.find').length;
    const before = finds();
    const filter = screen.getByLabelText('Filter');
    fireEvent.change(filter, { target: { value: '{"status": "A",' } });
    expect(screen.getByText(/Filter is not valid JSON/)).toBeTruthy();
    expect((screen.getByRole('button', { name: 'Find' }) as HTMLButtonElement).disabled).toBe(true);
    fireEvent.change(filter, { target: { value: '{"status" "A"}' } });
    expect(screen.getByText('Filter is not valid JSON (line 1, column 11).')).toBeTruthy();
    fireEvent.change(screen.getByLabelText('Sort'), { target: { value: '[1]' } });
    expect(screen.getByText('Sort must be a JSON object, e.g. {}.')).toBeTruthy();
    fireEvent.submit(screen.getByRole('form', { name: 'Query' }));
    expect(finds()).toBe(before);

    fireEvent.change(filter, { target: { value: '{"status": "A"}' } });
    fireEvent.change(screen.getByLabelText('Sort'), { target: { value: '{"qty": -1}' } });
    expect(screen.queryByText(/not valid JSON/)).toBeNull();
    fireEvent.click(screen.getByRole('button', { name: 'Find' }));
    await waitFor(() => expect(finds()).toBe(before + 1));
    expect(a.client.calls.filter((c) => c.name === 'query.find').at(-1)?.input).toEqual({
      source: 'prod-rs',
      at: `${T0 + 41}:6`,
      ns: 'shop.orders',
      filter: '{"status": "A"}',
      sort: '{"qty": -1}',
      batchSize: 100,
      skip: 0,
    });
  });

  it('sends a collation typed in the query bar, checked as it is typed', async () => {
    const a = await opened();
    fireEvent.click(await screen.findByLabelText('shop.orders'));
    await screen.findByRole('table', { name: 'Results' });
    const finds = () => a.client.calls.filter((c) => c.name === 'query.find');
    const before = finds().length;
    const collation = screen.getByLabelText('Collation');
    fireEvent.change(collation, { target: { value: '{"locale": "en",' } });
    expect(screen.getByText(/Collation is not valid JSON/)).toBeTruthy();
    expect((screen.getByRole('button', { name: 'Find' }) as HTMLButtonElement).disabled).toBe(true);
    fireEvent.change(collation, { target: { value: '{"locale": "en", "strength": 2}' } });
    fireEvent.change(screen.getByLabelText('Filter'), { target: { value: '{"status": "a"}' } });
    fireEvent.click(screen.getByRole('button', { name: 'Find' }));
    await waitFor(() => expect(finds().length).toBe(before + 1));
    expect(finds().at(-1)?.input).toEqual({
      source: 'prod-rs',
      at: `${T0 + 41}:6`,
      ns: 'shop.orders',
      filter: '{"status": "a"}',
      collation: '{"locale": "en", "strength": 2}',
      batchSize: 100,
      skip: 0,
    });
  });

  it('shows an engine refusal with its code', async () => {
    const a = await opened();
    fireEvent.click(await screen.findByLabelText('shop.orders'));
    await screen.findByRole('table', { name: 'Results' });
    a.client.answer(
      'query.find',
      new ClientError({ code: 'QUERY_UNKNOWN_OPERATOR', message: 'unknown operator $foo at filter.qty' }),
    );
    fireEvent.change(screen.getByLabelText('Filter'), { target: { value: '{"qty": {"$foo": 1}}' } });
    fireEvent.click(screen.getByRole('button', { name: 'Find' }));
    const alert = await screen.findByText('unknown operator $foo at filter.qty');
    expect(alert.closest('[role="alert"]')?.textContent).toContain('QUERY_UNKNOWN_OPERATOR');
  });

  it('renders the results as a table of top-level fields and as Extended JSON', async () => {
    await opened();
    fireEvent.click(await screen.findByLabelText('shop.orders'));
    const table = await screen.findByRole('table', { name: 'Results' });
    const headers = within(table)
      .getAllByRole('columnheader')
      .map((h) => h.textContent);
    expect(headers).toEqual(['', '_id', 'status', 'qty', 'note', 'at']);
    const rows = within(table).getAllByRole('row').slice(1);
    expect(rows).toHaveLength(3);
    expect(
      within(rows[1]!)
        .getAllByRole('cell')
        .map((c) => c.textContent),
    ).toEqual(['', '2', 'B', '7', '{"by":"ann"}', '']);
    expect(within(rows[2]!).getAllByRole('cell')[1]!.textContent).toBe('65f0c1e2a1b2c3d4e5f60718');
    expect(within(rows[2]!).getAllByRole('cell')[5]!.textContent).toBe('2026-11-30T10:00:00Z');
    expect(screen.getByTestId('result-summary').textContent).toContain(
      '3 documents · collection scan, 1500 examined',
    );

    fireEvent.click(screen.getByRole('radio', { name: 'Extended JSON' }));
    const docs = await screen.findAllByTestId('result-json');
    expect(docs).toHaveLength(3);
    expect(docs[2]!.textContent).toContain('"$oid": "65f0c1e2a1b2c3d4e5f60718"');
    expect(docs[2]!.textContent).toContain('"$date": "2026-11-30T10:00:00Z"');
  });

  it("opens a document's history: every version with its time, operation and field-by-field change", async () => {
    const a = await opened();
    fireEvent.click(await screen.findByLabelText('shop.orders'));
    const table = await screen.findByRole('table', { name: 'Results' });
    fireEvent.click(within(table).getByRole('button', { name: '2' }));
    const panel = await screen.findByRole('region', { name: 'Document history' });
    const versions = await within(panel).findAllByTestId('history-version');
    expect(versions).toHaveLength(3);
    expect(versions.map((v) => within(v).getAllByText(/^(insert|update|delete)$/)[0]!.textContent)).toEqual([
      'insert',
      'update',
      'delete',
    ]);
    expect(versions[1]!.textContent).toContain('~ status: "A" -> "B"');
    expect(versions[1]!.textContent).toContain('+ note: {"by": "ann"}');
    expect(versions[2]!.textContent).toContain(`restore point just before: ${T0 + 41}:6`);
    expect(within(versions[0]!).getByText(`${T0 + 10}:1`)).toBeTruthy();
    expect(versions[0]!.querySelector('time')?.getAttribute('dateTime')).toBe(op(T0 + 10).wall);
    expect(within(panel).getByText('3 versions · 2 of 9 segments read')).toBeTruthy();
    expect(a.client.calls.find((c) => c.name === 'history.get')?.input).toEqual({
      source: 'prod-rs',
      ns: 'shop.orders',
      id: '2',
    });
  });

  it('restores the selected documents into a target after a confirmation, by _id', async () => {
    const a = await opened();
    a.client.answer('query.restore', { taskId: 'task-restore-1' } as never);
    fireEvent.click(await screen.findByLabelText('shop.orders'));
    await screen.findByRole('table', { name: 'Results' });
    fireEvent.click(screen.getByLabelText('Select row 1'));
    fireEvent.click(screen.getByLabelText('Select row 3'));
    fireEvent.change(screen.getByLabelText('Restore into (connection string)'), {
      target: { value: 'mongodb://db9:27017' },
    });
    fireEvent.click(screen.getByRole('button', { name: 'Restore…' }));
    const dialog = await screen.findByRole('dialog', { name: 'Restore documents' });
    expect(dialog.textContent).toContain('2 selected documents of shop.orders');
    expect(a.client.calls.some((c) => c.name === 'query.restore')).toBe(false);
    fireEvent.click(within(dialog).getByRole('button', { name: 'Restore' }));
    await waitFor(() => expect(a.client.calls.some((c) => c.name === 'query.restore')).toBe(true));
    expect(a.client.calls.find((c) => c.name === 'query.restore')?.input).toEqual({
      source: 'prod-rs',
      at: `${T0 + 41}:6`,
      ns: 'shop.orders',
      targetUri: 'mongodb://db9:27017',
      mode: 'upsert',
      filter: '{"_id": {"$in": [1, {"$oid":"65f0c1e2a1b2c3d4e5f60718"}]}}',
    });
    expect(await screen.findByTestId('task-query.restore')).toBeTruthy();
  });
  it('downloads the selected documents as canonical Extended JSON lines, and every match page by page', async () => {
    const a = await opened();
    const blobs: Blob[] = [];
    URL.createObjectURL = (b: Blob | MediaSource) => {
      blobs.push(b as Blob);
      return 'blob:test';
    };
    URL.revokeObjectURL = () => {};
    // jsdom has neither; the page's download goes through them.
    stop = ((prev) => () => {
      prev();
      delete (URL as { createObjectURL?: unknown }).createObjectURL;
      delete (URL as { revokeObjectURL?: unknown }).revokeObjectURL;
    })(stop);
    vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(() => {});
    fireEvent.click(await screen.findByLabelText('shop.orders'));
    await screen.findByRole('table', { name: 'Results' });
    const canonical = ['{"_id": {"$numberInt": "2"}}', '{"_id": {"$numberInt": "1"}}'];
    a.client.answer('query.find', async (input) => {
      // "All matching" reads on through the cursor until the engine ends it.
      const more = input.filter === undefined;
      return {
        view,
        ns: input.ns,
        documents: canonical,
        more,
        cursorId: more ? 'c0ffee' : null,
        plan: { index: '_id_', documentsExamined: 2 },
      };
    });
    a.client.answer('query.more', async () => ({
      ns: 'shop.orders',
      documents: canonical,
      more: false,
      cursorId: null,
    }));
    fireEvent.click(screen.getByLabelText('Select row 2'));
    fireEvent.click(screen.getByRole('button', { name: 'Download JSON lines' }));
    await waitFor(() => expect(blobs).toHaveLength(1));
    expect(await blobs[0]!.text()).toBe(canonical.join('\n') + '\n');
    expect(a.client.calls.at(-1)?.input).toEqual({
      source: 'prod-rs',
      at: `${T0 + 41}:6`,
      ns: 'shop.orders',
      canonical: true,
      batchSize: 10_000,
      skip: 0,
      filter: '{"_id": {"$in": [2]}}',
    });

    fireEvent.change(screen.getByLabelText('Documents'), { target: { value: 'all' } });
    fireEvent.click(screen.getByRole('button', { name: 'Download JSON lines' }));
    await waitFor(() => expect(blobs).toHaveLength(2));
    expect((await blobs[1]!.text()).trim().split('\n')).toHaveLength(4);
    expect(a.client.calls.at(-1)).toMatchObject({
      name: 'query.more',
      input: { cursorId: 'c0ffee', batchSize: 10_000 },
    });
  });

  it('reads the next batch through the cursor as the table scrolls near its end, and again from there when the cursor ended', async () => {
    const a = await opened();
    const batch = (from: number) =>
      Array.from({ length: 100 }, (_, k) => `{"_id":${from + k},"n":"d${from + k}"}`);
    a.client.answer('query.find', async (input) => ({
      view,
      ns: input.ns,
      documents: batch(input.skip ?? 0),
      more: true,
      cursorId: input.skip ? 'bbbb' : 'aaaa',
      plan: { index: null, documentsExamined: 100 },
    }));
    let mores = 0;
    a.client.answer('query.more', async (input) => {
      mores += 1;
      if (mores === 2)
        throw new ClientError({ code: 'NOT_FOUND', message: `Cursor ${input.cursorId} is expired` });
      return { ns: 'shop.orders', documents: batch(100), more: true, cursorId: input.cursorId };
    });
    fireEvent.click(await screen.findByLabelText('shop.orders'));
    const table = await screen.findByRole('table', { name: 'Results' });
    await waitFor(() => expect(table.getAttribute('aria-rowcount')).toBe('101'));
    expect(a.client.calls.some((c) => c.name === 'query.more')).toBe(false); // nothing read ahead of the scroll
    const scroller = table.querySelector('.browse-scroll') as HTMLDivElement;
    scroller.scrollTop = 100 * 30 - 420;
    fireEvent.scroll(scroller);
    await waitFor(() => expect(table.getAttribute('aria-rowcount')).toBe('201'));
    expect(a.client.calls.find((c) => c.name === 'query.more')?.input).toEqual({
      cursorId: 'aaaa',
      batchSize: 100,
    });
    // The cursor has expired meanwhile: the table asks for a new one from the row it reached.
    scroller.scrollTop = 200 * 30 - 420;
    fireEvent.scroll(scroller);
    await waitFor(() => expect(table.getAttribute('aria-rowcount')).toBe('301'));
    expect(a.client.calls.filter((c) => c.name === 'query.find').at(-1)?.input).toEqual({
      source: 'prod-rs',
      at: `${T0 + 41}:6`,
      ns: 'shop.orders',
      batchSize: 100,
      skip: 200,
    });
    expect(useBrowse.getState().cursorId).toBe('bbbb');
    // Another query lets the engine close the cursor of the last one.
    fireEvent.click(screen.getByRole('button', { name: 'Find' }));
    await waitFor(() =>
      expect(a.client.calls.find((c) => c.name === 'query.close')?.input).toEqual({ cursorId: 'bbbb' }),
    );
  });

  it('carries an Int64 _id beyond 2^53 exactly into history, export and restore of the selection', async () => {
    const a = await opened();
    const big = '9007199254740993';
    const exact = `{"$numberLong":"${big}"}`;
    a.client.answer('query.find', async (input) => ({
      view,
      ns: input.ns,
      // Relaxed Extended JSON as the engine writes it: every digit of the Int64 in the text.
      documents: [`{"_id":${big},"who":"big"}`, '{"_id":9007199254740992,"who":"neighbour"}'],
      more: false,
      cursorId: null,
      plan: { index: null, documentsExamined: 2 },
    }));
    a.client.answer('query.restore', { taskId: 'task-restore-2' } as never);
    fireEvent.click(await screen.findByLabelText('shop.orders'));
    const table = await screen.findByRole('table', { name: 'Results' });
    const rows = within(table).getAllByRole('row').slice(1);
    expect(within(rows[0]!).getAllByRole('cell')[1]!.textContent).toBe(big);

    fireEvent.click(within(table).getByRole('button', { name: big }));
    await waitFor(() => expect(a.client.calls.some((c) => c.name === 'history.get')).toBe(true));
    expect(a.client.calls.find((c) => c.name === 'history.get')?.input).toEqual({
      source: 'prod-rs',
      ns: 'shop.orders',
      id: exact,
    });

    fireEvent.click(screen.getByLabelText('Select row 1'));
    fireEvent.change(screen.getByLabelText('Restore into (connection string)'), {
      target: { value: 'mongodb://db9:27017' },
    });
    fireEvent.click(screen.getByRole('button', { name: 'Restore…' }));
    const dialog = await screen.findByRole('dialog', { name: 'Restore documents' });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Restore' }));
    await waitFor(() => expect(a.client.calls.some((c) => c.name === 'query.restore')).toBe(true));
    expect(a.client.calls.find((c) => c.name === 'query.restore')?.input).toMatchObject({
      filter: `{"_id": {"$in": [${exact}]}}`,
    });
    const lines = await useBrowse.getState().exportLines('selected');
    expect(lines).toHaveLength(2); // the stand-in answers both; what counts is what was asked
    expect(a.client.calls.filter((c) => c.name === 'query.find').at(-1)?.input).toMatchObject({
      filter: `{"_id": {"$in": [${exact}]}}`,
    });
  });
});
