/**
 * A view built because `latest` was asked is moved forward in place by the
 * next `latest` (no copy of the earlier view), and equals the tests' own
 * reference replay byte for byte; it is copied instead while anything reads
 * it (a cursor, a lease, a connection of another engine), and a view whose
 * point was named is always copied. A move stopped half way leaves no view
 * and no file, and one whose engine died is swept by the next engine. No
 * server needed: the source is generated (test/support/view-source.ts).
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { getSourceByName } from '../../engine/catalog/sources.js';
import { lockViewForMove, openViewForRead } from '../../engine/catalog/view-store.js';
import { openViewIndex, takeOverView } from '../../engine/catalog/view-index.js';
import { Engine } from '../../engine/engine.js';
import { ApiError } from '../../engine/errors.js';
import { Repository } from '../../engine/repo/repository.js';
import { parseRestorePoint, planRestore } from '../../engine/restore/planner.js';
import { buildView } from '../../engine/views/build-view.js';
import { pointView } from '../../engine/views/point-view.js';
import { viewToOfflineState } from '../../engine/views/view-state.js';
import { referenceRebuild } from '../support/reference-replay.js';
import { tempDir } from '../support/temp-dir.js';
import { writeViewSource } from '../support/view-source.js';
import { call, stateHex } from '../support/views-helpers.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const latest = { kind: 'latest' } as const;

async function setUp() {
  const dir = tempDir('mbm-view-in-place-');
  cleanups.push(() => dir.remove());
  const dataDir = join(dir.path, 'data');
  const engine = Engine.open({ dataDir, mode: 'cli' });
  cleanups.push(() => engine.close());
  const store = await engine.stores.attach(await Repository.init(join(dir.path, 'repo')));
  const sourceId = await store.ensureSource('gen');
  const src = await writeViewSource(store, sourceId, { docs: 1500, entries: 12_000, docBytes: 300 });
  const source = getSourceByName(engine.catalog, 'gen');
  /** More entries after the current latest (a capture going on). */
  const more = (n: number) =>
    store.appendSegment(sourceId, src.factory.mixed(n), store.chainTip(sourceId)).then(() => undefined);
  /** The reference replay's state at latest now. */
  const reference = async () => {
    const plan = planRestore(engine.catalog, source.id, parseRestorePoint('latest'));
    if (!plan.ok) throw new Error(plan.message);
    return stateHex(await referenceRebuild(store.repo, plan));
  };
  const files = () =>
    readdirSync(engine.views.dir).filter((f) => f.endsWith('.sqlite') && f !== 'views.sqlite');
  return { dataDir, engine, more, reference, files };
}

