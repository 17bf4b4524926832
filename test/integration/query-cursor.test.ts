/**
 * Query cursors through dispatch (the door every transport uses), on a
 * source written straight into a repository (no server): a sorted find read
 * batch by batch with query.more equals the whole collection in order, an
 * aggregate reads on the same way, a cursor ends typed when closed or when
 * its view is dropped, and an Int64 `_id` beyond 2^53 (9007199254740993)
 * is found exactly (not its neighbour 9007199254740992) by a filter and by
 * history.get given it as canonical Extended JSON.
 */
import { Long, Timestamp, UUID, serialize } from 'bson';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EventEmitter } from 'node:events';
import type { WebSocket } from 'ws';
import { dispatch } from '../../engine/api/dispatch.js';
import { attachWsClient } from '../../engine/server/ws-transport.js';
import { Engine } from '../../engine/engine.js';
import { readEntryTs } from '../../engine/repo/bson-entries.js';
import { Repository } from '../../engine/repo/repository.js';
import { tempDir } from '../support/temp-dir.js';
import { call, refusal } from '../support/views-helpers.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const BIG = '9007199254740993';
const NEIGHBOUR = '9007199254740992';
const N = 3000;
const T = 1_763_805_600;

async function source() {
  const dir = tempDir('mbm-cursor-');
  cleanups.push(() => dir.remove());
  const engine = Engine.open({ dataDir: join(dir.path, 'data'), mode: 'cli' });
  cleanups.push(() => engine.close());
  const store = await engine.stores.attach(await Repository.init(join(dir.path, 'repo')));
  const sourceId = await store.ensureSource('rs');
  const ui = new UUID();
  let i = 1;
  const entry = (op: string, o: object, o2?: object) =>
    serialize({
      op,
      ns: op === 'n' ? '' : 'shop.people',
      ui,
      ts: new Timestamp({ t: T, i: i++ }),
      t: Long.fromNumber(1),
      v: Long.fromNumber(2),
      wall: new Date(T * 1000 + i),
      o,
      ...(o2 ? { o2 } : {}),
    });
  const first = [entry('n', { msg: 'periodic noop' })];
  await store.appendSegment(sourceId, first, null);
  const w = store.beginSnapshot({ sourceId, startTs: readEntryTs(first[0]!), serverVersion: '8.0.4' });
  const c = await w.collection({
    db: 'shop',
    name: 'people',
    type: 'collection',
    uuid: null,
    options: {},
    indexes: [{ v: 2, key: { _id: 1 }, name: '_id_' }],
  });
  await c.write(Buffer.from(serialize({ _id: Long.fromString(BIG), who: 'big', v: 1 })));
  await c.write(Buffer.from(serialize({ _id: Long.fromString(NEIGHBOUR), who: 'neighbour', v: 1 })));
  for (let k = 0; k < N; k++) await c.write(Buffer.from(serialize({ _id: k, name: `p${k}`, v: 1 })));
  w.add(await c.close());
  const tip = entry('n', { msg: 'periodic noop' });
  await store.appendSegment(sourceId, [tip], store.chainTip(sourceId));
  await store.commitSnapshot(w, { consistentTs: readEntryTs(tip) });
  const update = entry('u', { $v: 2, diff: { u: { v: 2 } } }, { _id: Long.fromString(BIG) });
  await store.appendSegment(sourceId, [update], store.chainTip(sourceId));
  return { engine, updateTs: readEntryTs(update) };
}

const target = { source: 'rs', at: 'latest', ns: 'shop.people' };

