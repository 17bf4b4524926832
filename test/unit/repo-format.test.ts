import { deserialize } from 'bson';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseDocument, splitBsonDocuments } from '../../engine/repo/bson-entries.js';
import { readSegment, readSegmentHeader } from '../../engine/repo/segment-file.js';
import { readCollection, readManifest } from '../../engine/repo/snapshot-files.js';
import { HAVE_FIXTURES, SKIP_FIXTURES_MESSAGE, fixture } from '../support/fixtures.js';
import { makeStore, type StoreFixture } from '../support/store-fixture.js';

let fx: StoreFixture | null = null;
afterEach(async () => {
  await fx?.close();
  fx = null;
});

const variants = [
  { name: 'zstd', opts: {} },
  { name: 'gzip', opts: { compression: { algorithm: 'gzip' as const, level: 6 } } },
  { name: 'zstd + AES-256-GCM', opts: { passphrase: 'correct horse battery' } },
];

describe.skipIf(!HAVE_FIXTURES)(
  `real BSON from ../shared/fixtures ${HAVE_FIXTURES ? '' : SKIP_FIXTURES_MESSAGE}`,
  () => {
    const allTypes = () => [
      ...splitBsonDocuments(readFileSync(fixture('bsondump', 'testdata', 'all_types.bson'))),
    ];

    for (const v of variants) {
      it(`round-trips every BSON type of all_types.bson byte for byte (${v.name})`, async () => {
        fx = await makeStore(v.opts);
        const docs = allTypes();
        expect(docs.length).toBeGreaterThan(10);
        const id = await fx.snapshot({ t: 1_763_805_600, i: 1 }, { t: 1_763_805_600, i: 1 }, docs);
        const rel = join('sources', fx.sourceId, 'snapshots', id);
        const manifest = await readManifest(fx.repo, rel);
        const back: Uint8Array[] = [];
        for await (const d of readCollection(fx.repo, rel, manifest.namespaces[0]!, { parse: true }))
          back.push(Buffer.from(d));
        expect(back.map((b) => Buffer.from(b).toString('hex'))).toEqual(
          docs.map((d) => Buffer.from(d).toString('hex')),
        );
        // And they decode to the same values (Decimal128, Long, Timestamp, Binary subtypes, dates, regexes…).
        expect(back.map((d) => deserialize(d, { promoteValues: false }))).toEqual(
          docs.map((d) => deserialize(d, { promoteValues: false })),
        );
      });
    }

    const broken = [
      'bad_cstring.bson',
      'bad_type.bson',
      'partial_file.bson',
      'random_bytes.bson',
      'invalid_field_name.bson',
    ];
    for (const f of broken) {
      it(`reports ${f} as INVALID_BSON, never a crash or a silent skip`, () => {
        const buf = readFileSync(fixture('bsondump', 'testdata', f));
        expect(() => {
          for (const d of splitBsonDocuments(buf, f)) parseDocument(d, f);
        }).toThrow(expect.objectContaining({ code: 'INVALID_BSON' }) as Error);
      });
    }

    it('reads every well-formed fixture dump file', () => {
      const dir = fixture('bsondump', 'testdata');
      for (const f of readdirSync(dir).filter((n) =>
        ['all_types.bson', 'sample.bson', 'all_in_one_doc.bson'].includes(n),
      )) {
        const docs = [...splitBsonDocuments(readFileSync(join(dir, f)), f)].map((d) => parseDocument(d, f));
        expect(docs.length, f).toBeGreaterThan(0);
      }
    });

    it('stores a real mongodump oplog.bson as a segment and reads it back entry for entry', async () => {
      fx = await makeStore();
      const entries = [
        ...splitBsonDocuments(
          readFileSync(fixture('mongorestore', 'testdata', 'oplog_partial_skips', 'oplog.bson')),
        ),
      ];
      expect(entries.length).toBeGreaterThan(0);
      const { info } = await fx.store.appendSegment(fx.sourceId, entries, null);
      const back = await readSegment(fx.repo, info.path);
      expect(back.entries.map((e) => Buffer.from(e).toString('hex'))).toEqual(
        entries.map((e) => Buffer.from(e).toString('hex')),
      );
      const firstTs = (deserialize(entries[0]!) as { ts: { t: number; i: number } }).ts;
      expect(info.firstTs).toEqual({ t: firstTs.t, i: firstTs.i });
    });
  },
);

describe('oplog segment files', () => {
  it('are self-describing: header, name, chain link', async () => {
    fx = await makeStore();
    await fx.appendSegments(3, 25);
    const rows = fx.engine.catalog
      .prepare('SELECT path FROM oplog_segments ORDER BY first_t, first_i')
      .pluck()
      .all() as string[];
    expect(rows).toHaveLength(3);
    const headers = await Promise.all(rows.map((p) => readSegmentHeader(fx!.repo, p)));
    expect(headers[0]!.prevLastTs).toBeNull();
    expect(headers[1]!.prevLastTs).toEqual(headers[0]!.lastTs);
    expect(headers[2]!.prevLastTs).toEqual(headers[1]!.lastTs);
    for (const h of headers) {
      expect(h.path).toMatch(/^sources\/[\w-]+\/oplog\/\d{4}\/\d{2}\/\d{2}\/\d+-\d+_\d+-\d+\.seg$/);
      expect(h.path).toContain(`${h.firstTs.t}-${h.firstTs.i}_${h.lastTs.t}-${h.lastTs.i}.seg`);
      expect(h.count).toBe(25);
      expect(h.payloadSha256).toMatch(/^[0-9a-f]{64}$/);
    }
    const names = [...rows].sort();
    expect(names).toEqual(rows); // names sort by time
  });

  it('refuses entries out of order and an empty batch', async () => {
    fx = await makeStore();
    const [a, b] = fx.factory.mixed(2);
    await expect(fx.store.appendSegment(fx.sourceId, [b!, a!], null)).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
    await expect(fx.store.appendSegment(fx.sourceId, [], null)).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
    const tip = { t: 2_000_000_000, i: 1 };
    await expect(fx.store.appendSegment(fx.sourceId, [a!], tip)).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
    expect(fx.engine.catalog.prepare('SELECT count(*) FROM oplog_segments').pluck().get()).toBe(0);
  });
});
