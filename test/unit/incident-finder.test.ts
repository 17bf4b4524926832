/**
 * The finder's bookkeeping over a real repository: segments read from their
 * files when not in memory, a damaged segment skipped like a gap (the scan
 * goes on), a scan reset meanwhile never overwritten, a segment registered
 * behind the scan or a change of thresholds starting it over.
 */
import { openSync, writeSync, closeSync, fstatSync } from 'node:fs';
import { Long, Timestamp, UUID, serialize, type Document } from 'bson';
import { afterEach, describe, expect, it } from 'vitest';
import {
  forgetIncidents,
  incidentScan,
  incidentsBetween,
  saveIncidentScan,
} from '../../engine/catalog/incidents.js';
import { deleteSegmentRow, insertSegment, segmentsOfSource } from '../../engine/catalog/segments.js';
import { writeSettings } from '../../engine/catalog/settings-store.js';
import { readSegmentHeader } from '../../engine/repo/segment-file.js';
import { makeStore, type StoreFixture } from '../support/store-fixture.js';

let fx: StoreFixture;
afterEach(async () => fx?.close());

/** Entries next on the fixture's time line: two inserts, then a drop of `coll` with `n` records. */
function segmentWithDrop(fx: StoreFixture, coll: string, n: number): Uint8Array[] {
  const next = fx.factory.nextTs;
  fx.factory.skipSeconds(1); // the factory's next entries come after these
  const at = (k: number) => new Timestamp({ t: next.t, i: next.i + k });
  const base = (k: number): Document => ({ ts: at(k), t: Long.fromNumber(1), v: Long.fromNumber(2) });
  return [
    serialize({ ...base(0), op: 'i', ns: `shop.${coll}`, ui: new UUID(), o: { _id: 1 } }),
    serialize({ ...base(1), op: 'i', ns: `shop.${coll}`, ui: new UUID(), o: { _id: 2 } }),
    serialize({
      ...base(2),
      op: 'c',
      ns: 'shop.$cmd',
      o: { drop: coll },
      o2: { numRecords: Long.fromNumber(n) },
    }),
  ];
}

async function appendWithDrop(fx: StoreFixture, coll: string, n: number) {
  return fx.store.appendSegment(fx.sourceId, segmentWithDrop(fx, coll, n), fx.store.chainTip(fx.sourceId));
}

const drops = (fx: StoreFixture) =>
  incidentsBetween(fx.engine.catalog, fx.sourceId, null, null, 100).map((r) => [r.kind, r.ns, r.size]);

