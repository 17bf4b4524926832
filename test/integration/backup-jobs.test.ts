import { renameSync } from 'node:fs';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { afterEach, describe, expect, it } from 'vitest';
import { dispatch } from '../../engine/api/dispatch.js';
import { Engine } from '../../engine/engine.js';
import { getSourceByName } from '../../engine/catalog/sources.js';
import { segmentPathsOfSource } from '../../engine/catalog/segments.js';
import { Repository } from '../../engine/repo/repository.js';
import { Scheduler } from '../../engine/schedule/scheduler.js';
import { waitUntilCaptured } from '../support/capture-wait.js';
import { startStandin } from '../support/standin/server.js';
import { tempDir } from '../support/temp-dir.js';
import { MONGO_KIND, withMongo } from '../support/with-mongo.js';
import { cliSync } from '../support/cli-process.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(uri: string, mode: 'cli' | 'headless' = 'cli') {
  const dir = tempDir('mbm-jobs-');
  const engine = Engine.open({
    dataDir: join(dir.path, 'data'),
    mode,
    sourceTimeoutMs: 2000,
    capture: { awaitMs: 100, backoffMinMs: 50, backoffMaxMs: 400 },
  });
  await engine.stores.attach(await Repository.init(join(dir.path, 'repo')));
  const added = await dispatch(engine, 'source.add', { name: 'rs', uri });
  if (!added.ok) throw new Error(added.error.message);
  cleanups.push(async () => {
    await engine.close();
    dir.remove();
  });
  return { engine, dir };
}

