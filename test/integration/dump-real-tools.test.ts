/**
 * The mongodump world's own tools judge our exports and imports: a real
 * `mongorestore --oplogReplay` (mongo-tools 100.8.0) restores every export
 * (directory and archive, gzip and not) into a fresh stand-in, leaving what
 * our own replay of the same point leaves; `bsondump` parses every BSON file
 * we write; the fixtures, imported and exported again, restore to what
 * mongorestore's own tests assert; a real `mongodump --oplog` of a source
 * under a running workload imports and equals the source at its last entry.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dispatch } from '../../engine/api/dispatch.js';
import { Engine } from '../../engine/engine.js';
import { getSourceByName } from '../../engine/catalog/sources.js';
import { Repository } from '../../engine/repo/repository.js';
import { formatOpTime, type OpTime } from '../../engine/repo/optime.js';
import { parseArchiveBySpec } from '../support/archive-spec-reader.js';
import { waitUntilCaptured } from '../support/capture-wait.js';
import { TOOLS, dumpEnv, fileTree, type DumpEnv } from '../support/dump-helpers.js';
import { HAVE_FIXTURES, fixture } from '../support/fixtures.js';
import { startStandin, type Standin } from '../support/standin/server.js';
import { tempDir } from '../support/temp-dir.js';
import { Workload, canonicalState, rawDifferences, rawState } from '../support/workload.js';

const run = promisify(execFile);
const HAVE_TOOLS = existsSync(join(TOOLS, 'mongorestore'));
const SKIP = 'skipped: ../shared/tools/mongo-tools-100.8.0 (real mongodump/mongorestore/bsondump) is absent';
if (!HAVE_TOOLS) console.log(SKIP);

/** Runs mongorestore into a fresh stand-in; returns the stand-in (stopped by the caller) and a client. */
async function restoreInto(args: string[]): Promise<{ s: Standin; client: MongoClient; log: string }> {
  const s = await startStandin();
  const { stderr } = await run(join(TOOLS, 'mongorestore'), ['--uri', s.uri, ...args], {
    maxBuffer: 1 << 26,
  });
  const client = await MongoClient.connect(s.uri, { directConnection: true });
  return { s, client, log: stderr };
}

/** A target's documents as raw BSON (exact types and field order) and its options and indexes. */
async function stateOf(client: MongoClient, db: string) {
  const w = new Workload(client, db);
  const { docs, indexes } = await w.recordRawInstant();
  const { meta } = await w.recordInstant();
  return { raw: { docs, indexes }, meta };
}

async function bsondumpParses(path: string): Promise<void> {
  const { stderr } = await run(join(TOOLS, 'bsondump'), ['--type=debug', path], { maxBuffer: 1 << 26 });
  // bsondump exits 0 even when it reports a damaged document: its log says so.
  expect(stderr, path).not.toMatch(/error|Failed/i);
  expect(stderr, path).toMatch(/objects found/);
}

