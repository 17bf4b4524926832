/**
 * Segments sealed as a pipeline (store/seal-pipeline.ts): the next ones are encoded while one is
 * written and recorded, and still the chain, the catalog's order and the failure rules are those
 * of a loop that writes one segment after the other.
 */
import { readdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { segmentsOfSource } from '../../engine/catalog/segments.js';
import { NODE_IO, isTempName, type FileIo } from '../../engine/repo/durable-file.js';
import { encodeSegmentInWorker } from '../../engine/repo/seal-pool.js';
import { readSegment, type SegmentEncoder } from '../../engine/repo/segment-file.js';
import { makeStore, type StoreFixture } from '../support/store-fixture.js';

let fx: StoreFixture | null = null;
afterEach(async () => {
  await fx?.close();
  fx = null;
});

const hex = (list: readonly Uint8Array[]) => list.map((e) => Buffer.from(e).toString('hex'));

/** The files in the source's segment directory (all batches land in one day here). */
function filesBeside(f: StoreFixture, segPath: string): string[] {
  return readdirSync(dirname(f.repo.abs(segPath))).sort();
}

describe('sealing segments as a pipeline', () => {
  it('appends a run of segments chained and in order, encoding the next ones before the first is written', async () => {
    fx = await makeStore({ passphrase: 'pipeline passphrase' });
    const f = fx;
    const batches = Array.from({ length: 5 }, () => f.factory.mixed(30));
    const events: string[] = [];
    const encode: SegmentEncoder = (req) => {
      events.push(`encode ${req.header.count}@${req.header.firstTs.t}:${req.header.firstTs.i}`);
      return encodeSegmentInWorker(req);
    };
    const io: FileIo = {
      open: NODE_IO.open,
      rename: async (from, to) => {
        events.push(`rename ${to.split('/').at(-1)}`);
        await NODE_IO.rename(from, to);
      },
    };
    f.repo.io = io;
    const written = await f.store.appendSegments(f.sourceId, batches, null, { encode });
    expect(written).toHaveLength(5);

    // Order and chain exactly as appendSegment one by one would leave them.
    const rows = segmentsOfSource(f.engine.catalog, f.sourceId);
    expect(rows.map((r) => r.path)).toEqual(written.map((w) => w.info.path));
    expect(written[0]!.info.prevLastTs).toBeNull();
    for (let k = 1; k < 5; k++) expect(written[k]!.info.prevLastTs).toEqual(written[k - 1]!.info.lastTs);
    expect(f.store.chainTip(f.sourceId)).toEqual(written[4]!.info.lastTs);
    for (let k = 0; k < 5; k++) {
      const { entries } = await readSegment(f.repo, written[k]!.info.path);
      expect(hex(entries)).toEqual(hex(batches[k]!));
    }
    // Segments 2 and 3 (at least) were handed to the encoder before segment 1 was in place.
    const firstRename = events.findIndex((e) => e.startsWith('rename'));
    expect(events.slice(0, firstRename).filter((e) => e.startsWith('encode')).length).toBeGreaterThanOrEqual(
      3,
    );
    // And the renames (what makes a segment exist) came one by one in chain order.
    expect(events.filter((e) => e.startsWith('rename'))).toEqual(
      written.map((w) => `rename ${w.info.path.split('/').at(-1)}`),
    );
  });

  it('a failed write of segment 2 leaves segments 3 and 4 neither written nor recorded', async () => {
    fx = await makeStore();
    const f = fx;
    const batches = Array.from({ length: 4 }, () => f.factory.mixed(20));
    let renames = 0;
    f.repo.io = {
      open: NODE_IO.open,
      rename: async (from, to) => {
        if (++renames === 2)
          throw Object.assign(new Error('ENOSPC: no space left on device, rename'), { code: 'ENOSPC' });
        await NODE_IO.rename(from, to);
      },
    };
    await expect(
      f.store.appendSegments(f.sourceId, batches, null, { encode: encodeSegmentInWorker }),
    ).rejects.toMatchObject({ code: 'ENOSPC' });
    const rows = segmentsOfSource(f.engine.catalog, f.sourceId);
    expect(rows).toHaveLength(1);
    expect(f.store.chainTip(f.sourceId)).toEqual(rows[0] && { t: rows[0].last_t, i: rows[0].last_i });
    // Only segment 1's file: no later segment, no temporary left behind.
    const files = filesBeside(f, rows[0]!.path);
    expect(files).toEqual([rows[0]!.path.split('/').at(-1)]);
    expect(files.some(isTempName)).toBe(false);
    // The chain goes on from segment 1 once the disk is back.
    f.repo.io = NODE_IO;
    const again = await f.store.appendSegments(f.sourceId, batches.slice(1), f.store.chainTip(f.sourceId));
    expect(again.map((w) => w.info.prevLastTs)).toEqual([
      { t: rows[0]!.last_t, i: rows[0]!.last_i },
      again[0]!.info.lastTs,
      again[1]!.info.lastTs,
    ]);
  });

  it('entries out of order in a later batch: the segments before it are kept, nothing after', async () => {
    fx = await makeStore();
    const f = fx;
    const [a, b] = [f.factory.mixed(10), f.factory.mixed(10)];
    const late = f.factory.mixed(10);
    const bad = [late[1]!, late[0]!, ...late.slice(2)];
    await expect(
      f.store.appendSegments(f.sourceId, [a, b, bad, f.factory.mixed(10)], null, {
        encode: encodeSegmentInWorker,
      }),
    ).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    const rows = segmentsOfSource(f.engine.catalog, f.sourceId);
    expect(rows.map((r) => r.entry_count)).toEqual([10, 10]);
    expect(filesBeside(f, rows[0]!.path)).toHaveLength(2);
  });
});