describe('query cursors through dispatch', () => {
  it('reads a sorted find and an aggregate batch by batch; a cursor ends when closed or its view is dropped', async () => {
    const { engine } = await source();
    let b = await call(engine, 'query.find', { ...target, sort: '{"_id": -1}', batchSize: 250 });
    expect(b.plan.index).toBe('_id_');
    expect(b.documents).toHaveLength(250);
    expect(b.more).toBe(true);
    const all = [...b.documents];
    let cursorId = b.cursorId;
    while (cursorId) {
      const next = await call(engine, 'query.more', { cursorId, batchSize: 1000 });
      expect(next.ns).toBe('shop.people');
      all.push(...next.documents);
      cursorId = next.cursorId;
      if (!cursorId) expect(next.more).toBe(false);
    }
    expect(all).toHaveLength(N + 2);
    // Relaxed Int64 keeps every digit in the text (JSON.parse would round it): read _id from the text.
    const ids = all.map((d) => /^\{"_id":(-?\d+)/.exec(d)![1]);
    expect(ids.slice(0, 3)).toEqual([BIG, NEIGHBOUR, String(N - 1)]);
    expect(ids[ids.length - 1]).toBe('0');

    // A limit ends the cursor with the batch that reaches it.
    b = await call(engine, 'query.find', { ...target, sort: '{"_id": 1}', limit: 5 });
    expect(b).toMatchObject({ more: false, cursorId: null });
    expect(b.documents).toHaveLength(5);

    const agg = await call(engine, 'query.aggregate', {
      ...target,
      pipeline: '[{"$match": {"v": 1}}, {"$project": {"name": 1}}]',
      batchSize: 1000,
    });
    expect(agg.documents).toHaveLength(1000);
    let rest = 0;
    let aggCursor = agg.cursorId;
    while (aggCursor) {
      const next = await call(engine, 'query.more', { cursorId: aggCursor, batchSize: 1000 });
      rest += next.documents.length;
      aggCursor = next.cursorId;
    }
    expect(1000 + rest).toBe(N + 1); // the big one's v is 2 after the update

    const open = await call(engine, 'query.find', { ...target, batchSize: 10 });
    expect(await call(engine, 'query.close', { cursorId: open.cursorId! })).toEqual({
      cursorId: open.cursorId,
      closed: true,
    });
    expect(await refusal(engine, 'query.more', { cursorId: open.cursorId })).toMatchObject({
      code: 'NOT_FOUND',
      details: { reason: 'closed' },
    });
    expect(await refusal(engine, 'query.more', { cursorId: 'ffffffffffffffff' })).toMatchObject({
      code: 'NOT_FOUND',
      details: { reason: 'unknown' },
    });
    // Another client (a second WebSocket) does not see this client's cursor.
    const mine = await call(engine, 'query.find', { ...target, batchSize: 10 });
    const other = await dispatch(engine, 'query.more', { cursorId: mine.cursorId }, { client: 'ws-other' });
    expect(other).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });

    await call(engine, 'view.drop', { id: mine.view.viewId });
    expect(await refusal(engine, 'query.more', { cursorId: mine.cursorId })).toMatchObject({
      code: 'NOT_FOUND',
      details: { reason: 'view removed' },
    });
  }, 60_000);

  it(`finds the Int64 _id ${BIG} exactly, by a filter and by history.get`, async () => {
    const { engine, updateTs } = await source();
    const exact = `{"$numberLong": "${BIG}"}`;
    for (const filter of [`{"_id": ${exact}}`, `{"_id": {"$in": [${exact}]}}`]) {
      const r = await call(engine, 'query.find', { ...target, filter, canonical: true });
      expect(r.documents, filter).toEqual([
        `{"_id":{"$numberLong":"${BIG}"},"who":"big","v":{"$numberInt":"2"}}`,
      ]);
    }
    const n = await call(engine, 'query.find', {
      ...target,
      filter: `{"_id": {"$numberLong": "${NEIGHBOUR}"}}`,
    });
    expect(n.documents.map((d) => (JSON.parse(d) as { who: string }).who)).toEqual(['neighbour']);

    const h = await call(engine, 'history.get', { source: 'rs', ns: 'shop.people', id: exact });
    const last = h.versions[h.versions.length - 1]!;
    expect(last.ts).toMatchObject({ t: updateTs.t, i: updateTs.i });
    expect(last.after).toContain(BIG);
    expect(JSON.parse(last.after!)).toMatchObject({ who: 'big', v: 2 });
    for (const v of h.versions) expect(v.after ?? '').not.toContain('neighbour');
  }, 60_000);

  it('gives each WebSocket connection its own cursors, closed when it goes', async () => {
    const { engine } = await source();
    /** A connection as attachWsClient sees one: requests in, answers out. */
    const connection = () => {
      const ws = Object.assign(new EventEmitter(), {
        OPEN: 1,
        readyState: 1,
        sent: [] as {
          id?: number;
          ok?: boolean;
          result?: Record<string, unknown>;
          error?: { code: string };
        }[],
        send(text: string) {
          ws.sent.push(JSON.parse(text) as (typeof ws.sent)[number]);
        },
      });
      attachWsClient(engine, ws as unknown as WebSocket);
      let id = 0;
      return {
        ws,
        async ask(command: string, input: unknown) {
          const mine = ++id;
          ws.emit('message', Buffer.from(JSON.stringify({ id: mine, command, input })), false);
          for (;;) {
            const answer = ws.sent.find((m) => m.id === mine);
            if (answer) return answer;
            await new Promise((r) => setTimeout(r, 5));
          }
        },
      };
    };
    const a = connection();
    const b = connection();
    const first = await a.ask('query.find', { ...target, batchSize: 10 });
    const cursorId = first.result!.cursorId as string;
    expect(cursorId).toMatch(/^[0-9a-f]{16}$/);
    expect(await b.ask('query.more', { cursorId })).toMatchObject({
      ok: false,
      error: { code: 'NOT_FOUND' },
    });
    expect(await a.ask('query.more', { cursorId, batchSize: 10 })).toMatchObject({
      ok: true,
      result: { cursorId },
    });
    await b.ask('query.find', { ...target, batchSize: 10 });
    expect(engine.views.cursors.count()).toBe(2);
    a.ws.emit('close');
    expect(engine.views.cursors.count()).toBe(1); // b's is still open
    b.ws.emit('close');
    expect(engine.views.cursors.count()).toBe(0);
  }, 60_000);
});
