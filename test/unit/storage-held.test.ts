/**
 * Storage held per source per day (catalog migration 11): the catalog's
 * triggers keep today's figure equal to what the source's rows hold, from
 * whichever code adds, prunes or resizes them; a prune changes today's
 * figure and never a past day's; the dashboard's source.overview serves it.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { CommandOutput } from '../../engine/api/contract.js';
import { dispatch } from '../../engine/api/dispatch.js';
import { migrations } from '../../engine/catalog/migrations.js';
import { openCatalog, type CatalogDb } from '../../engine/catalog/open-catalog.js';
import { segmentsOfSource } from '../../engine/catalog/segments.js';
import { snapshotsOfSource } from '../../engine/catalog/snapshots.js';
import { heldBytesByDay, storageSplit } from '../../engine/catalog/storage.js';
import { makeStore, type StoreFixture } from '../support/store-fixture.js';
import { tempDir } from '../support/temp-dir.js';

let fx: StoreFixture | undefined;
afterEach(async () => {
  await fx?.close();
  fx = undefined;
});

const DAY = 86_400_000;
const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const today = () => dayOf(Date.now());

function heldRows(db: CatalogDb, sourceId: string) {
  return db
    .prepare(
      'SELECT day, snapshot_bytes AS snapshotBytes, oplog_bytes AS oplogBytes FROM storage_held_days WHERE source_id = ? ORDER BY day',
    )
    .all(sourceId) as { day: string; snapshotBytes: number; oplogBytes: number }[];
}

/** What the rows hold now, summed directly (the figure today's row must equal). */
const heldNow = (db: CatalogDb, sourceId: string) => storageSplit(db, sourceId);

describe('storage held per day', () => {
  it("keeps today's figure equal to the rows held, through adds, resizes and prunes", async () => {
    fx = await makeStore();
    const db = fx.engine.catalog;
    await fx.appendSegments(3);
    const snap = await fx.snapshot({ t: 1_763_805_600, i: 1 }, { t: 1_763_805_601, i: 1 });
    const split = heldNow(db, fx.sourceId);
    expect(split.oplogBytes).toBeGreaterThan(0);
    expect(split.snapshotBytes).toBeGreaterThan(0);
    expect(heldRows(db, fx.sourceId)).toEqual([{ day: today(), ...split }]);

    // A size corrected in place counts too.
    db.prepare('UPDATE snapshots SET stored_bytes = stored_bytes + 100 WHERE id = ?').run(snap);
    expect(heldRows(db, fx.sourceId)).toEqual([{ day: today(), ...heldNow(db, fx.sourceId) }]);

    // Retention's deletions (the store's audited delete) lower it.
    await fx.store.delete('snapshot', snap, 'retention');
    await fx.store.delete('segment', segmentsOfSource(db, fx.sourceId)[0]!.path, 'retention');
    const after = heldNow(db, fx.sourceId);
    expect(after.snapshotBytes).toBe(0);
    expect(after.oplogBytes).toBeLessThan(split.oplogBytes);
    expect(heldRows(db, fx.sourceId)).toEqual([{ day: today(), ...after }]);
  });

  it("a prune today changes today's figure, never a past day's; days between carry the figure forward", async () => {
    fx = await makeStore();
    const db = fx.engine.catalog;
    await fx.appendSegments(4);
    const snap = await fx.snapshot({ t: 1_763_805_600, i: 1 }, { t: 1_763_805_601, i: 1 });
    // Everything so far was written three days ago: the row the triggers left then, moved to its day.
    const threeDaysAgo = dayOf(Date.now() - 3 * DAY);
    db.prepare('UPDATE storage_held_days SET day = ? WHERE source_id = ?').run(threeDaysAgo, fx.sourceId);
    const then = heldNow(db, fx.sourceId);

    // Today: retention deletes the snapshot and the oldest segment, capture adds a segment.
    await fx.store.delete('snapshot', snap, 'retention');
    await fx.store.delete('segment', segmentsOfSource(db, fx.sourceId)[0]!.path, 'retention');
    await fx.appendSegments(1);
    const now = heldNow(db, fx.sourceId);
    expect(now.snapshotBytes).toBe(0);
    expect(heldRows(db, fx.sourceId)).toEqual([
      { day: threeDaysAgo, ...then },
      { day: today(), ...now },
    ]);

    const five = heldBytesByDay(db, fx.sourceId, dayOf(Date.now() - 4 * DAY), 5);
    expect(five).toEqual([
      { day: dayOf(Date.now() - 4 * DAY), held: null }, // before anything was recorded
      { day: threeDaysAgo, held: then },
      { day: dayOf(Date.now() - 2 * DAY), held: then },
      { day: dayOf(Date.now() - DAY), held: then },
      { day: today(), held: now },
    ]);
    // A range that starts after the last change carries the figure in from before it.
    expect(heldBytesByDay(db, fx.sourceId, dayOf(Date.now() - 2 * DAY), 1)).toEqual([
      { day: dayOf(Date.now() - 2 * DAY), held: then },
    ]);

    // The dashboard's overview serves the same figures, beside the bytes written per day.
    const res = await dispatch(fx.engine, 'source.overview', { source: 'prod-rs', days: 5 });
    if (!res.ok) throw new Error(JSON.stringify(res.error));
    const o = res.result as CommandOutput<'source.overview'>;
    expect(o.storage.days.map((d) => [d.day, d.held])).toEqual(five.map((d) => [d.day, d.held]));
    expect(o.storage.days.at(-1)!.held!.oplogBytes + o.storage.days.at(-1)!.held!.snapshotBytes).toBe(
      o.storage.storedBytes,
    );
    expect(snapshotsOfSource(db, fx.sourceId)).toEqual([]);
  });

  it('the migration counts what a catalog already held on the day it runs', () => {
    const dir = tempDir();
    try {
      const path = join(dir.path, 'catalog.sqlite');
      const { db } = openCatalog(
        path,
        migrations.filter((m) => m.version < 11),
      );
      db.prepare(
        "INSERT INTO repositories (id, path, format_version, compression, encrypted, created_at, registered_at) VALUES ('r', '/r', 3, 'zstd', 0, '2026-01-01', '2026-01-01')",
      ).run();
      db.prepare(
        "INSERT INTO sources (id, repository_id, name, created_at) VALUES ('s1', 'r', 'a', '2026-01-01'), ('s2', 'r', 'b', '2026-01-01')",
      ).run();
      db.prepare(
        `INSERT INTO oplog_segments (source_id, path, status, first_t, first_i, last_t, last_i, entry_count, raw_bytes, stored_bytes, payload_sha256, created_at)
         VALUES ('s1', 'p1', 'ok', 1, 1, 2, 1, 1, 10, 700, '', ''), ('s1', 'p2', 'ok', 3, 1, 4, 1, 1, 10, 300, '', '')`,
      ).run();
      db.close();
      const migrated = openCatalog(path);
      expect(migrated.applied).toEqual([11]);
      expect(heldRows(migrated.db, 's1')).toEqual([{ day: today(), snapshotBytes: 0, oplogBytes: 1000 }]);
      expect(heldRows(migrated.db, 's2')).toEqual([{ day: today(), snapshotBytes: 0, oplogBytes: 0 }]);
      migrated.db.close();
    } finally {
      dir.remove();
    }
  });
});