describe(`backup jobs (${MONGO_KIND})`, () => {
  it('start Active with the default policy, change by preset or policy, refuse invalid policies', async () => {
    await withMongo(async ({ uri }) => {
      const { engine } = await setup(uri);
      const job = await dispatch(engine, 'backup-job.get', { source: 'rs' });
      expect(job).toMatchObject({
        ok: true,
        result: {
          state: 'active',
          policy: {
            hourly: { everyHours: 1, keepDays: 2 },
            daily: { at: '03:00', keepDays: 7 },
            weekly: { day: 'saturday', keepWeeks: 4 },
            monthly: { day: 1, keepMonths: 12 },
            pitrWindowHours: 72,
          },
          nextRuns: { hourly: expect.any(String), daily: expect.stringMatching(/T03:00:00/) },
        },
      });
      expect(await dispatch(engine, 'backup-job.set', { source: 'rs', preset: 'pci-dss' })).toMatchObject({
        ok: true,
        result: { policy: { preset: 'pci-dss', daily: { keepDays: 90 } } },
      });
      // A change that breaks the preset's minimum is refused.
      expect(
        await dispatch(engine, 'backup-job.set', {
          source: 'rs',
          policy: { daily: { at: '03:00', keepDays: 30 } },
        }),
      ).toMatchObject({
        ok: false,
        error: { code: 'INVALID_INPUT', message: expect.stringMatching(/90 days/) },
      });
      expect(
        await dispatch(engine, 'backup-job.set', { source: 'rs', policy: { pitrWindowHours: 24 * 31 } }),
      ).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT' } });
      expect(
        await dispatch(engine, 'backup-job.set', {
          source: 'rs',
          policy: { daily: { at: '25:00', keepDays: 100 } },
        }),
      ).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT' } });
      expect(await dispatch(engine, 'backup-job.stop', { source: 'rs' })).toMatchObject({
        ok: true,
        result: { state: 'stopped' },
      });
      expect(await dispatch(engine, 'backup-job.start', { source: 'rs' })).toMatchObject({
        ok: true,
        result: { state: 'active' },
      });
    });
  });

  it('scheduler takes tiered snapshots when due (missed runs once, audited) and applies retention on the real repository', async () => {
    await withMongo(async ({ uri }) => {
      const { engine, dir } = await setup(uri);
      expect(await dispatch(engine, 'copy.add', { path: join(dir.path, 'mirror') })).toMatchObject({
        ok: true,
      });
      let now = new Date('2026-03-04T12:10:00Z');
      const scheduler = new Scheduler(engine, () => now);
      engine.catalog.prepare('DELETE FROM source_oplog_window').run(); // as measured by source add
      const [first] = await scheduler.tick();
      await engine.tasks.wait(first!);
      // The hourly pass measured the source's oplog window for the dashboard.
      for (let k = 0; k < 100 && !engine.catalog.prepare('SELECT 1 FROM source_oplog_window').get(); k++)
        await new Promise((r) => setTimeout(r, 20));
      expect(engine.catalog.prepare('SELECT count(*) FROM source_oplog_window').pluck().get()).toBe(1);
      // The hourly pass also started the secondary copy.
      const copy = engine.tasks.list().find((j) => j.kind === 'copy.run');
      expect(copy).toBeDefined();
      expect(await engine.tasks.wait(copy!.taskId)).toMatchObject({ state: 'succeeded' });
      const snaps = await dispatch(engine, 'snapshot.list', { source: 'rs' });
      expect(snaps).toMatchObject({ ok: true, result: [{ status: 'complete' }] });
      const tiers = engine.catalog.prepare('SELECT tiers_json FROM snapshots').pluck().all();
      expect(tiers).toEqual(['["hourly","daily","weekly","monthly"]']);
      const auditLog = await dispatch(engine, 'audit.list', {});
      expect(
        (auditLog as { result: { action: string }[] }).result.filter(
          (a) => a.action === 'schedule.missed-run',
        ),
      ).toHaveLength(4);
      // Nothing is due again within the hour.
      now = new Date('2026-03-04T12:40:00Z');
      expect(await scheduler.tick()).toEqual([]);
      // On-demand snapshot, then far in the future: it expires (7 days), the tiered one is kept 12 months.
      const od = await dispatch(engine, 'snapshot.take', { source: 'rs' });
      await engine.tasks.wait((od as { result: { taskId: string } }).result.taskId);
      // Retention compares snapshot completion times with the fake clock.
      engine.catalog
        .prepare(`UPDATE snapshots SET completed_at = '2026-03-04T12:45:00.000Z' WHERE tiers_json = '[]'`)
        .run();
      now = new Date('2026-03-20T00:00:00Z');
      // Every segment indexed for document history, as a build or a history would have left them.
      const rs = getSourceByName(engine.catalog, 'rs');
      const before = segmentPathsOfSource(engine.catalog, rs.id);
      for (const p of before) engine.views.recordSegment(rs.repository_id, p, [1], false, `sha-${p}`);
      // A segment from long before every kept snapshot: retention deletes it.
      engine.catalog
        .prepare('UPDATE oplog_segments SET first_t = 1, last_t = 2 WHERE path = ?')
        .run(before[0]);
      const removed = await scheduler.applyRetention(rs);
      expect(removed.snapshots).toHaveLength(1);
      expect(removed.segments).toEqual([before[0]]);
      // The segments retention deleted leave the history index; the others stay in it.
      for (const p of before)
        expect(engine.views.segmentIndexed(rs.repository_id, p, `sha-${p}`) === null).toBe(
          removed.segments.includes(p),
        );
      expect(engine.catalog.prepare('SELECT count(*) FROM snapshots').pluck().get()).toBe(1);
      const log = (await dispatch(engine, 'audit.list', {})) as {
        result: { action: string; actor: string }[];
      };
      expect(log.result.some((a) => a.action === 'snapshot.delete' && a.actor === 'retention')).toBe(true);
    });
  });

  it('terminates a job, deleting its backups only with confirmation and never inside a lock', async () => {
    await withMongo(async ({ uri }) => {
      const { engine } = await setup(uri);
      for (let k = 0; k < 2; k++) {
        const s = await dispatch(engine, 'snapshot.take', { source: 'rs' });
        await engine.tasks.wait((s as { result: { taskId: string } }).result.taskId);
      }
      const [keep] = engine.catalog.prepare('SELECT id FROM snapshots ORDER BY id').pluck().all() as string[];
      await dispatch(engine, 'retention.lock', { snapshot: keep, until: '2099-01-01T00:00:00Z' });
      expect(await dispatch(engine, 'backup-job.terminate', { source: 'rs' })).toMatchObject({
        ok: false,
        error: { code: 'INVALID_INPUT' },
      });
      const res = await dispatch(engine, 'backup-job.terminate', {
        source: 'rs',
        confirm: true,
        deleteBackups: true,
      });
      expect(res).toMatchObject({
        ok: true,
        result: { job: { state: 'inactive' }, deletedSnapshots: 1, keptLocked: expect.any(Number) },
      });
      expect(engine.catalog.prepare('SELECT id FROM snapshots').pluck().all()).toEqual([keep]);
      expect(await dispatch(engine, 'backup-job.start', { source: 'rs' })).toMatchObject({
        ok: false,
        error: { code: 'CONFLICT' },
      });
    });
  });

  it('protects a source as soon as it is added (headless), and restarts capture when its policy or connection changes', async () => {
    await withMongo(async ({ uri }) => {
      const { engine } = await setup(uri, 'headless');
      const id = getSourceByName(engine.catalog, 'rs').id;
      const first = engine.capture.get(id);
      expect(first, 'capture runs right after source.add').toBeDefined();
      expect(first!.opts.segmentMaxMs).toBe(10_000); // the default policy's 10 s cut

      expect(
        await dispatch(engine, 'backup-job.set', { source: 'rs', policy: { segmentSeconds: 0.5 } }),
      ).toMatchObject({
        ok: true,
      });
      const second = engine.capture.get(id);
      expect(second).not.toBe(first);
      expect(second!.opts.segmentMaxMs).toBe(500);

      expect(
        await dispatch(engine, 'source.edit', { name: 'rs', readPreference: 'primaryPreferred' }),
      ).toMatchObject({
        ok: true,
      });
      expect(engine.capture.get(id)).not.toBe(second);
      expect(engine.capture.get(id)!.opts.segmentMaxMs).toBe(500);

      // Stopping writes what was read; a source with backups is not removed and keeps being captured.
      const client = new MongoClient(uri);
      cleanups.push(() => client.close());
      await client.db('protect_test').collection('c').insertOne({ at: Date.now() });
      await waitUntilCaptured(engine.capture.get(id)!, client);
      await dispatch(engine, 'backup-job.stop', { source: 'rs' });
      expect(engine.capture.get(id)).toBeUndefined();
      expect(engine.catalog.prepare('SELECT count(*) FROM oplog_segments').pluck().get()).toBeGreaterThan(0);
      await dispatch(engine, 'backup-job.start', { source: 'rs' });
      expect(await dispatch(engine, 'source.remove', { name: 'rs', confirm: true })).toMatchObject({
        ok: false,
        error: { code: 'CONFLICT' },
      });
      expect(engine.capture.get(id)).toBeDefined();
    });
  });

  it('becomes Misconfigured when the repository path goes away, and Active again when it is back', async () => {
    await withMongo(async ({ uri }) => {
      const { engine, dir } = await setup(uri, 'headless');
      const row = getSourceByName(engine.catalog, 'rs');
      const scheduler = new Scheduler(engine, () => new Date());
      const repo = join(dir.path, 'repo');
      renameSync(repo, `${repo}-unplugged`); // a removable disk unplugged
      await scheduler.tick();
      expect(await dispatch(engine, 'backup-job.get', { source: 'rs' })).toMatchObject({
        ok: true,
        result: {
          state: 'misconfigured',
          reason: expect.stringMatching(/repository path .* missing or not writable/),
        },
      });
      expect(engine.capture.get(row.id)).toBeUndefined();
      expect(await dispatch(engine, 'alert.list', { source: 'rs', open: true })).toMatchObject({
        ok: true,
        result: [{ kind: 'BACKUP_FAILED' }],
      });

      renameSync(`${repo}-unplugged`, repo); // plugged in again
      await scheduler.tick();
      expect(await dispatch(engine, 'backup-job.get', { source: 'rs' })).toMatchObject({
        ok: true,
        result: { state: 'active', reason: null },
      });
      expect(engine.capture.get(row.id)).toBeDefined();
      expect(await dispatch(engine, 'alert.list', { source: 'rs', open: true })).toEqual({
        ok: true,
        result: [],
      });
    });
  });

  it.skipIf(MONGO_KIND !== 'standin')(
    'becomes Misconfigured when the source rejects the credentials, and Active again after the source is edited',
    async () => {
      const auth = { username: 'backup', password: 'Old-Passw0rd' };
      const s = await startStandin({ auth, noopIntervalMs: 200 });
      cleanups.push(() => s.stop());
      const dir = tempDir('mbm-jobs-auth-');
      const engine = Engine.open({
        dataDir: join(dir.path, 'data'),
        mode: 'headless',
        sourceTimeoutMs: 2000,
        capture: { backoffMinMs: 50, backoffMaxMs: 200, awaitMs: 100 },
      });
      cleanups.push(async () => {
        await engine.close();
        dir.remove();
      });
      await engine.stores.attach(await Repository.init(join(dir.path, 'repo')));
      const bare = s.uri.replace(`:${auth.password}@`, '@');
      const added = await dispatch(engine, 'source.add', {
        name: 'rs',
        uri: bare,
        password: auth.password,
        insecureStorePassword: true,
      });
      expect(added).toMatchObject({ ok: true });
      const row = getSourceByName(engine.catalog, 'rs');
      expect(engine.capture.get(row.id)).toBeDefined();

      s.faults.changePassword('New-Passw0rd'); // rotated on the server, not here
      const state = async () =>
        (
          (await dispatch(engine, 'backup-job.get', { source: 'rs' })) as {
            result: { state: string; reason: string };
          }
        ).result;
      for (let k = 0; k < 200 && (await state()).state !== 'misconfigured'; k++)
        await new Promise((r) => setTimeout(r, 25));
      expect(await state()).toMatchObject({
        state: 'misconfigured',
        reason: expect.stringMatching(/rejected the credentials/),
      });
      expect(engine.capture.get(row.id)).toBeUndefined();

      expect(
        await dispatch(engine, 'source.edit', { name: 'rs', password: 'Wrong', insecureStorePassword: true }),
      ).toMatchObject({
        ok: false,
        error: { code: 'AUTH_FAILED' },
      });
      expect(
        await dispatch(engine, 'source.edit', {
          name: 'rs',
          password: 'New-Passw0rd',
          insecureStorePassword: true,
        }),
      ).toMatchObject({ ok: true });
      expect(await state()).toMatchObject({ state: 'active', reason: null });
      expect(engine.capture.get(row.id)).toBeDefined();
      expect(await dispatch(engine, 'alert.list', { source: 'rs', open: true })).toEqual({
        ok: true,
        result: [],
      });
    },
  );

  it('is reached from the CLI as `backup-job get --source NAME`; `task get --task-id` reaches long work', async () => {
    await withMongo(async ({ uri }) => {
      const { engine, dir } = await setup(uri);
      await engine.close();
      const cli = (...args: string[]) => cliSync(join(dir.path, 'data'), [...args, '--json']);
      const job = cli('backup-job', 'get', '--source', 'rs');
      expect(job.code, job.stderr).toBe(0);
      expect(JSON.parse(job.stdout)).toMatchObject({ source: 'rs', state: 'active' });
      const engineTask = cli('task', 'get', '--task-id', 'nope');
      expect(engineTask.code).toBe(3); // NOT_FOUND: no such task
      const status = cli('status', '--source', 'rs');
      expect(JSON.parse(status.stdout)).toMatchObject({ source: 'rs', capture: { state: 'stopped' } });
    });
  });
});