describe.skipIf(!HAVE_TOOLS)('real mongo-tools against our exports (captured repository)', () => {
  let dir: ReturnType<typeof tempDir>;
  let source: Standin;
  let engine: Engine;
  let env: DumpEnv;
  let point: OpTime;
  const DB = 'wl_dump';

  beforeAll(async () => {
    dir = tempDir('mbm-realtools-');
    source = await startStandin();
    engine = Engine.open({
      dataDir: join(dir.path, 'data'),
      mode: 'headless',
      sourceTimeoutMs: 3000,
      capture: { segmentMaxMs: 200, awaitMs: 100, backoffMinMs: 50, backoffMaxMs: 400 },
    });
    await engine.stores.attach(await Repository.init(join(dir.path, 'repo')));
    const added = await dispatch(engine, 'source.add', { name: 'rs', uri: source.uri });
    if (!added.ok) throw new Error(added.error.message);
    const row = getSourceByName(engine.catalog, 'rs');
    const client = await MongoClient.connect(source.uri, { directConnection: true });
    const w = new Workload(client, DB, 11);
    await engine.capture.start(row);
    for (let k = 0; k < 60; k++) await w.step();
    env = await dumpEnv({ engine });
    const snap = await dispatch(engine, 'snapshot.take', { source: 'rs' });
    if (!snap.ok) throw new Error(snap.error.message);
    await engine.tasks.wait((snap.result as { taskId: string }).taskId);
    for (let k = 0; k < 200; k++) await w.step();
    await waitUntilCaptured(engine.capture.get(row.id)!, client);
    point = (await w.recordInstant()).ts;
    await engine.capture.stop(row.id);
    await client.close();
  }, 120_000);

  afterAll(async () => {
    await env?.close();
    await engine?.close();
    await source?.stop();
    dir?.remove();
  });

  const FORMS = [
    { name: 'directory', gzip: false },
    { name: 'directory', gzip: true },
    { name: 'archive', gzip: false },
    { name: 'archive', gzip: true },
  ] as const;

  for (const form of FORMS) {
    const label = `${form.name}${form.gzip ? ' --gzip' : ''}`;
    it(`${label}: mongorestore --oplogReplay leaves what our replay of the point leaves; round trip is byte for byte`, async () => {
      const at = formatOpTime(point);
      const target = join(env.dir, `x-${form.name}-${form.gzip}${form.name === 'archive' ? '.archive' : ''}`);
      const where = form.name === 'archive' ? { archive: target } : { out: target };
      const res = await env.exportDump({ source: 'rs', at, gzip: form.gzip, ...where });
      expect(res).toMatchObject({ pointTs: point });
      expect(res.oplogEntries).toBeGreaterThan(0);

      if (form.name === 'directory') {
        for (const p of fileTree(target).keys())
          if (!form.gzip && p.endsWith('.bson')) await bsondumpParses(join(target, p));
      } else {
        const a = parseArchiveBySpec(readFileSync(target));
        expect(a.data.get(`${DB}.orders`)!.length).toBeGreaterThan(0);
        expect(a.data.get('.oplog')!.length).toBe(res.oplogEntries);
      }

      const args =
        form.name === 'archive'
          ? [`--archive=${target}`, ...(form.gzip ? ['--gzip'] : []), '--oplogReplay']
          : ['--dir', target, ...(form.gzip ? ['--gzip'] : []), '--oplogReplay'];
      const { s, client } = await restoreInto(args);
      try {
        const restored = await stateOf(client, DB);
        const offline = await env.offline('rs', at);
        expect(rawDifferences(restored.raw, rawState(offline, DB))).toEqual([]); // byte for byte
        expect(restored.meta).toEqual(canonicalState(offline, DB).meta); // index for index, options too
      } finally {
        await client.close();
        await s.stop();
      }

      // repository -> export -> import -> export: identical bytes.
      const src = `rt-${form.name}-${form.gzip}`;
      await env.importDump({
        source: src,
        ...(form.name === 'archive' ? { archive: target } : { dir: target }),
      });
      const again = `${target}-again`;
      await env.exportDump({
        source: src,
        at: 'latest',
        gzip: form.gzip,
        ...(form.name === 'archive' ? { archive: again } : { out: again }),
      });
      if (form.name === 'archive') expect(readFileSync(again).equals(readFileSync(target))).toBe(true);
      else {
        const [a, b] = [fileTree(target), fileTree(again)];
        expect([...b.keys()]).toEqual([...a.keys()]);
        for (const [p, bytes] of a) expect(b.get(p)!.equals(bytes), p).toBe(true);
      }
    }, 60_000);
  }

  it('a renamed, filtered export keeps files and oplog consistent (mongorestore restores the renamed database)', async () => {
    const at = formatOpTime(point);
    const out = join(env.dir, 'renamed');
    await env.exportDump({
      source: 'rs',
      at,
      out,
      rename: [`${DB}.$c$=${DB}_r.$c$`],
      exclude: [`${DB}.ledger`],
    });
    const { s, client } = await restoreInto(['--dir', out, '--oplogReplay']);
    try {
      const restored = await stateOf(client, `${DB}_r`);
      const offline = await env.offline('rs', at);
      const renamed = <T>(o: Record<string, T>) =>
        Object.fromEntries(
          Object.entries(o)
            .filter(([k]) => k !== `${DB}.ledger`)
            .map(([k, v]) => [k.replace(`${DB}.`, `${DB}_r.`), v]),
        );
      const ours = rawState(offline, DB);
      expect(
        rawDifferences(restored.raw, { docs: renamed(ours.docs), indexes: renamed(ours.indexes) }),
      ).toEqual([]);
      expect(Object.keys(restored.meta).sort()).toEqual(
        Object.keys(renamed(canonicalState(offline, DB).meta)).sort(),
      );
      expect(await client.db(DB).listCollections().toArray()).toEqual([]);
    } finally {
      await client.close();
      await s.stop();
    }
  }, 60_000);

  it('cancel leaves no export and no temporary behind', async () => {
    const out = join(env.dir, 'cancelled');
    const started = await dispatch(engine, 'export.dump', { source: 'rs', at: 'latest', out });
    if (!started.ok) throw new Error(started.error.message);
    const { taskId } = started.result as { taskId: string };
    engine.tasks.cancel(taskId);
    const t = await engine.tasks.wait(taskId);
    expect(t.state).toBe('cancelled');
    expect([...fileTree(env.dir).keys()].filter((p) => p.startsWith('cancelled'))).toEqual([]);
  });

  for (const flags of [['--out'], ['--archive', '--gzip']]) {
    it(`a real mongodump --oplog ${flags.join(' ')} of the source under a running workload imports and equals the source at its last entry`, async () => {
      const row = getSourceByName(engine.catalog, 'rs');
      const client = await MongoClient.connect(source.uri, { directConnection: true });
      const wdb = `wl_md${flags.length}`;
      // No renames while it runs: mongodump --oplog itself fails when one happens during the dump
      // ("cannot dump with oplog while renames occur"), so a DBA's dump under renames cannot exist.
      const w = new Workload(client, wdb, { seed: 23, renames: false });
      await engine.capture.start(row);
      const target = join(env.dir, `mongodump-${flags.length}${flags[0] === '--archive' ? '.archive' : ''}`);
      const args = [
        '--uri',
        source.uri,
        '--oplog',
        flags[0] === '--out' ? `--out=${target}` : `--archive=${target}`,
      ];
      if (flags.includes('--gzip')) args.push('--gzip');
      let writing = true;
      const load = (async () => {
        while (writing) await w.step();
      })();
      try {
        await run(join(TOOLS, 'mongodump'), args, { maxBuffer: 1 << 26 });
      } finally {
        writing = false;
        await load;
      }
      await waitUntilCaptured(engine.capture.get(row.id)!, client);
      await engine.capture.stop(row.id);
      await client.close();
      const name = `md-${flags.length}`;
      const r = (await env.importDump({
        source: name,
        ...(flags[0] === '--out' ? { dir: target } : { archive: target }),
      })) as { consistentTs: OpTime; oplogEntries: number };
      expect(r.oplogEntries).toBeGreaterThan(0);
      const imported = await env.offline(name);
      const captured = await env.offline('rs', formatOpTime(r.consistentTs));
      expect(Object.keys(rawState(captured, wdb).docs).length).toBeGreaterThan(0);
      expect(rawDifferences(rawState(imported, wdb), rawState(captured, wdb))).toEqual([]);
      expect(canonicalState(imported, wdb).meta).toEqual(canonicalState(captured, wdb).meta);
    }, 90_000);
  }
});

