/**
 * The throwaway local mongod: the engine starts it from the configured binary
 * (loopback, a port it picks, data under the data dir), waits for `hello`,
 * restores into it, and stops it on request and when the engine closes,
 * removing its data. Bad binaries are refused with typed errors, for real:
 * a missing path, a file that is not executable, `/bin/true`, a script
 * printing junk, a mongod that exits during start-up (its log tail
 * reported), a port taken.
 *
 * No mongod exists on CI machines, so the success path runs a small script
 * written here that behaves like mongod on its command line (`--version`,
 * then `--port`, `--bind_ip`, `--dbpath`, refusing anything else) and serves
 * with the project's stand-in; with MONGOD_BINARY set, the same test runs
 * the real binary.
 */
import { chmodSync, existsSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join, resolve } from 'node:path';
import { MongoClient } from 'mongodb';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { CommandOutput } from '../../engine/api/contract.js';
import { dispatch } from '../../engine/api/dispatch.js';
import type { Engine } from '../../engine/engine.js';
import { LOCAL_MONGOD_DIR } from '../../engine/mongo/local-mongod.js';
import { newestOplogTs } from '../../engine/source/snapshot.js';
import { waitUntilCaptured } from '../support/capture-wait.js';
import { capturingEngine } from '../support/capturing-engine.js';
import { runTask } from '../support/run-task.js';
import { tempDir } from '../support/temp-dir.js';
import { MONGO_KIND, withMongo } from '../support/with-mongo.js';
import { entryArgs } from '../support/bundled-entry.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const PROJECT = resolve(import.meta.dirname, '../..');
const scripts = tempDir('mbm-fake-mongod-');
afterAll(() => scripts.remove());

/** An executable file in the scripts dir. */
function script(name: string, body: string, mode = 0o755): string {
  const path = join(scripts.path, name);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, mode);
  return path;
}

/** The stand-in as a process, bundled like the CLI (test/support/bundled-entry.ts), each argument quoted for sh. */
const standinArgs = () =>
  entryArgs('test/support/standin/main.ts')
    .map((a) => `'${a.replaceAll("'", "'\\''")}'`)
    .join(' ');

/**
 * Behaves like mongod on its command line: `--version` as mongod prints it, then the options the engine
 * passes (any other is refused as mongod refuses an unknown option), and serves on that port with the
 * stand-in as a standalone. It writes its pid to mongod.lock in the dbpath, as mongod does.
 */
const fakeMongod = () =>
  script(
    'mongod',
    `if [ "$1" = "--version" ]; then
  printf 'db version v8.0.4\\nBuild Info: {\\n    "version": "8.0.4"\\n}\\n'; exit 0
fi
port=; dbpath=; bind=
while [ $# -gt 0 ]; do
  case "$1" in
    --port) port=$2; shift 2 ;;
    --dbpath) dbpath=$2; shift 2 ;;
    --bind_ip) bind=$2; shift 2 ;;
    *) echo "Error parsing command line: unrecognised option '$1'" >&2; exit 2 ;;
  esac
done
[ -d "$dbpath" ] || { echo "Data directory $dbpath not found." >&2; exit 100; }
[ "$bind" = "127.0.0.1" ] || { echo "expected loopback only, got --bind_ip $bind" >&2; exit 2; }
echo $$ > "$dbpath/mongod.lock"
cd "${PROJECT}"
exec "${process.execPath}" ${standinArgs()} --port "$port" --topology standalone`,
  );

const binaryUnderTest = () => process.env.MONGOD_BINARY ?? fakeMongod();

async function engineWithBinary(uri: string, binary: string | null) {
  const env = await capturingEngine(uri, 'mbm-local-mongod-');
  cleanups.push(() => env.close());
  const set = await dispatch(env.engine, 'settings.set', { mongodBinary: binary });
  expect(set.ok).toBe(true);
  return env;
}

async function start(engine: Engine, input: { port?: number } = {}) {
  return dispatch(engine, 'local-mongod.start', input);
}

const errorOf = (res: Awaited<ReturnType<typeof start>>) => {
  expect(res.ok).toBe(false);
  return (res as { error: { code: string; message: string; details?: Record<string, unknown> } }).error;
};

const pidAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe(`throwaway local mongod (${process.env.MONGOD_BINARY ? 'real mongod' : 'mongod-like script over the stand-in'}, source on ${MONGO_KIND})`, () => {
  it('starts on loopback, restores a point into it, validates, stops and cleans its data dir', async () => {
    await withMongo(async ({ uri }) => {
      const { engine, row, client, dir } = await engineWithBinary(uri, binaryUnderTest());
      const db = `lm_${Date.now()}`;
      await engine.capture.start(row);
      for (let k = 0; k < 20; k++)
        await client
          .db(db)
          .collection('c')
          .insertOne({ _id: k as never, k });
      expect((await runTask(engine, 'snapshot.take', { source: 'rs' })).state).toBe('succeeded');
      await client
        .db(db)
        .collection('c')
        .deleteMany({ _id: { $lt: 5 } as never });
      await client.db(db).collection('c').createIndex({ k: 1 }, { name: 'k_1' });
      const at = (await newestOplogTs(client))!;
      await waitUntilCaptured(engine.capture.get(row.id)!, client);
      await engine.capture.stop(row.id);

      const seen: string[] = [];
      const unsubscribe = engine.events.subscribe((e) => {
        if (e.event === 'local-mongod.changed') seen.push(e.payload.state);
      });
      cleanups.push(unsubscribe);
      const status0 = await dispatch(engine, 'local-mongod.status', {});
      expect(engine.localMongod.status().state).toBe('stopped');
      expect(status0.ok).toBe(true);

      // restore --local-mongod starts it, then restores and validates into it.
      const task = await runTask(engine, 'restore.run', {
        source: 'rs',
        at: `${at.t}:${at.i}`,
        localMongod: true,
        include: [`${db}.*`],
      } as never);
      expect(task.state, JSON.stringify(task.error)).toBe('succeeded');
      expect((task.result as { validation: { passed: boolean } }).validation.passed).toBe(true);

      const status = await dispatch(engine, 'local-mongod.status', {});
      expect(status.ok).toBe(true);
      const s = (status as { result: Record<string, unknown> }).result as {
        state: string;
        uri: string;
        port: number;
        pid: number;
        dataDir: string;
        version: string;
      };
      expect(s.state).toBe('running');
      expect(s.uri).toBe(`mongodb://127.0.0.1:${s.port}/?directConnection=true`);
      expect(s.dataDir.startsWith(join(dir.path, 'data', LOCAL_MONGOD_DIR))).toBe(true);
      expect(existsSync(s.dataDir)).toBe(true);
      if (!process.env.MONGOD_BINARY) expect(s.version).toBe('8.0.4');

      // The restored data is there, through the connection string it shows.
      const local = new MongoClient(s.uri);
      try {
        const docs = await local.db(db).collection('c').find().sort({ _id: 1 }).toArray();
        expect(docs.map((d) => d._id)).toEqual([...Array(15).keys()].map((k) => k + 5));
        const ix = await local.db(db).collection('c').listIndexes().toArray();
        expect(ix.map((i) => i.name).sort()).toEqual(['_id_', 'k_1']);
      } finally {
        await local.close();
      }
      const history = await dispatch(engine, 'restore.list', {});
      const last =
        history.ok && (history.result as { target: string; options: Record<string, unknown> }[])[0];
      expect(last && last.target).toBe(`mongodb://127.0.0.1:${s.port}/?directConnection=true`);
      expect(last && last.options.localMongod).toBe(true);

      // A second start returns the running one; another port while it runs is refused.
      const again = await start(engine);
      expect(again.ok && (again.result as { pid: number }).pid).toBe(s.pid);
      expect(
        errorOf(await start(engine, { port: s.port === 65535 ? 65534 : s.port + 1 })).details,
      ).toMatchObject({
        reason: 'ALREADY_RUNNING',
      });

      // Stop on request: the process ends and its data directory goes.
      const stopped = await dispatch(engine, 'local-mongod.stop', {});
      expect(stopped.ok && (stopped.result as { state: string }).state).toBe('stopped');
      expect(pidAlive(s.pid)).toBe(false);
      expect(existsSync(s.dataDir)).toBe(false);

      // Every change was published, and the start and stop are in the audit log.
      expect(seen).toEqual(['running', 'stopped']);
      const log = await dispatch(engine, 'audit.list', { limit: 20 });
      const actions = (log as { result: { action: string; outcome: string }[] }).result
        .filter((a) => a.action.startsWith('local-mongod.'))
        .map((a) => `${a.action} ${a.outcome}`);
      expect(actions).toEqual(['local-mongod.stop done', 'local-mongod.start done']); // newest first

      // Engine close (app quit) stops a running one too.
      const second = await start(engine);
      expect(second.ok).toBe(true);
      const s2 = (second as { result: { pid: number; dataDir: string } }).result;
      expect(pidAlive(s2.pid)).toBe(true);
      await engine.close();
      expect(pidAlive(s2.pid)).toBe(false);
      expect(existsSync(s2.dataDir)).toBe(false);
      expect(readdirSync(join(dir.path, 'data', LOCAL_MONGOD_DIR))).toEqual([]);
    });
  });

  it('runs a scheduled restore test into the throwaway local mongod and stops it again', async () => {
    await withMongo(async ({ uri }) => {
      const { engine, row, client } = await engineWithBinary(uri, binaryUnderTest());
      const db = `lmt_${Date.now()}`;
      await engine.capture.start(row);
      for (let k = 0; k < 10; k++)
        await client
          .db(db)
          .collection('c')
          .insertOne({ _id: k as never, k });
      expect((await runTask(engine, 'snapshot.take', { source: 'rs' })).state).toBe('succeeded');
      await waitUntilCaptured(engine.capture.get(row.id)!, client);
      await engine.capture.stop(row.id);
      const set = await dispatch(engine, 'backup-job.set', {
        source: 'rs',
        policy: {
          restoreTest: {
            everyDays: 7,
            point: 'latest-snapshot',
            target: { kind: 'local-mongod' },
            sample: 100,
          },
        },
      });
      expect(set.ok, JSON.stringify(set)).toBe(true);

      const started: number[] = [];
      cleanups.push(
        engine.events.subscribe((e) => {
          if (e.event === 'local-mongod.changed' && e.payload.state === 'running')
            started.push(e.payload.pid!);
        }),
      );
      const task = await runTask(engine, 'restore-test.run', { source: 'rs' });
      expect(task.state, JSON.stringify(task.error)).toBe('succeeded');
      const res = await dispatch(engine, 'restore-test.last', { source: 'rs' });
      expect(res.ok).toBe(true);
      const last = (res as { result: CommandOutput<'restore-test.last'> }).result[0]!.last!;
      expect(last, JSON.stringify(last)).toMatchObject({
        state: 'succeeded',
        passed: true,
        scratchLeftOver: [],
      });
      expect(last.target).toContain('the throwaway local mongod (mongodb://127.0.0.1:');
      expect(last.rto!.restoreMs).toBeGreaterThan(0);
      // Started for the test, stopped after it: nothing left running or on disk.
      expect(started).toHaveLength(1);
      expect(engine.localMongod.status().state).toBe('stopped');
      expect(pidAlive(started[0]!)).toBe(false);
    });
  });

  it('refuses binaries that are missing, not executable or not a mongod, with typed errors', async () => {
    await withMongo(async ({ uri }) => {
      const { engine } = await engineWithBinary(uri, null);
      expect(errorOf(await start(engine)).details).toMatchObject({ reason: 'NO_MONGOD_BINARY' });
      const set = (p: string) => dispatch(engine, 'settings.set', { mongodBinary: p });

      await set(join(scripts.path, 'no-such-mongod'));
      const missing = errorOf(await start(engine));
      expect(missing.code).toBe('NOT_FOUND');
      expect(missing.details).toMatchObject({ reason: 'MONGOD_BINARY_MISSING' });

      await set(script('not-executable', 'echo "db version v8.0.4"', 0o644));
      const notExec = errorOf(await start(engine));
      expect(notExec.code).toBe('INVALID_INPUT');
      expect(notExec.details).toMatchObject({ reason: 'MONGOD_NOT_EXECUTABLE' });

      await set(scripts.path); // a directory
      expect(errorOf(await start(engine)).details).toMatchObject({ reason: 'MONGOD_NOT_EXECUTABLE' });

      await set('/bin/true');
      const silent = errorOf(await start(engine));
      expect(silent.code).toBe('INVALID_INPUT');
      expect(silent.details).toMatchObject({ reason: 'NOT_MONGOD' });
      // GNU true answers --version with its own name, which is not mongod's.
      expect(silent.message).toContain('instead of "db version v');

      await set(script('junk', 'echo "hello from a shell script"; echo "version 1.2.3"'));
      const junk = errorOf(await start(engine));
      expect(junk.details).toMatchObject({ reason: 'NOT_MONGOD' });
      expect(junk.message).toContain('hello from a shell script');

      await set(script('mongos', 'printf "mongos version v8.0.4\\nBuild Info: {}\\n"'));
      expect(errorOf(await start(engine)).message).toContain('mongos');

      // Nothing was left running or on disk by any refusal.
      expect(engine.localMongod.status().state).not.toBe('running');
      const parent = join(engine.dataDir, LOCAL_MONGOD_DIR);
      expect(existsSync(parent) ? readdirSync(parent) : []).toEqual([]);
    });
  });

  it('reports a mongod that exits during start-up with its log tail, and a port taken', async () => {
    await withMongo(async ({ uri }) => {
      const { engine } = await engineWithBinary(
        uri,
        script(
          'dies',
          `[ "$1" = "--version" ] && { echo "db version v8.0.4"; exit 0; }
echo '{"t":{"$date":"2026-12-01T10:00:00.000+00:00"},"s":"I","c":"CONTROL","msg":"MongoDB starting"}'
echo '{"s":"E","c":"STORAGE","msg":"WiredTiger error","attr":{"error":13,"message":"Permission denied"}}'
echo '{"s":"F","c":"CONTROL","msg":"Fatal assertion"}' >&2
exit 14`,
        ),
      );
      const died = errorOf(await start(engine));
      expect(died.code).toBe('UNAVAILABLE');
      expect(died.details).toMatchObject({ reason: 'MONGOD_EXITED', exitCode: 14 });
      const tail = (died.details as { logTail: string[] }).logTail;
      expect(tail.some((l) => l.includes('WiredTiger error'))).toBe(true);
      expect(tail.some((l) => l.includes('Fatal assertion'))).toBe(true);
      expect(died.message).toContain('Permission denied');
      expect(engine.localMongod.status()).toMatchObject({ state: 'failed', uri: null });
      expect(readdirSync(join(engine.dataDir, LOCAL_MONGOD_DIR))).toEqual([]);

      // A port the user asks for that something else holds.
      const holder: Server = createServer();
      await new Promise<void>((r) => holder.listen(0, '127.0.0.1', () => r()));
      cleanups.push(() => new Promise<void>((r) => holder.close(() => r())));
      const taken = (holder.address() as { port: number }).port;
      await dispatch(engine, 'settings.set', { mongodBinary: fakeMongod() });
      const busy = errorOf(await start(engine, { port: taken }));
      expect(busy.code).toBe('CONFLICT');
      expect(busy.details).toMatchObject({ reason: 'PORT_IN_USE', port: taken });

      // mongod's own refusal to listen (exit 48, "Address already in use") reads the same.
      await dispatch(engine, 'settings.set', {
        mongodBinary: script(
          'no-listen',
          `[ "$1" = "--version" ] && { echo "db version v8.0.4"; exit 0; }
echo '{"s":"E","c":"NETWORK","msg":"Failed to set up listener","attr":{"error":{"code":9001,"codeName":"SocketException","errmsg":"Address already in use"}}}'
exit 48`,
        ),
      });
      expect(errorOf(await start(engine)).details).toMatchObject({ reason: 'PORT_IN_USE' });
    });
  });

  it('refuses a restore naming both or neither of a target URI and the local mongod', async () => {
    await withMongo(async ({ uri }) => {
      const { engine } = await engineWithBinary(uri, null);
      const both = await dispatch(engine, 'restore.run', {
        source: 'rs',
        at: 'latest',
        targetUri: uri,
        localMongod: true,
      } as never);
      expect(both.ok || both.error.code).toBe('INVALID_INPUT');
      const neither = await dispatch(engine, 'restore.run', { source: 'rs', at: 'latest' } as never);
      expect(neither.ok || neither.error.code).toBe('INVALID_INPUT');
      const validate = await dispatch(engine, 'restore.validate', {
        source: 'rs',
        at: 'latest',
        localMongod: true,
      } as never);
      expect(validate.ok || validate.error.code).toMatch(/CONFLICT|NOT_FOUND/);
    });
  });
});
