/**
 * A build stopped in the middle of a batch of document writes (cancelled, or
 * failing) leaves no view and no file behind: the pending writes and the
 * committed part of the file are never trusted. The next query builds the
 * view again, and it equals the tests' own reference replay of the plan
 * byte for byte, also when moved forward from an earlier view. No server
 * needed: the source is generated (test/support/view-source.ts).
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { getSourceByName } from '../../engine/catalog/sources.js';
import { snapshotsOfSource } from '../../engine/catalog/snapshots.js';
import { Engine } from '../../engine/engine.js';
import { ApiError } from '../../engine/errors.js';
import { Repository } from '../../engine/repo/repository.js';
import { parseRestorePoint, planRestore } from '../../engine/restore/planner.js';
import { pointView } from '../../engine/views/point-view.js';
import { STAGE_OPS } from '../../engine/views/doc-batch.js';
import { viewToOfflineState } from '../../engine/views/view-state.js';
import { referenceRebuild } from '../support/reference-replay.js';
import { tempDir } from '../support/temp-dir.js';
import { writeViewSource } from '../support/view-source.js';
import { stateHex } from '../support/views-helpers.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A build context that stops the build at its n-th cancellation check (one every 16,384 entries). */
const stopAt = (n: number) => {
  let checks = 0;
  return {
    progress: () => undefined,
    throwIfCancelled: () => {
      if (++checks >= n) throw new ApiError('CANCELLED', 'stopped by the test');
    },
  };
};

describe('view builds stopped mid-batch', () => {
  it('leave no view and no file; the rebuilt view equals the reference replay', async () => {
    const dir = tempDir('mbm-view-cancel-');
    cleanups.push(() => dir.remove());
    const engine = Engine.open({ dataDir: join(dir.path, 'data'), mode: 'cli' });
    cleanups.push(() => engine.close());
    const store = await engine.stores.attach(await Repository.init(join(dir.path, 'repo')));
    const sourceId = await store.ensureSource('gen');
    // 60,000 entries: the stops (entries 32,768 and 49,152) fall while updates and deletes are
    // staged, not yet written, and after commits of the inserts written on arrival.
    await writeViewSource(store, sourceId, { docs: 2000, entries: 60_000, docBytes: 300 });
    expect(3 * 16_384).toBeLessThan(STAGE_OPS);
    const row = getSourceByName(engine.catalog, 'gen');
    const snap = snapshotsOfSource(engine.catalog, row.id)[0]!;
    const files = () =>
      readdirSync(engine.views.dir).filter((f) => f.endsWith('.sqlite') && f !== 'views.sqlite');

    // From the snapshot, stopped while replaying.
    await expect(pointView(engine, 'gen', 'latest', { kind: 'latest' }, stopAt(3))).rejects.toMatchObject({
      code: 'CANCELLED',
    });
    expect(engine.views.list()).toEqual([]);
    expect(files()).toEqual([]);

    // Moved forward from the snapshot's point, stopped mid-batch: the earlier view stays as it was.
    const at = { t: snap.consistent_t!, i: snap.consistent_i! };
    const base = await pointView(engine, 'gen', `${at.t}:${at.i}`, { kind: 'ts', ts: at });
    await expect(pointView(engine, 'gen', 'latest', { kind: 'latest' }, stopAt(2))).rejects.toMatchObject({
      code: 'CANCELLED',
    });
    expect(engine.views.list().map((v) => v.id)).toEqual([base.row.id]);
    expect(files()).toEqual([base.row.file]);

    // Stopped while the stage (some 24,000 updates and deletes) is being written: between pages.
    let writing = false;
    let checksWhileWriting = 0;
    await expect(
      pointView(
        engine,
        'gen',
        'latest',
        { kind: 'latest' },
        {
          progress: (p: { message?: string }) => {
            if (p.message === 'writing the staged operations') writing = true;
          },
          throwIfCancelled: () => {
            if (writing && ++checksWhileWriting >= 3) throw new ApiError('CANCELLED', 'stopped by the test');
          },
        },
      ),
    ).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(checksWhileWriting).toBe(3);
    expect(engine.views.list().map((v) => v.id)).toEqual([base.row.id]);
    expect(files()).toEqual([base.row.file]);

    const plan = planRestore(engine.catalog, row.id, parseRestorePoint('latest'));
    if (!plan.ok) throw new Error(plan.message);
    const ref = stateHex(await referenceRebuild(store.repo, plan));
    expect(ref['shop.orders']!.length).toBeGreaterThan(2000);
    const moved = await pointView(engine, 'gen', 'latest', { kind: 'latest' });
    expect(moved.how).toBe('moved-forward');
    expect(stateHex(viewToOfflineState(moved.db))).toEqual(ref);
    engine.views.drop(moved.row.id);
    engine.views.drop(base.row.id);
    const built = await pointView(engine, 'gen', 'latest', { kind: 'latest' });
    expect(built.how).toBe('built');
    expect(stateHex(viewToOfflineState(built.db))).toEqual(ref);
  }, 120_000);
});
