/**
 * Child process for the crash-safety test: writes oplog segments and
 * snapshots into a repository as fast as it can, printing a line after each
 * one is durable and registered, until it is killed.
 * Usage: tsx crash-writer.ts DATA_DIR REPO_PATH SEED
 */
import { Engine } from '../../engine/engine.js';
import { Repository } from '../../engine/repo/repository.js';
import { OplogFactory } from './oplog-factory.js';

const [dataDir, repoPath, seedText] = process.argv.slice(2) as [string, string, string];
const engine = Engine.open({ dataDir, mode: 'cli' });
const store = await engine.stores.attach(Repository.open(repoPath));
const sourceId = await store.ensureSource('crash-rs');
const tip = store.chainTip(sourceId);
const factory = new OplogFactory({
  start: tip ? { t: tip.t + 1, i: 1 } : { t: 1_763_805_600, i: 1 },
  perSecond: 500,
  docBytes: 2000,
  seed: Number(seedText),
});
process.stdout.write('ready\n');
for (let n = 0; ; n++) {
  const { info } = await store.appendSegment(
    sourceId,
    factory.mixed(50 + (n % 7) * 40),
    store.chainTip(sourceId),
  );
  process.stdout.write(`seg ${info.path}\n`);
  if (n % 4 === 3) {
    const startTs = store.chainTip(sourceId)!;
    const w = store.beginSnapshot({ sourceId, startTs });
    for (const name of ['orders', 'customers', 'events']) {
      const c = await w.collection({
        db: 'shop',
        name,
        type: 'collection',
        uuid: null,
        options: {},
        indexes: [],
      });
      for (const d of factory.mixed(400)) await c.write(d);
      w.add(await c.close());
    }
    const m = await store.commitSnapshot(w, { consistentTs: startTs });
    process.stdout.write(`snap ${m.snapshotId}\n`);
  }
}