describe.skipIf(!HAVE_TOOLS || !HAVE_FIXTURES)('fixtures: import, export, then a real mongorestore', () => {
  let env: DumpEnv;
  beforeAll(async () => {
    env = await dumpEnv();
  });
  afterAll(async () => env?.close());
  const T = (p: string) => fixture('mongorestore/testdata', p);

  /** Imports a fixture, exports it the same way, restores it; calls `check` with the target. */
  async function roundTrip(
    name: string,
    restoreArgs: string[],
    check: (c: MongoClient) => Promise<void>,
  ): Promise<void> {
    const isArchive = name.endsWith('.archive');
    const source = name.replace(/[^a-z0-9]/gi, '_');
    await env.importDump({ source, ...(isArchive ? { archive: T(name) } : { dir: T(name) }) });
    const out = join(env.dir, `${source}${isArchive ? '.archive' : ''}`);
    await env.exportDump({ source, at: 'latest', ...(isArchive ? { archive: out } : { out }) });
    if (!isArchive)
      for (const p of fileTree(out).keys()) if (p.endsWith('.bson')) await bsondumpParses(join(out, p));
    const { s, client } = await restoreInto([
      isArchive ? `--archive=${out}` : `--dir=${out}`,
      ...restoreArgs,
    ]);
    try {
      await check(client);
    } finally {
      await client.close();
      await s.stop();
    }
  }
  const count = (c: MongoClient, db: string, coll: string, q = {}) =>
    c.db(db).collection(coll).countDocuments(q);

  it('oplogdump/: 10 documents in db1.c1 with --oplogReplay, 5 without (oplog_test.go, mongorestore_test.go)', async () => {
    await roundTrip('oplogdump', ['--oplogReplay'], async (c) =>
      expect(await count(c, 'db1', 'c1')).toBe(10),
    );
    const out = join(env.dir, 'oplogdump');
    const { s, client } = await restoreInto([`--dir=${out}`]);
    expect(await count(client, 'db1', 'c1')).toBe(5);
    await client.close();
    await s.stop();
  }, 60_000);

  it('dump_with_noop_in_oplog/: the insert after the no-ops is applied (oplog_edges_test.go)', async () => {
    await roundTrip('dump_with_noop_in_oplog', ['--oplogReplay'], async (c) => {
      expect(await count(c, 'test', 'data')).toBe(1);
      expect(await count(c, 'test', 'data', { a: 1 })).toBe(1);
    });
  }, 60_000);

  it('oplog_partial_skips/: nothing of config.system.sessions or config.cache.* is applied', async () => {
    await roundTrip('oplog_partial_skips', ['--oplogReplay'], async (c) => {
      const config = (await c.db('config').listCollections().toArray()).map((x) => x.name);
      expect(config.filter((n) => n.startsWith('cache.') || n === 'system.sessions')).toEqual([]);
    });
  }, 60_000);

  it('dump-w-oplog.archive and test.bar.archive restore without failures (mongorestore_archive_test.go)', async () => {
    await roundTrip('dump-w-oplog.archive', ['--oplogReplay'], async (c) =>
      expect(await count(c, 'test', 'foo')).toBeGreaterThan(0),
    );
    await roundTrip('test.bar.archive', [], async (c) => expect(await count(c, 'test', 'bar')).toBe(1));
  }, 60_000);

  it('longcollectionname/, specialcharacter/, indextestdump/, duplicate_index_key_with_oplog/', async () => {
    const long =
      'aVery'.padEnd(0) +
      'Very'.repeat(43) +
      'LongCollectionNameConsistingOfExactlyTwoHundredAndFortySevenCharacters';
    await roundTrip('longcollectionname', [], async (c) => {
      const names = (await c.db('db1').listCollections().toArray()).map((x) => x.name);
      expect(names.find((n) => n.length === 247)).toBe(long);
      expect(await count(c, 'db1', long)).toBe(1);
    });
    await roundTrip('specialcharacter', [], async (c) => expect(await count(c, 'db1', 'cafés')).toBe(1));
    await roundTrip('indextestdump', ['--convertLegacyIndexes'], async (c) =>
      expect(await count(c, 'indextest', 'test_collection')).toBe(100),
    );
    await roundTrip('duplicate_index_key_with_oplog', ['--oplogReplay'], async (c) =>
      expect(await count(c, 'test', 'foo')).toBe(1),
    );
  }, 90_000);
});
if (!HAVE_TOOLS) it.skip(SKIP, () => {});
