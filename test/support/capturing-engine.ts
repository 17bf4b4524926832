/**
 * A headless engine with a fresh repository and one source ("rs") added from
 * `uri`, with capture settings short enough for tests; the integration tests
 * of capture, snapshots and restore all start from it.
 */
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { dispatch } from '../../engine/api/dispatch.js';
import { getSourceByName, type SourceRow } from '../../engine/catalog/sources.js';
import { Engine } from '../../engine/engine.js';
import { Repository } from '../../engine/repo/repository.js';
import { tempDir } from './temp-dir.js';

export interface CapturingEngine {
  engine: Engine;
  row: SourceRow;
  /** A driver client of the same deployment, for the test's own writes and reads. */
  client: MongoClient;
  dir: ReturnType<typeof tempDir>;
  /** Closes the client and the engine and removes the directory. */
  close(): Promise<void>;
}

export async function capturingEngine(uri: string, prefix: string): Promise<CapturingEngine> {
  const dir = tempDir(prefix);
  const engine = Engine.open({
    dataDir: join(dir.path, 'data'),
    mode: 'headless',
    sourceTimeoutMs: 3000,
    capture: { segmentMaxMs: 200, awaitMs: 100, backoffMinMs: 50, backoffMaxMs: 400 },
  });
  await engine.stores.attach(await Repository.init(join(dir.path, 'repo')));
  const added = await dispatch(engine, 'source.add', { name: 'rs', uri });
  if (!added.ok) throw new Error(added.error.message);
  const client = new MongoClient(uri);
  return {
    engine,
    row: getSourceByName(engine.catalog, 'rs'),
    client,
    dir,
    async close() {
      await client.close();
      await engine.close();
      dir.remove();
    },
  };
}
