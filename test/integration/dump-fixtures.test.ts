/**
 * Real mongodump output (the mongo-tools fixtures) imported as snapshots and
 * exported again: the same files, names, documents (byte for byte) and
 * metadata fields; the imported points replay to what mongorestore's own
 * tests expect; bad input is refused with a typed error and leaves nothing.
 */
import { deserialize } from 'bson';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { dispatch } from '../../engine/api/dispatch.js';
import { parseDumpMetadata } from '../../engine/dump/metadata.js';
import { readManifest } from '../../engine/repo/snapshot-files.js';
import { MongoClient } from 'mongodb';
import { parseArchiveBySpec } from '../support/archive-spec-reader.js';
import { runTask } from '../support/run-task.js';
import { withMongo } from '../support/with-mongo.js';
import { dumpEnv, fileTree, type DumpEnv } from '../support/dump-helpers.js';
import { FIXTURES, HAVE_FIXTURES, SKIP_FIXTURES_MESSAGE, fixture } from '../support/fixtures.js';

const T = (p: string) => fixture('mongorestore/testdata', p);
let env: DumpEnv;
afterEach(async () => env?.close());

/** The files mongorestore reads from a dump directory (it ignores others, e.g. a stray top-level .bson). */
function dumpFiles(root: string, gunzip: boolean): Map<string, Buffer> {
  const all = fileTree(root, gunzip);
  return new Map(
    [...all].filter(([p]) =>
      p.includes('/')
        ? /\.(bson|metadata\.json)(\.gz)?$/.test(p)
        : /^(oplog\.bson|prelude\.json)(\.gz)?$/.test(p),
    ),
  );
}

function sameMetadata(a: Buffer, b: Buffer, label: string): void {
  const [ma, mb] = [parseDumpMetadata(a.toString(), label), parseDumpMetadata(b.toString(), label)];
  expect(mb.fields, label).toEqual(ma.fields);
  expect({ ...mb, fields: 0 }, label).toEqual({ ...ma, fields: 0 });
}

const DIRECTORIES = [
  'oplogdump',
  'dump_with_noop_in_oplog',
  'oplog_partial_skips',
  'longcollectionname',
  'specialcharacter',
  'indextestdump',
  'duplicate_index_key_with_oplog',
  'usersdump',
  'prelude_test/prelude_top_level',
  'prelude_test/prelude_gzip',
];
const ARCHIVES = ['dump-w-oplog.archive', 'test.bar.archive'];

