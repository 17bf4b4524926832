/**
 * One writing engine per data dir and per repository (engine/store/writer-lock.ts): read-only
 * commands run beside it without touching its temporaries, a second writer gets CONFLICT naming
 * the holder, and the lock of a killed engine is taken over.
 */
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { afterEach, describe, expect, it } from 'vitest';
import { dispatch } from '../../engine/api/dispatch.js';
import { Engine } from '../../engine/engine.js';
import { isTempName } from '../../engine/repo/durable-file.js';
import { Repository } from '../../engine/repo/repository.js';
import { tempDir } from '../support/temp-dir.js';
import { FAULTS_SKIP_MESSAGE, MONGO_KIND, withMongo } from '../support/with-mongo.js';
import { cliAsync } from '../support/cli-process.js';
import { entryArgs } from '../support/bundled-entry.js';

const root = join(import.meta.dirname, '..', '..');
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Runs the CLI as a real process without blocking this one's event loop (the engine under test lives here). */
const cli = cliAsync;

function tempsUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (isTempName(e.name)) out.push(join(d, e.name));
      else if (e.isDirectory()) walk(join(d, e.name));
    }
  };
  walk(dir);
  return out;
}

async function writer() {
  const dir = tempDir('mbm-lock-');
  cleanups.push(() => dir.remove());
  const dataDir = join(dir.path, 'data');
  const engine = Engine.open({ dataDir, mode: 'headless', sourceTimeoutMs: 3000 });
  cleanups.push(() => engine.close());
  const repoPath = join(dir.path, 'repo');
  await engine.stores.attach(await Repository.init(repoPath));
  return { dir, dataDir, engine, repoPath };
}

