/**
 * Point-in-time views against the truth of a live workload: after the
 * replay workload (inserts, $v:2 updates, replacements, deletes, index
 * builds, collMod, renames, transactions) under continuous capture, the view
 * at each of 20 recorded instants holds exactly the documents the server had
 * then (raw BSON), and the indexes; views moved forward equal views built
 * from scratch, key tables included.
 */
import { MongoClient } from 'mongodb';
import { afterEach, describe, expect, it } from 'vitest';
import type { Engine } from '../../engine/engine.js';
import { pointView } from '../../engine/views/point-view.js';
import { viewToOfflineState } from '../../engine/views/view-state.js';
import { capturingEngine } from '../support/capturing-engine.js';
import { waitUntilCaptured } from '../support/capture-wait.js';
import { runTask } from '../support/run-task.js';
import { call, viewContents } from '../support/views-helpers.js';
import { MONGO_KIND, withMongo } from '../support/with-mongo.js';
import { Workload, rawDifferences, rawState, type RawInstant } from '../support/workload.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function snapshotNow(engine: Engine) {
  const job = await runTask(engine, 'snapshot.take', { source: 'rs' });
  if (job.state !== 'succeeded') throw new Error(JSON.stringify(job.error));
}

const at = (ts: { t: number; i: number }) => `${ts.t}:${ts.i}`;

describe(`point-in-time views (${MONGO_KIND})`, () => {
  it('the view at each of 20 recorded instants equals the server then (raw BSON); moved forward equals built from scratch', async () => {
    await withMongo(async ({ uri }) => {
      const env = await capturingEngine(uri, 'mbm-views-');
      cleanups.push(() => env.close());
      const { engine, row } = env;
      const client = new MongoClient(uri);
      cleanups.push(() => client.close());
      const w = new Workload(client, `vw_${Date.now()}`, 11);
      await engine.capture.start(row);
      for (let k = 0; k < 30; k++) await w.step();
      await snapshotNow(engine);
      const raw: RawInstant[] = [];
      for (let k = 0; k < 400; k++) {
        await w.step();
        if (k % 20 === 19) raw.push(await w.recordRawInstant());
      }
      await waitUntilCaptured(engine.capture.get(row.id)!, client);
      await engine.capture.stop(row.id);
      expect(raw).toHaveLength(20);

      // In time order: the first is built from the snapshot, each later one moved forward from the one before.
      const hows: string[] = [];
      for (const inst of raw) {
        const v = await pointView(engine, 'rs', at(inst.ts), { kind: 'ts', ts: inst.ts });
        hows.push(v.how);
        expect(rawDifferences(rawState(viewToOfflineState(v.db), w.db), inst), `at ${at(inst.ts)}`).toEqual(
          [],
        );
      }
      expect(hows[0]).toBe('built');
      expect(hows.slice(1).every((h) => h === 'moved-forward')).toBe(true);

      // A view moved forward three times (from instants 2, 5, 9 to 14) equals one built directly at 14.
      const last = raw[14]!.ts;
      const forward = await pointView(engine, 'rs', at(last), { kind: 'ts', ts: last });
      const forwardContents = viewContents(forward.db, w.db);
      for (const v of await call(engine, 'view.list', {})) await call(engine, 'view.drop', { id: v.id });
      for (const k of [2, 5, 9])
        await pointView(engine, 'rs', at(raw[k]!.ts), { kind: 'ts', ts: raw[k]!.ts });
      const moved = await pointView(engine, 'rs', at(last), { kind: 'ts', ts: last });
      expect(moved.how).toBe('moved-forward');
      expect(moved.row.moved_from_t).toBe(raw[9]!.ts.t);
      const movedContents = viewContents(moved.db, w.db);
      for (const v of await call(engine, 'view.list', {})) await call(engine, 'view.drop', { id: v.id });
      const scratch = await pointView(engine, 'rs', at(last), { kind: 'ts', ts: last });
      expect(scratch.how).toBe('built');
      expect(movedContents.keys.length).toBeGreaterThan(0);
      expect(viewContents(scratch.db, w.db)).toEqual(forwardContents);
      expect(movedContents).toEqual(forwardContents);
    });
  }, 180_000);
});
