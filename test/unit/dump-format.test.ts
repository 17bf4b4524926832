/**
 * The mongodump formats by themselves: CRC-64 (Go's ECMA variant), file
 * names as mongodump escapes and truncates them, metadata.json in
 * mongodump's field order, the archive writer judged by an independent
 * reader written from the format description, and the real fixtures'
 * archives and directories read back with every count and CRC checked.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Long, serialize } from 'bson';
import { afterEach, describe, expect, it } from 'vitest';
import { ArchiveWriter } from '../../engine/dump/archive-writer.js';
import { readArchive } from '../../engine/dump/archive-reader.js';
import { Crc64 } from '../../engine/dump/crc64.js';
import { readDirectory } from '../../engine/dump/directory-reader.js';
import { DirectoryWriter } from '../../engine/dump/directory-writer.js';
import type { DumpContents, DumpNamespace } from '../../engine/dump/dump-types.js';
import { dumpMetadataJson, parseDumpMetadata } from '../../engine/dump/metadata.js';
import { collectionFileBase, queryEscape, queryUnescape } from '../../engine/dump/names.js';
import { crc64Bigint, parseArchiveBySpec } from '../support/archive-spec-reader.js';
import { HAVE_FIXTURES, SKIP_FIXTURES_MESSAGE, fixture } from '../support/fixtures.js';
import { tempDir } from '../support/temp-dir.js';

const dirs: ReturnType<typeof tempDir>[] = [];
afterEach(() => dirs.splice(0).forEach((d) => d.remove()));
const tmp = () => {
  const d = tempDir('mbm-dumpfmt-');
  dirs.push(d);
  return d.path;
};

async function collect(c: DumpContents) {
  const out = new Map<string, Uint8Array[]>();
  for await (const it of c.items()) {
    const k = it.kind === 'oplog' ? 'oplog' : `${it.ns.db}.${it.ns.collection}`;
    out.set(k, [...(out.get(k) ?? []), it.doc]);
  }
  return out;
}

describe('CRC-64 as Go hash/crc64 (ECMA table) computes it', () => {
  it('gives the standard check value and agrees with an independent BigInt implementation', () => {
    const nine = Buffer.from('123456789');
    expect(new Crc64().update(nine).hex()).toBe('995dc9bbdf1939fa'); // CRC-64/XZ check value
    const parts = [Buffer.from('abc'), Buffer.alloc(1000, 7), Buffer.from([0, 255, 128])];
    const c = new Crc64();
    for (const p of parts) c.update(p);
    expect(c.hex()).toBe(crc64Bigint(parts).toString(16).padStart(16, '0'));
  });
});

describe('file names as mongodump writes them', () => {
  it('escapes with Go url.QueryEscape and reverses it', () => {
    expect(queryEscape('cafés')).toBe('caf%C3%A9s');
    expect(queryEscape("a b$c/d*e(f)!'~-_.")).toBe('a+b%24c%2Fd%2Ae%28f%29%21%27~-_.');
    expect(queryUnescape('a+b%24c%2Fd', 'x')).toBe('a b$c/d');
    expect(() => queryUnescape('bad%zz', 'x')).toThrow(/not a URL-escaped/);
  });

  it.skipIf(!HAVE_FIXTURES)('truncates a long name exactly as the fixture longcollectionname/ does', () => {
    const meta = readdirSync(fixture('mongorestore/testdata/longcollectionname/db1')).find((f) =>
      f.endsWith('.metadata.json'),
    )!;
    const { collectionName } = parseDumpMetadata(
      readFileSync(fixture('mongorestore/testdata/longcollectionname/db1', meta), 'utf8'),
      meta,
    );
    expect(collectionName!.length).toBe(247);
    expect(`${collectionFileBase(collectionName!)}.metadata.json`).toBe(meta);
  });
  if (!HAVE_FIXTURES) it.skip(SKIP_FIXTURES_MESSAGE, () => {});
});

describe('metadata.json', () => {
  it("writes mongodump's field order and omissions, and keeps the fields an imported file had", () => {
    const m = {
      options: {},
      indexes: [{ v: { $numberInt: '2' }, key: { _id: { $numberInt: '1' } }, name: '_id_' }],
      uuid: 'ee3534fe9545406f90406b246dde420d',
      type: 'collection' as const,
      name: 'foo',
    };
    expect(dumpMetadataJson(m)).toBe(
      '{"indexes":[{"v":{"$numberInt":"2"},"key":{"_id":{"$numberInt":"1"}},"name":"_id_"}],"uuid":"ee3534fe9545406f90406b246dde420d","collectionName":"foo"}',
    );
    expect(
      Object.keys(JSON.parse(dumpMetadataJson({ ...m, fields: ['options', 'indexes', 'uuid'] }))),
    ).toEqual(['options', 'indexes', 'uuid']);
    const view = JSON.parse(
      dumpMetadataJson({
        ...m,
        type: 'view',
        options: { viewOn: 'foo', pipeline: [] },
        indexes: [],
        uuid: null,
      }),
    );
    expect(view).toEqual({
      options: { viewOn: 'foo', pipeline: [] },
      indexes: [],
      collectionName: 'foo',
      type: 'view',
    });
  });

  it('reads relaxed (old mongodump) and canonical Extended JSON alike, keeping BSON types', () => {
    const relaxed = parseDumpMetadata(
      '{"options":{},"indexes":[{"v":2,"key":{"_id":1},"name":"_id_"}]}',
      'x',
    );
    const canon = parseDumpMetadata(
      '{"indexes":[{"v":{"$numberInt":"2"},"key":{"_id":{"$numberInt":"1"}},"name":"_id_"}]}',
      'x',
    );
    expect(relaxed.indexes).toEqual(canon.indexes);
    expect(relaxed.fields).toEqual(['options', 'indexes']);
    expect(parseDumpMetadata('{"indexes":[{"key":{"a":1.0}}]}', 'x').indexes[0]).toEqual({
      key: { a: { $numberDouble: '1.0' } },
    });
    expect(() => parseDumpMetadata('{not json', 'm.json')).toThrow(/m.json is not valid Extended JSON/);
  });
});

const NS: DumpNamespace[] = [
  {
    db: 'shop',
    collection: 'orders',
    type: '',
    metadata: '{"indexes":[],"collectionName":"orders"}',
    hasData: true,
    size: 0,
  },
  {
    db: 'shop',
    collection: 'recent',
    type: 'view',
    metadata:
      '{"options":{"viewOn":"orders","pipeline":[]},"indexes":[],"collectionName":"recent","type":"view"}',
    hasData: false,
    size: 0,
  },
  { db: 'shop', collection: 'empty one', type: '', metadata: null, hasData: true, size: 0 },
];
const docs = Array.from({ length: 300 }, (_, k) => serialize({ _id: k, s: 'x'.repeat(k % 50) }));
const entries = Array.from({ length: 20 }, (_, k) =>
  serialize({ ts: Long.fromBits(k + 1, 1_700_000_000), op: 'n', ns: '', o: { msg: 'noop' } }),
);

async function writeDump(w: ArchiveWriter | DirectoryWriter) {
  await w.begin({ serverVersion: '8.0.4', toolVersion: 'test' }, NS, true);
  const s = await w.collection(NS[0]!);
  for (const d of docs) await s.write(d);
  await s.close();
  const e = await w.collection(NS[2]!);
  await e.close();
  const o = await w.oplog();
  for (const d of entries) await o.write(d);
  await o.close();
  await w.commit();
}

describe('archive writer', () => {
  for (const gzip of [false, true]) {
    it(`writes what the format description says${gzip ? ' (gzip)' : ''}, judged by an independent reader`, async () => {
      const path = join(tmp(), 'x.archive');
      await writeDump(new ArchiveWriter(path, gzip));
      const file = readFileSync(path);
      expect(file[0] === 0x1f && file[1] === 0x8b).toBe(gzip);
      const a = parseArchiveBySpec(file);
      expect(a.header).toMatchObject({ version: '0.1', server_version: '8.0.4', tool_version: 'test' });
      expect(a.prelude.map((p) => `${p.db as string}.${p.collection as string}:${p.type as string}`)).toEqual(
        ['shop.orders:', 'shop.recent:view', 'shop.empty one:', '.oplog:'],
      );
      expect(a.prelude[1]!.metadata).toBe(NS[1]!.metadata);
      expect(a.data.get('shop.orders')!.map((b) => Buffer.from(b))).toEqual(docs.map((d) => Buffer.from(d)));
      expect(a.data.get('.oplog')).toHaveLength(20);
      expect(a.eofCrc.has('shop.empty one')).toBe(true); // an empty collection still ends with its EOF
      expect(a.eofCrc.get('shop.empty one')).toBe('0000000000000000');
      // Our own reader agrees, documents byte for byte.
      const back = await collect(await readArchive(path));
      expect(back.get('shop.orders')!.map((b) => Buffer.from(b))).toEqual(docs.map((d) => Buffer.from(d)));
      expect(back.get('oplog')).toHaveLength(20);
    });
  }

  it('leaves nothing under the final name when aborted', async () => {
    const dir = tmp();
    const w = new ArchiveWriter(join(dir, 'x.archive'), false);
    await w.begin({ serverVersion: '', toolVersion: '' }, NS, false);
    await (await w.collection(NS[0]!)).write(docs[0]!);
    await w.abort();
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('directory writer', () => {
  for (const gzip of [false, true]) {
    it(`writes mongodump's layout${gzip ? ' with .gz names' : ''} and reads back`, async () => {
      const out = join(tmp(), 'dump');
      await writeDump(new DirectoryWriter(out, gzip));
      const gz = gzip ? '.gz' : '';
      // The oplog keeps its name when gzipped (mongodump does so; mongorestore looks for oplog.bson).
      expect(readdirSync(out).sort()).toEqual(['oplog.bson', `prelude.json${gz}`, 'shop']);
      expect(readdirSync(join(out, 'shop')).sort()).toEqual(
        [
          `empty+one.bson${gz}`,
          `orders.bson${gz}`,
          `orders.metadata.json${gz}`,
          `recent.metadata.json${gz}`,
        ].sort(),
      );
      const read = (p: string) =>
        gzip ? gunzipSync(readFileSync(join(out, p))) : readFileSync(join(out, p));
      expect(JSON.parse(read(`prelude.json${gz}`).toString())).toEqual({
        ServerVersion: '8.0.4',
        ToolVersion: 'test',
      });
      expect(read(`shop/orders.bson${gz}`).equals(Buffer.concat(docs))).toBe(true);
      const c = await readDirectory(out);
      expect(c.namespaces.map((n) => [n.collection, n.type, n.hasData])).toEqual([
        ['empty one', '', true],
        ['orders', '', true],
        ['recent', 'view', false],
      ]);
      expect((await collect(c)).get('oplog')).toHaveLength(20);
    });
  }
});

describe.skipIf(!HAVE_FIXTURES)('the fixtures read back (real mongodump output)', () => {
  const T = (p: string) => fixture('mongorestore/testdata', p);
  it('dump-w-oplog.archive: prelude, 25 documents of test.foo, 18 oplog entries, every CRC checked', async () => {
    const c = await readArchive(T('dump-w-oplog.archive'));
    expect(c.prelude).toEqual({ serverVersion: '4.0.2', toolVersion: 'r4.1.3-4-gd9eefb54' });
    expect(c.hasOplog).toBe(true);
    const got = await collect(c);
    expect(got.get('test.foo')).toHaveLength(25);
    expect(got.get('oplog')).toHaveLength(18);
    // The independent reader agrees on the same real file.
    const a = parseArchiveBySpec(readFileSync(T('dump-w-oplog.archive')));
    expect(a.data.get('test.foo')).toHaveLength(25);
  });

  it('a gzip directory (prelude_test/prelude_gzip) and names with special characters', async () => {
    const gz = await readDirectory(T('prelude_test/prelude_gzip'));
    expect(gz.prelude).toEqual({ serverVersion: '7.0.16', toolVersion: '' });
    expect((await collect(gz)).get('test.foo')).toHaveLength(1);
    const sc = await readDirectory(T('specialcharacter'));
    expect(sc.namespaces.map((n) => `${n.db}.${n.collection}`)).toEqual(['db1.cafés']);
  });

  it('refuses bad input with a typed error', async () => {
    await expect(readArchive(T('bad-format.archive')).then(async (c) => c)).resolves.toBeTruthy();
    await expect(readArchive(T('oplogdump/oplog.bson'))).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    const trunc = join(tmp(), 'cut.archive');
    const whole = readFileSync(T('dump-w-oplog.archive'));
    writeFileSync(trunc, whole.subarray(0, Math.floor(whole.length * 0.7)));
    await expect(readArchive(trunc).then(collect)).rejects.toMatchObject({ code: 'INVALID_BSON' });
    const empty = tmp();
    mkdirSync(join(empty, 'nothing-here'));
    await expect(readDirectory(empty)).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message: /no mongodump output/,
    });
  });
});
if (!HAVE_FIXTURES) it.skip(SKIP_FIXTURES_MESSAGE, () => {});
