/** Kill the capturing process with SIGKILL at random moments: nothing captured is lost or stored twice, no false gap. */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { MongoClient, Timestamp } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { dispatch } from '../../engine/api/dispatch.js';
import { Engine } from '../../engine/engine.js';
import { listCoverage } from '../../engine/catalog/coverage.js';
import { getSourceByName } from '../../engine/catalog/sources.js';
import { Repository } from '../../engine/repo/repository.js';
import { readSegment } from '../../engine/repo/segment-file.js';
import { tempDir } from '../support/temp-dir.js';
import { waitUntilCaptured } from '../support/capture-wait.js';
import { MONGO_KIND, withMongo } from '../support/with-mongo.js';

const root = join(import.meta.dirname, '..', '..');
const RUNS = 10;

function captureFor(dataDir: string, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(root, 'test', 'support', 'capture-worker.ts'), dataDir, 'rs'],
      { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let timer: NodeJS.Timeout | null = null;
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout.on('data', () => {
      timer ??= setTimeout(() => child.kill('SIGKILL'), ms);
    });
    child.on('exit', (_c, signal) =>
      signal === 'SIGKILL' ? resolve() : reject(new Error(`capture worker ended by itself: ${err}`)),
    );
  });
}

describe(`capture crash safety (${MONGO_KIND})`, () => {
  it(`captures every entry exactly once across ${RUNS} SIGKILLs, without a false gap`, async () => {
    await withMongo(async ({ uri }) => {
      const dir = tempDir('mbm-capkill-');
      const dataDir = join(dir.path, 'data');
      const client = new MongoClient(uri);
      try {
        const setup = Engine.open({ dataDir, mode: 'cli' });
        await setup.stores.attach(await Repository.init(join(dir.path, 'repo')));
        const added = await dispatch(setup, 'source.add', { name: 'rs', uri });
        expect(added.ok).toBe(true);
        await setup.close();

        const coll = client.db(`kill_${Date.now()}`).collection('x');
        let written = 0;
        let writing = true;
        const writer = (async () => {
          while (writing) {
            await coll.insertOne({ n: written });
            written++;
            await new Promise((r) => setTimeout(r, 2));
          }
        })();
        for (let run = 0; run < RUNS; run++) await captureFor(dataDir, 100 + Math.floor(Math.random() * 500));
        writing = false;
        await writer;

        // A last, clean run catches up with everything written.
        const engine = Engine.open({
          dataDir,
          mode: 'headless',
          capture: { segmentMaxMs: 100, awaitMs: 50 },
        });
        try {
          const row = getSourceByName(engine.catalog, 'rs');
          const capture = await engine.capture.start(row);
          await waitUntilCaptured(capture, client);
          await engine.capture.stop(row.id);

          expect(listCoverage(engine.catalog, row.id)).toMatchObject({
            gaps: [],
            intervals: [expect.anything()],
          });
          const store = await engine.stores.get();
          const paths = engine.catalog
            .prepare('SELECT path FROM oplog_segments ORDER BY first_t, first_i')
            .pluck()
            .all() as string[];
          const ns = Buffer.from(`${coll.dbName}.x`);
          const seen = new Set<string>();
          let inserts = 0;
          for (const p of paths) {
            for (const e of (await readSegment(store.repo, p)).entries) {
              const key = Buffer.from(e).toString('hex');
              expect(seen.has(key), 'an entry stored twice').toBe(false);
              seen.add(key);
              if (Buffer.from(e).includes(ns)) inserts++;
            }
          }
          // Coverage starts at the first captured entry; from there on, every insert on the source is in the backup.
          const first = engine.catalog
            .prepare('SELECT first_t, first_i FROM oplog_segments ORDER BY first_t, first_i LIMIT 1')
            .get() as { first_t: number; first_i: number };
          const onSource = await client
            .db('local')
            .collection('oplog.rs')
            .countDocuments({
              ns: `${coll.dbName}.x`,
              op: 'i',
              ts: { $gte: new Timestamp({ t: first.first_t, i: first.first_i }) },
            });
          expect(inserts).toBe(onSource);
          expect(onSource).toBeGreaterThan(written / 2);
          expect(written).toBeGreaterThan(RUNS * 10);
        } finally {
          await engine.close();
        }
      } finally {
        await client.close();
        dir.remove();
      }
    });
  }, 180_000);
});
