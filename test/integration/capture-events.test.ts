/**
 * Continuous capture tells the windows when the live edge moves: one
 * `capture.segment` event per durable segment, carrying its last entry,
 * which is then the source's newest covered entry in the catalog (the
 * timeline reads it again on that event instead of waiting for a poll).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { EngineEvent } from '../../engine/api/contract.js';
import { listCoverage } from '../../engine/catalog/coverage.js';
import { newestOplogTs } from '../../engine/source/snapshot.js';
import { capturingEngine } from '../support/capturing-engine.js';
import { waitUntilCaptured } from '../support/capture-wait.js';
import { MONGO_KIND, withMongo } from '../support/with-mongo.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe(`capture events (${MONGO_KIND})`, () => {
  it('publishes capture.segment with the last entry of each durable segment', async () => {
    await withMongo(async ({ uri }) => {
      const env = await capturingEngine(uri, 'mbm-capture-events-');
      cleanups.push(() => env.close());
      const { engine, row, client } = env;
      const seen: EngineEvent<'capture.segment'>['payload'][] = [];
      cleanups.push(
        engine.events.subscribe((e) => {
          if (e.event === 'capture.segment') seen.push(e.payload);
        }),
      );
      await engine.capture.start(row);
      await client
        .db('shop')
        .collection('orders')
        .insertMany([{ n: 1 }, { n: 2 }]);
      const target = (await newestOplogTs(client))!;
      await waitUntilCaptured(engine.capture.get(row.id)!, client);
      await engine.capture.stop(row.id);

      expect(seen.length).toBeGreaterThan(0);
      expect(seen.every((p) => p.sourceId === row.id && p.source === 'rs')).toBe(true);
      const last = seen.at(-1)!.lastTs;
      expect(last.t > target.t || (last.t === target.t && last.i >= target.i)).toBe(true);
      expect(last.text).toBe(`${last.t}:${last.i}`);
      expect(last.wall).toBe(new Date(last.t * 1000).toISOString().replace('.000Z', 'Z'));
      // Each event came once its segment was in the catalog: the newest covered entry is the last one told.
      const cov = listCoverage(engine.catalog, row.id);
      expect(cov.intervals.at(-1)!.end).toEqual({ t: last.t, i: last.i });
      // Events arrive in capture order.
      for (let k = 1; k < seen.length; k++) {
        const a = seen[k - 1]!.lastTs;
        const b = seen[k]!.lastTs;
        expect(b.t > a.t || (b.t === a.t && b.i > a.i)).toBe(true);
      }
    });
  });
});