describe(`one writing engine per data dir and repository (${MONGO_KIND})`, () => {
  it('read-only CLI commands during a snapshot leave its temporaries alone, and the snapshot succeeds', async (ctx) => {
    await withMongo(async ({ uri, standin }) => {
      if (!standin) {
        console.log(FAULTS_SKIP_MESSAGE);
        return ctx.skip();
      }
      const { dataDir, engine, repoPath } = await writer();
      const client = new MongoClient(uri);
      cleanups.push(() => client.close());
      const coll = client.db(`lock_${Date.now()}`).collection('big');
      for (let k = 0; k < 10; k++)
        await coll.insertMany(Array.from({ length: 2000 }, (_, j) => ({ k, j, pad: 'x'.repeat(200) })));
      const added = await dispatch(engine, 'source.add', { name: 'rs', uri });
      expect(added.ok).toBe(true);
      await engine.capture.stopAll(); // the snapshot copies its own oplog range; capture is not the point here

      const started = await dispatch(engine, 'snapshot.take', { source: 'rs' });
      if (!started.ok) throw new Error(started.error.message);
      // As soon as the snapshot's first data file exists as a temporary, hold the source still.
      const end = Date.now() + 20_000;
      while (tempsUnder(repoPath).length === 0) {
        if (Date.now() > end) throw new Error('the snapshot never wrote a temporary');
        await new Promise((r) => setImmediate(r));
      }
      standin.faults.stall(120_000); // released below once the readers are done (CLI start-up is slow under load)
      await new Promise((r) => setTimeout(r, 300)); // what was in flight settles; the rest waits on the source
      const temps = tempsUnder(repoPath);
      expect(temps.length).toBeGreaterThan(0);

      // Several readers at once, as scripts and a second terminal would.
      const [info, ...others] = await Promise.all([
        cli(dataDir, ['repo', 'info', '--json']),
        cli(dataDir, ['repo', 'list']),
        cli(dataDir, ['source', 'status', '--source', 'rs']),
        cli(dataDir, ['snapshot', 'list', '--source', 'rs']),
      ]);
      expect(info!.stderr).toBe('');
      expect(info!.code).toBe(0);
      expect(JSON.parse(info!.stdout)).toMatchObject({ path: repoPath });
      for (const o of others) expect(o.code, o.stderr).toBe(0);
      // The writer's files in flight are still there.
      for (const t of temps) expect(tempsUnder(repoPath)).toContain(t);

      standin.faults.stall(0);
      const task = await engine.tasks.wait((started.result as { taskId: string }).taskId);
      expect(task.error ?? null).toBeNull();
      expect(task.state).toBe('succeeded');
    });
  });

  it('gives a second writer CONFLICT naming the holder (pid, host, since): serve, a writing CLI command, another data dir', async () => {
    const { dir, dataDir, engine, repoPath } = await writer();
    const holder = `pid ${process.pid} on ${hostname()} (headless), since ${engine.writerLock!.holder.since}`;

    const serve = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(
        process.execPath,
        // Bundled like the CLI: it must stop at the lock, before it looks for the built renderer.
        [...entryArgs('engine/serve.ts'), '--data-dir', dataDir, '--port', '0'],
        { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.stdout.on('data', () => child.kill('SIGKILL')); // it must not get as far as listening
      child.on('exit', (code) => resolve({ code, stderr }));
    });
    expect(serve.code).toBe(1);
    expect(serve.stderr).toContain('error [CONFLICT]');
    expect(serve.stderr).toContain(holder);

    const set = await cli(dataDir, ['settings', 'set', '--theme', 'dark']);
    expect(set.code).toBe(4);
    expect(set.stderr).toContain(holder);
    expect((await cli(dataDir, ['settings', 'get'])).code).toBe(0); // reading still works

    // The repository is held too: another data dir cannot write into it while this engine runs.
    const other = Engine.open({ dataDir: join(dir.path, 'other'), mode: 'headless' });
    cleanups.push(() => other.close());
    const attached = await dispatch(other, 'repo.attach', { path: repoPath });
    expect(attached).toMatchObject({ ok: false, error: { code: 'CONFLICT' } });
    expect(!attached.ok && attached.error.message).toContain(`The repository ${repoPath} is in use`);
    expect(!attached.ok && attached.error.message).toContain(
      `pid ${process.pid} on ${hostname()} (headless)`,
    );

    // In the same process too, and read-only engines refuse writing commands.
    expect(() => Engine.open({ dataDir, mode: 'headless' })).toThrow(/in use by another engine/);
    const ro = Engine.open({ dataDir, mode: 'cli', readOnly: true });
    cleanups.push(() => ro.close());
    expect(await dispatch(ro, 'settings.set', { theme: 'dark' })).toMatchObject({
      ok: false,
      error: { code: 'CONFLICT' },
    });
    expect(await dispatch(ro, 'repo.list', {})).toMatchObject({ ok: true });

    await engine.close(); // released: the next writer gets it
    expect(await dispatch(other, 'repo.attach', { path: repoPath })).toMatchObject({ ok: true });
  });

  it('takes over the locks of an engine that was killed, and says whose they were', async () => {
    const dir = tempDir('mbm-stale-');
    cleanups.push(() => dir.remove());
    const dataDir = join(dir.path, 'data');
    const first = Engine.open({ dataDir, mode: 'cli' });
    await first.stores.attach(await Repository.init(join(dir.path, 'repo')));
    await first.close();

    const child = spawn(process.execPath, [...entryArgs('test/support/lock-holder.ts'), dataDir], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
      child.on('exit', (code) => reject(new Error(`lock holder exited with ${code}`)));
    });
    expect(() => Engine.open({ dataDir, mode: 'headless' })).toThrow(new RegExp(`pid ${child.pid} on`));
    child.removeAllListeners('exit');
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL'); // no clean-up: its holder files stay behind
    await gone;

    const next = Engine.open({ dataDir, mode: 'headless' });
    cleanups.push(() => next.close());
    expect(next.writerLock?.tookOverFrom).toMatchObject({ pid: child.pid, host: hostname() });
    expect(next.writerLock?.holder.pid).toBe(process.pid);
    expect(await dispatch(next, 'repo.info', {})).toMatchObject({ ok: true }); // the repository's lock too
  });
});
