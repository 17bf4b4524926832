import { mkdirSync, writeFileSync, unlinkSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { listCoverage } from '../../engine/catalog/coverage.js';
import { writeSegment } from '../../engine/repo/segment-file.js';
import { reconcileRepository } from '../../engine/store/reconcile.js';
import { makeStore, type StoreFixture } from '../support/store-fixture.js';

let fx: StoreFixture | null = null;
afterEach(async () => {
  await fx?.close();
  fx = null;
});

describe('start-up reconciliation', () => {
  it('registers a durable file the catalog missed (crash between rename and commit), exactly once', async () => {
    fx = await makeStore();
    await fx.appendSegments(2, 10);
    // The file is durable, but the process died before the catalog transaction.
    const orphan = await writeSegment(
      fx.repo,
      fx.sourceId,
      fx.factory.mixed(10),
      fx.store.chainTip(fx.sourceId),
    );
    const count = () => fx!.engine.catalog.prepare('SELECT count(*) FROM oplog_segments').pluck().get();
    expect(count()).toBe(2);
    const r1 = await reconcileRepository(fx.engine.catalog, fx.repo);
    expect(r1.segmentsRegistered).toBe(1);
    expect(count()).toBe(3);
    const r2 = await reconcileRepository(fx.engine.catalog, fx.repo);
    expect(r2.segmentsRegistered).toBe(0);
    expect(count()).toBe(3);
    expect(listCoverage(fx.engine.catalog, fx.sourceId)).toMatchObject({
      intervals: [{ end: orphan.lastTs, segmentCount: 3 }],
      gaps: [],
    });
  });

  it('removes temporaries, marks vanished files missing, and keeps manifest-less snapshots incomplete', async () => {
    fx = await makeStore();
    await fx.appendSegments(3, 10);
    const paths = fx.engine.catalog
      .prepare('SELECT path FROM oplog_segments ORDER BY first_t')
      .pluck()
      .all() as string[];
    const tmp = fx.repo.abs(`${paths[0]}.tmp-999-abcd`);
    writeFileSync(tmp, 'partial');
    unlinkSync(fx.repo.abs(paths[1]!));
    const half = join(fx.repo.snapshotsDir(fx.sourceId), '20261122T000000Z-abcdef');
    mkdirSync(half, { recursive: true });
    writeFileSync(join(half, '00001.bin'), 'half written');
    const r = await reconcileRepository(fx.engine.catalog, fx.repo, { removeTemporaries: true });
    expect(r.temporariesRemoved).toBe(1);
    expect(existsSync(tmp)).toBe(false);
    expect(r.markedMissing).toEqual([paths[1]]);
    expect(listCoverage(fx.engine.catalog, fx.sourceId).gaps).toMatchObject([{ reason: 'missing' }]);
    expect(
      fx.engine.catalog
        .prepare('SELECT status FROM snapshots WHERE id = ?')
        .pluck()
        .get('20261122T000000Z-abcdef'),
    ).toBe('incomplete');
  });
});
