/**
 * A view file written by an engine whose view layout differs (meta `format`
 * not this engine's VIEW_FORMAT) is never read, nor moved forward from: the
 * cache removes it and builds the view again, even when its size and
 * modification time are the ones its index row recorded (an older engine
 * recorded them). No server needed: the source is generated
 * (test/support/view-source.ts).
 */
import Database from 'better-sqlite3';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { getSourceByName } from '../../engine/catalog/sources.js';
import { snapshotsOfSource } from '../../engine/catalog/snapshots.js';
import { VIEW_FORMAT, readMeta } from '../../engine/catalog/view-store.js';
import { dispatch } from '../../engine/api/dispatch.js';
import { Engine } from '../../engine/engine.js';
import { Repository } from '../../engine/repo/repository.js';
import { parseRestorePoint, planRestore } from '../../engine/restore/planner.js';
import { pointView } from '../../engine/views/point-view.js';
import { viewToOfflineState } from '../../engine/views/view-state.js';
import { referenceRebuild } from '../support/reference-replay.js';
import { tempDir } from '../support/temp-dir.js';
import { writeViewSource } from '../support/view-source.js';
import { stateHex } from '../support/views-helpers.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('view files of another format', () => {
  it('are rebuilt, not read or moved forward, even with the size and mtime their row recorded', async () => {
    const dir = tempDir('mbm-view-format-');
    cleanups.push(() => dir.remove());
    const dataDir = join(dir.path, 'data');
    let engine = Engine.open({ dataDir, mode: 'cli' });
    const store = await engine.stores.attach(await Repository.init(join(dir.path, 'repo')));
    const sourceId = await store.ensureSource('gen');
    const src = await writeViewSource(store, sourceId, { docs: 500, entries: 3000, docBytes: 300 });
    const snap = snapshotsOfSource(engine.catalog, getSourceByName(engine.catalog, 'gen').id)[0]!;
    const at = { t: snap.consistent_t!, i: snap.consistent_i! };
    const base = await pointView(engine, 'gen', `${at.t}:${at.i}`, { kind: 'ts', ts: at });
    const latest = await pointView(engine, 'gen', 'latest', { kind: 'latest' });
    expect(latest.how).toBe('moved-forward');
    expect(readMeta(latest.db).format).toBe(VIEW_FORMAT);
    const plan = planRestore(engine.catalog, sourceId, parseRestorePoint('latest'));
    if (!plan.ok) throw new Error(plan.message);
    const ref = stateHex(await referenceRebuild(store.repo, plan));
    await engine.close();

    // Both files say they are of format 1 (the key table held the _id keys then); their index
    // rows record the files as they are now, as the engine that wrote them would have.
    const index = new Database(join(dataDir, 'views', 'views.sqlite'));
    for (const row of [base.row, latest.row]) {
      const file = join(dataDir, 'views', row.file);
      const db = new Database(file);
      db.prepare(`UPDATE meta SET value = '1' WHERE key = 'format'`).run();
      db.close();
      const st = statSync(file);
      index
        .prepare('UPDATE views SET bytes = ?, file_mtime_ms = ? WHERE id = ?')
        .run(st.size, st.mtimeMs, row.id);
    }
    index.close();

    engine = Engine.open({ dataDir, mode: 'cli' });
    cleanups.push(() => engine.close());
    // History starts from the snapshot's view when one is cached: not from an old-format one.
    const history = await dispatch(engine, 'history.get', {
      source: 'gen',
      ns: 'shop.orders',
      id: JSON.stringify({ $oid: src.sampleId }),
    });
    expect(history.ok, JSON.stringify(history)).toBe(true);
    expect(engine.views.list().map((v) => v.id)).toEqual([latest.row.id]);
    const again = await pointView(engine, 'gen', 'latest', { kind: 'latest' });
    expect(again.how).toBe('built'); // neither reused nor moved forward from the old snapshot view
    expect(readMeta(again.db).format).toBe(VIEW_FORMAT);
    expect(stateHex(viewToOfflineState(again.db))).toEqual(ref);
    expect(engine.views.list().map((v) => v.id)).toEqual([again.row.id]);
    for (const row of [base.row, latest.row])
      expect(existsSync(join(dataDir, 'views', row.file))).toBe(false);
  }, 120_000);
});
