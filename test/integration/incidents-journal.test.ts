/**
 * Findings before the seal, under live capture with the default segment
 * policy (a segment is sealed up to 10 s after capture): a dropDatabase is
 * listed within about a second of the command, while no sealed segment holds
 * it yet (the finder read the capture journal's durable tail); once the
 * segment is sealed and scanned it is the same finding, listed once.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { CommandOutput } from '../../engine/api/contract.js';
import { dispatch } from '../../engine/api/dispatch.js';
import { newestSegmentEnd } from '../../engine/catalog/segments.js';
import { getSourceByName } from '../../engine/catalog/sources.js';
import { Engine } from '../../engine/engine.js';
import { compareOpTime } from '../../engine/repo/optime.js';
import { Repository } from '../../engine/repo/repository.js';
import { MongoClient } from 'mongodb';
import { waitUntilCaptured, waitUntilSealed } from '../support/capture-wait.js';
import { tempDir } from '../support/temp-dir.js';
import { MONGO_KIND, uniqueDb, withMongo } from '../support/with-mongo.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function list(engine: Engine) {
  const res = await dispatch(engine, 'incident.list', { source: 'rs' });
  if (!res.ok) throw new Error(res.error.message);
  return (res.result as CommandOutput<'incident.list'>).incidents;
}

describe(`incidents from the capture journal (${MONGO_KIND})`, () => {
  it('lists a dropDatabase before its segment is sealed, and the same one once after', async () => {
    await withMongo(async ({ uri }) => {
      const dir = tempDir('mbm-inc-journal-');
      cleanups.push(() => dir.remove());
      // No segmentMaxMs: the policy's segment interval (10 s by default) cuts segments.
      const engine = Engine.open({
        dataDir: join(dir.path, 'data'),
        mode: 'headless',
        sourceTimeoutMs: 3000,
        capture: { awaitMs: 100, backoffMinMs: 50, backoffMaxMs: 400 },
      });
      cleanups.push(() => engine.close());
      await engine.stores.attach(await Repository.init(join(dir.path, 'repo')));
      const added = await dispatch(engine, 'source.add', { name: 'rs', uri });
      if (!added.ok) throw new Error(added.error.message);
      const row = getSourceByName(engine.catalog, 'rs');
      const client = new MongoClient(uri);
      cleanups.push(() => client.close());
      const db = uniqueDb('tail');
      await client
        .db(db)
        .collection('a')
        .insertMany([{ _id: 1 as never }, { _id: 2 as never }]);
      await client
        .db(db)
        .collection('b')
        .insertOne({ _id: 1 as never });
      const capture = await engine.capture.start(row);
      await waitUntilCaptured(capture, client);

      const dropped = Date.now();
      await client.db(db).dropDatabase();
      let found: Awaited<ReturnType<typeof list>>[number] | undefined;
      while (!found && Date.now() - dropped < 5000) {
        found = (await list(engine)).find((f) => f.kind === 'dropDatabase' && f.ns === db);
        if (!found) await new Promise((r) => setTimeout(r, 25));
      }
      const latencyMs = Date.now() - dropped;
      expect(found, 'dropDatabase listed').toBeDefined();
      expect(latencyMs).toBeLessThan(2000);
      const sealedEnd = newestSegmentEnd(engine.catalog, row.id);
      expect(!sealedEnd || compareOpTime(sealedEnd, found!.firstTs) < 0, 'not sealed yet').toBe(true);

      await waitUntilSealed(engine.catalog, row.id, client, 30_000);
      await engine.incidents.catchUp(row.id);
      const after = (await list(engine)).filter((f) => f.ns === db || f.ns.startsWith(`${db}.`));
      expect(after).toEqual([found]);
      console.log(`journal tail: dropDatabase listed ${latencyMs} ms after the command`);
    });
  }, 60_000);
});
