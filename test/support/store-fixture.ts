/** A data dir + repository + source for repository tests, with helpers to write segments and snapshots. */
import { Engine } from '../../engine/engine.js';
import type { OpTime } from '../../engine/repo/optime.js';
import type { CompressionSettings } from '../../engine/repo/compression.js';
import { Repository } from '../../engine/repo/repository.js';
import type { BackupStore } from '../../engine/store/backup-store.js';
import { OplogFactory } from './oplog-factory.js';
import { tempDir } from './temp-dir.js';

export const TEST_KDF = { N: 1 << 10, r: 8, p: 1 };

/** A complete snapshot of one collection (shop.orders) holding `docs`; returns its id. */
export async function writeTestSnapshot(
  store: BackupStore,
  sourceId: string,
  startTs: OpTime,
  consistentTs: OpTime,
  docs: Uint8Array[],
): Promise<string> {
  const w = store.beginSnapshot({ sourceId, startTs, serverVersion: '8.0.4' });
  const c = await w.collection({
    db: 'shop',
    name: 'orders',
    type: 'collection',
    uuid: null,
    options: {},
    indexes: [{ v: 2, key: { _id: 1 }, name: '_id_' }],
  });
  for (const d of docs) await c.write(d);
  w.add(await c.close());
  return (await store.commitSnapshot(w, { consistentTs })).snapshotId;
}

export interface StoreFixture {
  dir: ReturnType<typeof tempDir>;
  engine: Engine;
  store: BackupStore;
  repo: Repository;
  sourceId: string;
  factory: OplogFactory;
  /** Appends `n` segments of `per` entries, chained to the tip. */
  appendSegments(n: number, per?: number): Promise<void>;
  /** Writes a complete snapshot with the given start/consistent ts and a few documents. */
  snapshot(startTs: OpTime, consistentTs: OpTime, docs?: Uint8Array[]): Promise<string>;
  close(): Promise<void>;
}

export async function makeStore(
  opts: { passphrase?: string; compression?: CompressionSettings; perSecond?: number; dataDir?: string } = {},
): Promise<StoreFixture> {
  const dir = tempDir('mbm-repo-');
  const engine = Engine.open({ dataDir: opts.dataDir ?? `${dir.path}/data`, mode: 'cli', kdfCost: TEST_KDF });
  const repo = await Repository.init(`${dir.path}/repo`, {
    kdfCost: TEST_KDF,
    ...(opts.passphrase ? { passphrase: opts.passphrase } : {}),
    ...(opts.compression ? { compression: opts.compression } : {}),
  });
  const store = await engine.stores.attach(repo);
  const sourceId = await store.ensureSource('prod-rs');
  const factory = new OplogFactory({ start: { t: 1_763_805_600, i: 1 }, perSecond: opts.perSecond ?? 50 });
  const fx: StoreFixture = {
    dir,
    engine,
    store,
    repo,
    sourceId,
    factory,
    async appendSegments(n, per = 40) {
      for (let k = 0; k < n; k++)
        await store.appendSegment(sourceId, factory.mixed(per), store.chainTip(sourceId));
    },
    snapshot: (startTs, consistentTs, docs) =>
      writeTestSnapshot(store, sourceId, startTs, consistentTs, docs ?? factory.mixed(5)),
    async close() {
      await engine.close();
      dir.remove();
    },
  };
  return fx;
}