describe('views moved forward in place', () => {
  it('moves a latest view where it is, and equals the reference replay', async () => {
    const { engine, more, reference, files } = await setUp();
    const first = await pointView(engine, 'gen', 'latest', latest);
    expect(first.how).toBe('built');
    expect(first.row.for_latest).toBe(1);
    await more(5000);
    const moved = await pointView(engine, 'gen', 'latest', latest);
    expect(moved.how).toBe('moved-in-place');
    expect(moved.row.id).not.toBe(first.row.id);
    expect(moved.row.file).toBe(first.row.file); // the same file, not a copy
    expect(moved.row.moved_from_t).toBe(first.row.bound_t);
    expect(moved.row.entries_applied).toBe(first.row.entries_applied + 5000);
    expect(engine.views.list().map((v) => v.id)).toEqual([moved.row.id]);
    expect(files()).toEqual([moved.row.file]);
    expect(stateHex(viewToOfflineState(moved.db))).toEqual(await reference());

    // The earlier row, discarded late (as a stale reader would): the file its successor names stays.
    engine.views.discard(first.row);
    expect(existsSync(join(engine.views.dir, moved.row.file))).toBe(true);
    const again = await pointView(engine, 'gen', 'latest', latest);
    expect(again.how).toBe('reused');

    // Moved in place three times equals a build from scratch at the last point.
    for (let k = 0; k < 2; k++) {
      await more(3000);
      expect((await pointView(engine, 'gen', 'latest', latest)).how).toBe('moved-in-place');
    }
    const last = await pointView(engine, 'gen', 'latest', latest);
    const movedContents = stateHex(viewToOfflineState(last.db));
    engine.views.drop(last.row.id);
    const scratch = await pointView(engine, 'gen', 'latest', latest);
    expect(scratch.how).toBe('built');
    expect(movedContents).toEqual(stateHex(viewToOfflineState(scratch.db)));
    expect(movedContents).toEqual(await reference());
  }, 120_000);

  it('copies a view anything reads, and a view whose point was named', async () => {
    const { engine, more, reference } = await setUp();
    // A cursor open on it (a table reading batch by batch).
    const first = await pointView(engine, 'gen', 'latest', latest);
    const b = await call(engine, 'query.find', {
      source: 'gen',
      at: 'latest',
      ns: 'shop.orders',
      batchSize: 10,
    });
    expect(b.cursorId).toBeTruthy();
    await more(2000);
    const copied = await pointView(engine, 'gen', 'latest', latest);
    expect(copied.how).toBe('moved-forward');
    expect(copied.row.file).not.toBe(first.row.file);
    const next = await call(engine, 'query.more', { cursorId: b.cursorId!, batchSize: 10 });
    expect(next.documents).toHaveLength(10); // the cursor's view is still there, unchanged
    await call(engine, 'query.close', { cursorId: b.cursorId! });

    // A lease (a selective restore or a history reading it between awaits).
    const release = engine.views.lease(copied.row.id);
    await more(2000);
    const copied2 = await pointView(engine, 'gen', 'latest', latest);
    expect(copied2.how).toBe('moved-forward');
    release();

    // Another engine's connection (its shared lock): the view it reads stays as it was.
    const other = openViewForRead(join(engine.views.dir, copied2.row.file), false);
    const count = () => (other.prepare('SELECT count(*) AS n FROM docs').get() as { n: number }).n;
    const before = count();
    await more(2000);
    const copied3 = await pointView(engine, 'gen', 'latest', latest);
    expect(copied3.how).toBe('moved-forward');
    expect(count()).toBe(before);
    other.close();
    expect(stateHex(viewToOfflineState(copied3.db))).toEqual(await reference());

    // A view built for a named point is kept for it: copied.
    for (const v of engine.views.list()) engine.views.drop(v.id);
    const named = await pointView(engine, 'gen', `${copied3.row.bound_t}:${copied3.row.bound_i}`, {
      kind: 'ts',
      ts: { t: copied3.row.bound_t, i: copied3.row.bound_i },
    });
    expect(named.row.for_latest).toBe(0);
    await more(1000);
    expect((await pointView(engine, 'gen', 'latest', latest)).how).toBe('moved-forward');
    expect(engine.views.get(named.row.id)?.state).toBe('ready');
  }, 120_000);

  it('a move stopped before it wrote gives the view back; one stopped after leaves no view and no file', async () => {
    const { engine, more, reference, files } = await setUp();
    const first = await pointView(engine, 'gen', 'latest', latest);
    const contents = stateHex(viewToOfflineState(first.db));
    await more(5000);
    const stopNow = {
      progress: () => undefined,
      throwIfCancelled: () => {
        throw new ApiError('CANCELLED', 'stopped by the test');
      },
    };
    await expect(pointView(engine, 'gen', 'latest', latest, stopNow)).rejects.toMatchObject({
      code: 'CANCELLED',
    });
    // Nothing was written: the view is back under its own row, its file trusted as it was.
    expect(engine.views.list().map((v) => [v.id, v.state, v.bound_t, v.bound_i])).toEqual([
      [first.row.id, 'ready', first.row.bound_t, first.row.bound_i],
    ]);
    expect(files()).toEqual([first.row.file]);
    const named = `${first.row.bound_t}:${first.row.bound_i}`;
    const back = await pointView(engine, 'gen', named, {
      kind: 'ts',
      ts: { t: first.row.bound_t, i: first.row.bound_i },
    });
    expect(back.how).toBe('reused');
    expect(stateHex(viewToOfflineState(back.db))).toEqual(contents);

    // Stopped while writing the staged operations (inserts already written): the file cannot be
    // trusted as either point, so it goes with its row.
    const taken = await pointView(engine, 'gen', 'latest', latest); // the named use above kept it: copied
    expect(taken.how).toBe('moved-forward');
    await more(3000);
    let writing = false;
    const stopWriting = {
      progress: (p: { message?: string }) => {
        if (p.message === 'writing the staged operations') writing = true;
      },
      throwIfCancelled: () => {
        if (writing) throw new ApiError('CANCELLED', 'stopped by the test');
      },
    };
    await expect(pointView(engine, 'gen', 'latest', latest, stopWriting)).rejects.toMatchObject({
      code: 'CANCELLED',
    });
    expect(writing).toBe(true);
    expect(engine.views.list().map((v) => v.id)).toEqual([back.row.id]);
    expect(files()).toEqual([back.row.file]);
    const rebuilt = await pointView(engine, 'gen', 'latest', latest);
    expect(rebuilt.how).toBe('moved-forward');
    expect(stateHex(viewToOfflineState(rebuilt.db))).toEqual(await reference());
  }, 120_000);

  it('a half-moved file is never read, by a reader holding its old row either; a dead mover is swept, a live one is not', async () => {
    const { dataDir, engine, more, reference } = await setUp();
    const v = await pointView(engine, 'gen', 'latest', latest);
    await more(5000);
    const expected = await reference();
    const file = join(dataDir, 'views', v.row.file);
    // Another engine has read the row (not yet its file) when a mover takes the view and dies
    // part way through (stopped here after its inserts, its connection then closed as by a kill).
    await engine.close();
    const reader = Engine.open({ dataDir, mode: 'cli' });
    cleanups.push(() => reader.close());
    const stale = reader.views.get(v.row.id)!;
    const plan = planRestore(reader.catalog, stale.source_id, parseRestorePoint('latest'));
    if (!plan.ok) throw new Error(plan.message);
    const mover = lockViewForMove(file)!;
    const idx = openViewIndex(join(dataDir, 'views', 'views.sqlite'));
    expect(takeOverView(idx, stale, { bound_t: plan.bound.t, bound_i: plan.bound.i })).not.toBeNull();
    idx.close();
    let writing = false;
    await expect(
      buildView({
        repo: (await reader.stores.get(stale.repository_id)).repo,
        plan,
        file,
        base: { file, bound: { t: stale.bound_t, i: stale.bound_i }, inPlace: mover },
        ctx: {
          progress: (p) => {
            if (p.message === 'writing the staged operations') writing = true;
          },
          throwIfCancelled: () => {
            if (writing) throw new ApiError('CANCELLED', 'killed');
          },
        },
      }),
    ).rejects.toMatchObject({ code: 'CANCELLED' });
    mover.close();
    // Its meta still names the old point; the mark of the move refuses it all the same.
    expect(() => reader.views.open(stale)).toThrow(expect.objectContaining({ code: 'VIEW_MOVED' }));
    expect(existsSync(file)).toBe(true); // the move's row names it: left to the sweep
    await reader.close();

    // Held (a live mover in another engine): left alone. Not held: row and file swept.
    const live = lockViewForMove(file)!;
    expect(live).not.toBeNull();
    const second = Engine.open({ dataDir, mode: 'cli' });
    cleanups.push(() => second.close());
    expect(second.views.list().map((r) => r.state)).toEqual(['building']);
    await second.close();
    live.close();
    const third = Engine.open({ dataDir, mode: 'cli' });
    cleanups.push(() => third.close());
    expect(third.views.list()).toEqual([]);
    expect(existsSync(file)).toBe(false);
    const rebuilt = await pointView(third, 'gen', 'latest', latest);
    expect(rebuilt.how).toBe('built');
    expect(stateHex(viewToOfflineState(rebuilt.db))).toEqual(expected);
  }, 120_000);

  it('a point named on a latest view keeps it: the next latest copies it', async () => {
    const { engine, more } = await setUp();
    const first = await pointView(engine, 'gen', 'latest', latest);
    const at = `${first.row.bound_t}:${first.row.bound_i}`;
    const pin = { kind: 'ts', ts: { t: first.row.bound_t, i: first.row.bound_i } } as const;
    expect((await pointView(engine, 'gen', at, pin)).how).toBe('reused'); // Browse holding its point
    expect(engine.views.get(first.row.id)?.for_latest).toBe(0);
    await more(2000);
    expect((await pointView(engine, 'gen', 'latest', latest)).how).toBe('moved-forward');
    expect((await pointView(engine, 'gen', at, pin)).how).toBe('reused');
  }, 120_000);

  it('a later latest asked while a move runs waits for it and moves its result on', async () => {
    const { engine, more, reference } = await setUp();
    await pointView(engine, 'gen', 'latest', latest);
    await more(8000);
    let second: Promise<Awaited<ReturnType<typeof pointView>>> | null = null;
    const messages: string[] = [];
    const hook = {
      progress: () => undefined,
      throwIfCancelled: () => {
        // During the move: more entries arrive, and a latest beyond the move's point is asked.
        second ??= more(1000).then(() =>
          pointView(engine, 'gen', 'latest', latest, {
            progress: (p) => void messages.push(p.message ?? ''),
            throwIfCancelled: () => undefined,
          }),
        );
      },
    };
    expect((await pointView(engine, 'gen', 'latest', latest, hook)).how).toBe('moved-in-place');
    const later = await second!;
    expect(messages).toContain('waiting for the view being moved forward');
    expect(later.how).toBe('moved-in-place'); // not built again from the snapshot
    expect(stateHex(viewToOfflineState(later.db))).toEqual(await reference());
  }, 120_000);

  it('a handle whose read transaction ended is opened again (it no longer holds the view)', async () => {
    const { engine } = await setUp();
    const v = await pointView(engine, 'gen', 'latest', latest);
    v.db.exec('COMMIT');
    const again = engine.views.open(v.row);
    expect(again).not.toBe(v.db);
    expect(again.inTransaction).toBe(true);
    expect(v.db.open).toBe(false);
  }, 120_000);
});