describe.skipIf(!HAVE_FIXTURES)('mongodump fixtures: import, then export', () => {
  for (const name of DIRECTORIES) {
    it(`${name}/ -> import -> export has the same files, names, documents and metadata fields`, async () => {
      env = await dumpEnv();
      const gzip = name.endsWith('gzip');
      const imported = await env.importDump({ source: 'imp', dir: T(name) });
      expect(imported).toMatchObject({ source: 'imp', sourceCreated: true });
      const out = join(env.dir, 'out');
      await env.exportDump({ source: 'imp', at: 'latest', out, gzip });
      const want = dumpFiles(T(name), true);
      const got = dumpFiles(out, true);
      expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
      for (const [p, bytes] of want) {
        if (p.includes('metadata.json')) sameMetadata(bytes, got.get(p)!, `${name}/${p}`);
        else if (p.endsWith('.bson') || p.endsWith('.bson.gz'))
          expect(got.get(p)!.equals(bytes), `${name}/${p} byte for byte`).toBe(true);
      }
    });
  }

  for (const name of ARCHIVES) {
    for (const gzip of [false, true]) {
      it(`${name} -> import -> export${gzip ? ' --gzip' : ''} has the same namespaces, documents and metadata fields`, async () => {
        env = await dumpEnv();
        await env.importDump({ source: 'imp', archive: T(name) });
        const out = join(env.dir, 'out.archive');
        await env.exportDump({ source: 'imp', at: 'latest', archive: out, gzip });
        const [a, b] = [parseArchiveBySpec(readFileSync(T(name))), parseArchiveBySpec(readFileSync(out))];
        const listed = (x: typeof a) =>
          // Old mongodump wrote no `type` in the prelude; current ones write "" for a collection.
          x.prelude
            .map((p) => `${p.db as string}.${p.collection as string}:${(p.type as string) ?? ''}`)
            .sort();
        expect(listed(b)).toEqual(listed(a));
        for (const p of a.prelude.filter((p) => p.metadata)) {
          const q = b.prelude.find((x) => x.db === p.db && x.collection === p.collection)!;
          sameMetadata(
            Buffer.from(p.metadata as string),
            Buffer.from(q.metadata as string),
            `${name} ${p.collection as string}`,
          );
        }
        expect([...b.data.keys()].sort()).toEqual([...a.data.keys()].sort());
        for (const [ns, docs] of a.data)
          expect(Buffer.concat(b.data.get(ns)!).equals(Buffer.concat(docs)), ns).toBe(true);
      });
    }
  }

  it('oplogdump/: 5 documents in the snapshot, 10 in db1.c1 with its oplog replayed (oplog_test.go)', async () => {
    env = await dumpEnv();
    const r = await env.importDump({ source: 'od', dir: T('oplogdump') });
    expect(r).toMatchObject({ oplogEntries: 3, segments: 1, startTs: { t: 1511064038, i: 27 } });
    const store = await env.engine.stores.get();
    const row = env.engine.catalog.prepare('SELECT path FROM snapshots WHERE id = ?').get(r.snapshotId) as {
      path: string;
    };
    const m = await readManifest(store.repo, row.path);
    expect(m.namespaces.find((n) => n.ns === 'db1.c1')!.count).toBe(5);
    expect(m.consistentTs).toEqual({ t: 1511064038, i: 32 });
    expect((await env.offline('od')).get('db1.c1')!.docs.size).toBe(10);
    // Listed as an imported source: no connection, job stopped.
    const list = await dispatch(env.engine, 'source.list', {});
    expect(list).toMatchObject({ ok: true, result: [{ name: 'od', imported: true }] });
    const status = await dispatch(env.engine, 'source.status', { source: 'od' });
    expect(status).toMatchObject({ ok: true, result: { imported: true, coverage: { snapshots: 1 } } });
    expect(await dispatch(env.engine, 'backup-job.get', { source: 'od' })).toMatchObject({
      ok: true,
      result: { state: 'stopped' },
    });
    expect(await dispatch(env.engine, 'backup-job.start', { source: 'od' })).toMatchObject({
      ok: false,
      error: { code: 'CONFLICT', message: /imported from a mongodump/ },
    });
  });

  it('duplicate_index_key_with_oplog/ and dump_with_noop_in_oplog/ replay to what mongorestore asserts', async () => {
    env = await dumpEnv();
    await env.importDump({ source: 'dup', dir: T('duplicate_index_key_with_oplog') });
    expect((await env.offline('dup')).get('test.foo')!.docs.size).toBe(1);
    await env.importDump({ source: 'noop', dir: T('dump_with_noop_in_oplog') });
    const data = (await env.offline('noop')).get('test.data')!;
    expect([...data.docs.values()].map((d) => deserialize(d).a)).toEqual([1]);
  });

  // Both end with entries appended by hand that repeat earlier timestamps (no server writes that).
  // mongorestore applies oplog.bson in file order (mongorestore/oplog.go checks no ts order) and its tests
  // TestCreateIndexes / TestCommitIndexBuild assert 3 indexes after --oplogReplay: _id and two others.
  for (const [name, ns, entries, restamped] of [
    [
      'create_indexes',
      'create_indexes.test',
      16,
      [{ entry: 15, ts: '1589174740:3', storedAs: '1589174850:2' }],
    ],
    [
      'commit_indexes_build',
      'commit_index.test',
      17,
      [
        { entry: 15, ts: '1588114182:1', storedAs: '1588114270:2' },
        { entry: 16, ts: '1588114182:2', storedAs: '1588114270:3' },
      ],
    ],
  ] as const) {
    it(`${name}/ (hand-edited oplog, repeated ts): applied in file order, restores with 3 indexes as mongorestore's test asserts`, async () => {
      env = await dumpEnv();
      const r = await env.importDump({ source: name, dir: T(name) });
      expect(r).toMatchObject({
        oplogEntries: entries,
        oplogRestamped: { count: restamped.length, entries: restamped },
      });
      const offline = (await env.offline(name)).get(ns)!;
      const names = offline.indexes.map((b) => String(deserialize(b).name));
      expect(names).toEqual(['_id_', 'a_1', 'b_1']);
      // b_1 kept its partial filter, byte for byte as logged.
      expect(deserialize(offline.indexes[2]!).partialFilterExpression).toEqual({ a: 1 });
      await withMongo(async ({ uri, kind }) => {
        const client = new MongoClient(uri);
        try {
          const [db, coll] = [ns.slice(0, ns.indexOf('.')), ns.slice(ns.indexOf('.') + 1)];
          const target = `${db}_${Date.now().toString(36)}`;
          const task = await runTask(env.engine, 'restore.run', {
            source: name,
            at: 'latest',
            targetUri: uri,
            rename: [`${db}.$c$=${target}.$c$`],
          } as never);
          expect(task.state, JSON.stringify(task.error)).toBe('succeeded');
          const ix = await client.db(target).collection(coll).listIndexes().toArray();
          expect(ix.map((i) => i.name).sort(), kind).toEqual(['_id_', 'a_1', 'b_1']);
          expect(ix.find((i) => i.name === 'b_1')!.partialFilterExpression).toEqual({ a: 1 });
          await client.db(target).dropDatabase();
        } finally {
          await client.close();
        }
      });
    });
  }

  it('an oplog-only dump is coverage on an empty snapshot, restorable at every entry', async () => {
    env = await dumpEnv();
    const r = await env.importDump({ source: 'ops', dir: T('oplog_partial_skips') });
    expect(r).toMatchObject({ namespaces: 0, documents: 0, oplogEntries: 21 });
    const cov = await dispatch(env.engine, 'source.coverage', { source: 'ops' });
    expect(cov).toMatchObject({
      ok: true,
      // One tick before the first entry: the anchor that lets the first entry be replayed, as mongorestore does.
      result: { intervals: [{ start: { t: 1582918093, i: 0 } }], gaps: [] },
    });
    const plan = await dispatch(env.engine, 'restore.plan', { source: 'ops', at: '1582918707:1' });
    expect(plan).toMatchObject({ ok: true, result: { restorable: true } });
  });

  it('users and roles become the snapshot users/roles and are exported as admin/system.users.bson', async () => {
    env = await dumpEnv();
    const r = await env.importDump({ source: 'u', dir: T('usersdump') });
    expect(r).toMatchObject({ users: 1, roles: 1 });
  });

  it('an encrypted repository imports and exports the same bytes; a rebuilt catalog keeps the source imported', async () => {
    env = await dumpEnv({ passphrase: 'correct horse battery staple' });
    await env.importDump({ source: 'enc', archive: T('dump-w-oplog.archive') });
    const out = join(env.dir, 'enc.archive');
    await env.exportDump({ source: 'enc', at: 'latest', archive: out });
    const [a, b] = [
      parseArchiveBySpec(readFileSync(T('dump-w-oplog.archive'))),
      parseArchiveBySpec(readFileSync(out)),
    ];
    for (const [ns, docs] of a.data)
      expect(Buffer.concat(b.data.get(ns)!).equals(Buffer.concat(docs)), ns).toBe(true);
    const rebuilt = await dispatch(env.engine, 'catalog.rebuild', {});
    if (!rebuilt.ok) throw new Error(rebuilt.error.message);
    const t = await env.engine.tasks.wait((rebuilt.result as { taskId: string }).taskId);
    expect(t.state).toBe('succeeded');
    expect(await dispatch(env.engine, 'source.list', {})).toMatchObject({
      result: [{ name: 'enc', imported: true }],
    });
    const again = join(env.dir, 'enc-again.archive');
    await env.exportDump({ source: 'enc', at: 'latest', archive: again });
    expect(readFileSync(again).equals(readFileSync(out))).toBe(true);
  });

  it('refuses an overlapping second import into the same source', async () => {
    env = await dumpEnv();
    await env.importDump({ source: 'od', dir: T('oplogdump') });
    await expect(env.importDump({ source: 'od', dir: T('oplogdump') })).rejects.toMatchObject({
      code: 'CONFLICT',
    });
    expect(
      (await dispatch(env.engine, 'snapshot.list', { source: 'od' })) as { result: unknown[] },
    ).toMatchObject({
      result: [expect.anything()],
    });
  });

  describe('bad input: a clear typed error and nothing left behind', () => {
    const B = (f: string) => join(FIXTURES, 'mongo-tools', 'bsondump', 'testdata', f);
    const cases: [string, (d: string) => { dir?: string; archive?: string }, string][] = [
      [
        'bad-format.archive (metadata that is not JSON)',
        () => ({ archive: T('bad-format.archive') }),
        'INVALID_INPUT',
      ],
      ...['bad_cstring', 'bad_type', 'invalid_field_name', 'partial_file', 'random_bytes'].map(
        (f) =>
          [
            `bsondump/testdata/${f}.bson placed as a collection`,
            (d: string) => {
              mkdirSync(join(d, 'db'), { recursive: true });
              copyFileSync(T('oplogdump/db1/c1.bson'), join(d, 'db', 'good.bson'));
              copyFileSync(B(`${f}.bson`), join(d, 'db', 'broken.bson'));
              return { dir: d };
            },
            'INVALID_BSON',
          ] as [string, (d: string) => { dir: string }, string],
      ),
      [
        'a metadata file that is not JSON',
        (d) => {
          mkdirSync(join(d, 'db'), { recursive: true });
          copyFileSync(T('oplogdump/db1/c1.bson'), join(d, 'db', 'c1.bson'));
          writeFileSync(join(d, 'db', 'c1.metadata.json'), '{"indexes": [oops');
          return { dir: d };
        },
        'INVALID_INPUT',
      ],
      [
        'a directory with no dump in it',
        (d) => {
          mkdirSync(join(d, 'photos'), { recursive: true });
          writeFileSync(join(d, 'photos', 'cat.jpg'), 'meow');
          return { dir: d };
        },
        'INVALID_INPUT',
      ],
      [
        'a truncated archive',
        (d) => {
          const whole = readFileSync(T('dump-w-oplog.archive'));
          writeFileSync(join(d, 'cut.archive'), whole.subarray(0, whole.length - 100));
          return { archive: join(d, 'cut.archive') };
        },
        'INVALID_BSON',
      ],
    ];
    for (const [label, make, code] of cases) {
      it(label, async () => {
        env = await dumpEnv();
        const d = join(env.dir, 'input');
        mkdirSync(d);
        await expect(env.importDump({ source: 'bad', ...make(d) })).rejects.toMatchObject({ code });
        expect(await dispatch(env.engine, 'source.list', {})).toEqual({ ok: true, result: [] });
        const sources = join(env.dir, 'repo', 'sources');
        expect(existsSync(sources) ? readdirSync(sources) : []).toEqual([]);
      });
    }
  });
});
if (!HAVE_FIXTURES) it.skip(SKIP_FIXTURES_MESSAGE, () => {});