describe('incident finder over a repository', () => {
  it('scans new segments from memory, rescans from the files, and skips a damaged segment as a gap', async () => {
    fx = await makeStore();
    await fx.appendSegments(2, 20);
    await appendWithDrop(fx, 'a', 2);
    await fx.appendSegments(1, 20);
    const { info: damaged } = await appendWithDrop(fx, 'b', 3);
    await appendWithDrop(fx, 'c', 4);
    await fx.engine.incidents.catchUp(fx.sourceId);
    expect(drops(fx)).toEqual([
      ['drop', 'shop.a', 2],
      ['drop', 'shop.b', 3],
      ['drop', 'shop.c', 4],
    ]);
    expect(fx.engine.incidents.scanned).toEqual({ fromMemory: 6, fromFiles: 0, fromTail: 0 });

    // Damage the middle of one segment file, then start over: it is read from the files now.
    const fd = openSync(fx.repo.abs(damaged.path), 'r+');
    writeSync(fd, Buffer.alloc(64, 0xff), 0, 64, Math.floor(fstatSync(fd).size / 2));
    closeSync(fd);
    forgetIncidents(fx.engine.catalog, fx.sourceId);
    await fx.engine.incidents.catchUp(fx.sourceId);
    expect(drops(fx)).toEqual([
      ['drop', 'shop.a', 2],
      ['drop', 'shop.c', 4],
    ]);
    expect(fx.engine.incidents.scanned.fromFiles).toBe(5); // the damaged one was skipped
    const scan = incidentScan(fx.engine.catalog, fx.sourceId)!;
    expect(scan.segments).toBe(6);
    expect(fx.engine.incidents.status(fx.sourceId).pending).toBe(0);
  });

  it('never overwrites a scan someone reset meanwhile', async () => {
    fx = await makeStore();
    await appendWithDrop(fx, 'a', 1);
    await fx.engine.incidents.catchUp(fx.sourceId);
    const row = incidentScan(fx.engine.catalog, fx.sourceId)!;
    const progress = {
      through: { t: row.through_t, i: row.through_i },
      maxSegmentId: row.max_segment_id,
      segments: row.segments + 1,
      thresholdsJson: row.thresholds_json,
      stateJson: row.state_json,
    };
    const stale = {
      key: 'x',
      kind: 'drop',
      ns: 'shop.x',
      firstTs: { t: 1, i: 1 },
      lastTs: { t: 1, i: 1 },
      restoreBefore: null,
      wall: null,
      size: 1,
      lsid: null,
      txnNumber: null,
      details: {},
    };
    // A writer that started before the scan count it last saw: refused, nothing written.
    expect(saveIncidentScan(fx.engine.catalog, fx.sourceId, row.segments - 1, progress, [stale], [])).toBe(
      false,
    );
    expect(drops(fx)).toEqual([['drop', 'shop.a', 1]]);
    forgetIncidents(fx.engine.catalog, fx.sourceId);
    expect(saveIncidentScan(fx.engine.catalog, fx.sourceId, row.segments, progress, [stale], [])).toBe(false);
    expect(incidentScan(fx.engine.catalog, fx.sourceId)).toBeUndefined();
    expect(saveIncidentScan(fx.engine.catalog, fx.sourceId, 0, progress, [stale], [])).toBe(true);
  });

  it('starts over when a segment appears behind the scan or the thresholds change', async () => {
    fx = await makeStore();
    const { info: first } = await appendWithDrop(fx, 'a', 1);
    await appendWithDrop(fx, 'b', 1);
    await fx.engine.incidents.catchUp(fx.sourceId);
    expect(fx.engine.incidents.status(fx.sourceId).pending).toBe(0);

    // The first segment's row is forgotten and registered again (as reconcile does for a file it finds).
    deleteSegmentRow(fx.engine.catalog, first.path);
    insertSegment(fx.engine.catalog, readSegmentHeader(fx.repo, first.path));
    expect(segmentsOfSource(fx.engine.catalog, fx.sourceId)).toHaveLength(2);
    expect(fx.engine.incidents.status(fx.sourceId)).toMatchObject({ through: null, pending: 2 });
    const before = fx.engine.incidents.scanned.fromFiles;
    await fx.engine.incidents.catchUp(fx.sourceId);
    expect(fx.engine.incidents.scanned.fromFiles - before).toBe(2);
    expect(drops(fx)).toEqual([
      ['drop', 'shop.a', 1],
      ['drop', 'shop.b', 1],
    ]);

    writeSettings(fx.engine.catalog, { incidentSeconds: 60 });
    expect(fx.engine.incidents.status(fx.sourceId)).toMatchObject({
      through: null,
      pending: 2,
      thresholds: { documents: 1000, seconds: 60 },
    });
    await fx.engine.incidents.catchUp(fx.sourceId);
    expect(incidentScan(fx.engine.catalog, fx.sourceId)!.thresholds_json).toBe(
      JSON.stringify({ documents: 1000, seconds: 60, rules: 2 }),
    );
    expect(drops(fx)).toHaveLength(2);

    // A scan stored by an engine of older rules (no version): scanned again, the same findings.
    fx.engine.catalog
      .prepare('UPDATE incident_scans SET thresholds_json = ? WHERE source_id = ?')
      .run(JSON.stringify({ documents: 1000, seconds: 60 }), fx.sourceId);
    expect(fx.engine.incidents.status(fx.sourceId)).toMatchObject({ through: null, pending: 2 });
    await fx.engine.incidents.catchUp(fx.sourceId);
    expect(drops(fx)).toHaveLength(2);
    expect(incidentScan(fx.engine.catalog, fx.sourceId)!.thresholds_json).toContain('"rules":2');
  });
});
