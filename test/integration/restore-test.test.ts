/**
 * Scheduled restore tests: the scheduler (fake clock) restores the latest
 * snapshot or a random point into renamed scratch databases of a target,
 * validates them, records the RTO per phase as a `restore-test` restore and
 * drops the scratch databases; a failing test (the target changes a
 * document during the test, or goes away) raises RESTORE_TEST_FAILED and
 * still drops them, and the next passing test resolves the alert. Missed
 * runs coalesce into one.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Document, MongoClient } from 'mongodb';
import { afterEach, describe, expect, it } from 'vitest';
import { dispatch } from '../../engine/api/dispatch.js';
import type { CommandOutput } from '../../engine/api/contract.js';
import type { Task } from '../../engine/api/schemas.js';
import type { Engine } from '../../engine/engine.js';
import { insertRestore } from '../../engine/catalog/restores.js';
import { getSourceByName } from '../../engine/catalog/sources.js';
import { Scheduler } from '../../engine/schedule/scheduler.js';
import { RESTORE_TEST_KIND, SCRATCH_PREFIX } from '../../engine/verify/restore-test.js';
import { waitUntilCaptured } from '../support/capture-wait.js';
import { capturingEngine, type CapturingEngine } from '../support/capturing-engine.js';
import { runTask } from '../support/run-task.js';
import { startStandin } from '../support/standin/server.js';
import { FAULTS_SKIP_MESSAGE, MONGO_KIND, uniqueDb, withMongo } from '../support/with-mongo.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

type Status = CommandOutput<'restore-test.last'>[number];
type AnyDoc = Document & { _id: number | string };

/** A captured source with a snapshot and writes after it, and a restore test into `targetUri`. */
async function protectedSource(uri: string, test: Record<string, unknown> = {}, targetUri = uri) {
  const env = await capturingEngine(uri, 'mbm-rtest-');
  cleanups.push(() => env.close());
  const { engine, row, client } = env;
  const db = uniqueDb('rtest');
  await client
    .db(db)
    .collection<AnyDoc>('orders')
    .insertMany(Array.from({ length: 300 }, (_, n) => ({ _id: n, n, item: `i${n}`, qty: n % 7 })));
  await client.db(db).collection<AnyDoc>('orders').createIndex({ item: 1 }, { name: 'item_1' });
  await client
    .db(db)
    .collection<AnyDoc>('audit')
    .insertOne({ _id: 'a', at: new Date(0) });
  await engine.capture.start(row);
  expect((await runTask(engine, 'snapshot.take', { source: 'rs' })).state).toBe('succeeded');
  // Oplog after the snapshot: the random point may fall anywhere in it.
  for (let k = 0; k < 20; k++)
    await client
      .db(db)
      .collection<AnyDoc>('orders')
      .updateOne({ _id: k }, { $inc: { qty: 1 } });
  await client.db(db).collection<AnyDoc>('orders').deleteOne({ _id: 299 });
  await waitUntilCaptured(engine.capture.get(row.id)!, client);
  const set = await dispatch(engine, 'backup-job.set', {
    source: 'rs',
    policy: {
      // Tiers and retention kept far longer than the simulated weeks, so only the restore test acts.
      hourly: null,
      daily: null,
      weekly: null,
      monthly: { day: 1, at: '03:00', keepMonths: 120 },
      onDemandKeepDays: 3650,
      pitrWindowHours: 720,
      restoreTest: {
        everyDays: 7,
        point: 'latest-snapshot',
        target: { kind: 'uri', uri: targetUri, passwordEnv: null },
        sample: 1000,
        ...test,
      },
    },
  });
  expect(set.ok, JSON.stringify(set)).toBe(true);
  return { ...env, db };
}

async function last(engine: Engine): Promise<Status> {
  const res = await dispatch(engine, 'restore-test.last', { source: 'rs' });
  if (!res.ok) throw new Error(res.error.message);
  return (res.result as Status[])[0]!;
}

const restoreTestTasks = (engine: Engine) => engine.tasks.list().filter((t) => t.kind === RESTORE_TEST_KIND);

async function scratchDbs(client: MongoClient, prefix = SCRATCH_PREFIX): Promise<string[]> {
  const { databases } = await client.db('admin').admin().listDatabases({ nameOnly: true });
  return databases.map((d) => d.name).filter((n) => n.startsWith(prefix));
}

/** The running test's scratch prefix, from its row in the restore history. */
function runningPrefix(engine: Engine): string {
  const row = engine.catalog
    .prepare("SELECT details_json FROM restores WHERE kind = ? AND state = 'running'")
    .pluck()
    .get(RESTORE_TEST_KIND) as string;
  return (JSON.parse(row) as { scratch: { prefix: string } }).scratch.prefix;
}

/** Waits until the running task's progress message is one of `messages` (read from the task itself, not throttled events). */
async function untilPhase(engine: Engine, taskId: string, messages: string[]): Promise<void> {
  for (;;) {
    const t = engine.tasks.get(taskId);
    if (t.state !== 'running') throw new Error(`the task ended (${t.state}) before ${messages.join('/')}`);
    if (messages.includes(t.progress.message)) return;
    await new Promise((r) => setTimeout(r, 1));
  }
}

async function openAlerts(engine: Engine) {
  const res = await dispatch(engine, 'alert.list', { open: true, source: 'rs' });
  if (!res.ok) throw new Error(res.error.message);
  return (res.result as CommandOutput<'alert.list'>).filter((a) => a.kind === 'RESTORE_TEST_FAILED');
}

describe(`scheduled restore tests (${MONGO_KIND})`, () => {
  it('the scheduler runs a passing test: scratch databases restored, validated, dropped; RTO recorded and shown', async () => {
    await withMongo(async ({ uri }) => {
      const { engine, client, db } = await protectedSource(uri);
      const before = await client.db(db).collection<AnyDoc>('orders').find({}, { raw: true }).toArray();
      const now = new Date();
      const scheduler = new Scheduler(engine, () => now);
      await scheduler.tick();
      const [task] = restoreTestTasks(engine);
      expect(task).toBeDefined();
      const done = await engine.tasks.wait(task!.taskId);
      expect(done.state, JSON.stringify(done.error)).toBe('succeeded');

      const status = await last(engine);
      expect(status.last).toMatchObject({
        state: 'succeeded',
        passed: true,
        trigger: 'schedule',
        failedChecks: [],
      });
      expect(status.last!.startedAt).toBe(now.toISOString());
      // The RTO: every phase of the restore, then the validation, with their sum.
      const rto = status.last!.rto!;
      expect(rto.phases.map((p) => p.name)).toEqual([
        'checking the target',
        'marking the restore as incomplete',
        'creating collections',
        'copying documents',
        'building indexes',
        'replaying the oplog',
        'removing the incomplete marker',
        'validating',
      ]);
      expect(rto.totalMs).toBe(rto.restoreMs + rto.validationMs);
      expect(rto.restoreMs).toBe((done.result as { durationMs: number }).durationMs);
      // It really restored the source's data, under scratch names, and compared it.
      const shown = await dispatch(engine, 'restore.get', { id: status.last!.id });
      expect(shown.ok).toBe(true);
      const restore = (shown as { result: CommandOutput<'restore.get'> }).result;
      expect(restore.kind).toBe(RESTORE_TEST_KIND);
      const namespaces = (
        restore.report!.namespaces as { source: string; target: string; documents: number }[]
      )
        .filter((n) => n.source.startsWith(`${db}.`))
        .sort((a, b) => a.source.localeCompare(b.source));
      const prefix = (restore.report!.scratch as { prefix: string }).prefix;
      expect(prefix).toMatch(/^__mbm_rtest_[0-9a-f]{8}_$/);
      expect(namespaces).toEqual([
        {
          source: `${db}.audit`,
          target: `${prefix}${db}.audit`,
          type: 'collection',
          documents: 1,
          failures: 0,
        },
        {
          source: `${db}.orders`,
          target: `${prefix}${db}.orders`,
          type: 'collection',
          documents: 300,
          failures: 0,
        },
      ]);
      const validation = restore.report!.validation as { passed: boolean; documentsCompared: number };
      expect(validation.passed).toBe(true);
      expect(validation.documentsCompared).toBeGreaterThanOrEqual(300);
      expect(restore.report!.scratch).toMatchObject({
        dropped: expect.arrayContaining([`${prefix}${db}`]),
        leftOver: [],
      });
      // Dropped afterwards; the source's own database untouched.
      expect(await scratchDbs(client, prefix)).toEqual([]);
      const after = await client.db(db).collection<AnyDoc>('orders').find({}, { raw: true }).toArray();
      expect(after.map((d) => Buffer.from(d as unknown as Uint8Array).toString('hex'))).toEqual(
        before.map((d) => Buffer.from(d as unknown as Uint8Array).toString('hex')),
      );
      expect(await openAlerts(engine)).toEqual([]);
      expect(status.nextRunAt).toBe(new Date(now.getTime() + 7 * 86_400_000).toISOString());
      // Applying a preset replaces the snapshot policy, not the job's restore test.
      const preset = await dispatch(engine, 'backup-job.set', { source: 'rs', preset: 'pci-dss' });
      expect(preset).toMatchObject({
        ok: true,
        result: { policy: { preset: 'pci-dss', restoreTest: { everyDays: 7 } } },
      });
    });
  });

  it('fires again after N days (fake clock), and runs missed tests once at start, not once per missed period', async () => {
    await withMongo(async ({ uri }) => {
      const { engine } = await protectedSource(uri, { everyDays: 2, point: 'random-point' });
      let now = new Date();
      const t0 = now.getTime();
      const scheduler = new Scheduler(engine, () => now);
      const runTicks = async () => {
        await scheduler.tick();
        for (const t of restoreTestTasks(engine)) await engine.tasks.wait(t.taskId);
        return restoreTestTasks(engine).length;
      };
      expect(await runTicks()).toBe(1);
      // A random point of the window: an ISO second, restored and validated like a snapshot.
      const first = await last(engine);
      expect(first.last).toMatchObject({ passed: true, point: expect.stringMatching(/^\d{4}-.*Z$/) });
      // Inside the restorable window: not before the snapshot's consistent point, not after the live edge.
      const snaps = await dispatch(engine, 'snapshot.list', { source: 'rs' });
      const consistent = (snaps as { result: { consistentTs: { t: number } }[] }).result[0]!.consistentTs.t;
      const status = await dispatch(engine, 'source.status', { source: 'rs' });
      const edge = (status as { result: { capture: { capturedTs: { t: number } } } }).result.capture
        .capturedTs.t;
      const drawn = Date.parse(first.last!.point) / 1000;
      expect(drawn).toBeGreaterThanOrEqual(consistent);
      expect(drawn).toBeLessThanOrEqual(edge);
      now = new Date(t0 + 2 * 86_400_000 - 60_000);
      expect(await runTicks()).toBe(1); // not yet
      now = new Date(t0 + 2 * 86_400_000);
      expect(await runTicks()).toBe(2); // due after 2 days
      // The app was closed for ten days (five periods): one test at start, noted as missed.
      now = new Date(t0 + 12 * 86_400_000);
      expect(await runTicks()).toBe(3);
      now = new Date(t0 + 12 * 86_400_000 + 60_000);
      expect(await runTicks()).toBe(3);
      const tests = engine.catalog
        .prepare('SELECT started_at, state FROM restores WHERE kind = ? ORDER BY started_at')
        .all(RESTORE_TEST_KIND);
      expect(tests).toEqual([
        { started_at: new Date(t0).toISOString(), state: 'succeeded' },
        { started_at: new Date(t0 + 2 * 86_400_000).toISOString(), state: 'succeeded' },
        { started_at: new Date(t0 + 12 * 86_400_000).toISOString(), state: 'succeeded' },
      ]);
      const log = await dispatch(engine, 'audit.list', {});
      const missed = (log as { result: { action: string; details: unknown }[] }).result.filter(
        (a) => a.action === 'schedule.missed-run' && (a.details as { restoreTest?: boolean }).restoreTest,
      );
      expect(missed).toEqual([
        expect.objectContaining({
          details: { restoreTest: true, scheduledAt: new Date(t0 + 4 * 86_400_000).toISOString() },
        }),
      ]);
      expect((await last(engine)).nextRunAt).toBe(new Date(t0 + 14 * 86_400_000).toISOString());
    });
  });

  it('a target that changes a document during the test fails it with the finding, raises RESTORE_TEST_FAILED, drops the scratch copy; the next pass resolves the alert', async () => {
    await withMongo(async ({ uri }) => {
      const { engine, client, db } = await protectedSource(uri);
      const started = await dispatch(engine, 'restore-test.run', { source: 'rs' });
      expect(started.ok, JSON.stringify(started)).toBe(true);
      const taskId = (started as { result: { taskId: string } }).result.taskId;
      // Another client writes into the scratch copy once the restore is past its target check.
      await untilPhase(engine, taskId, [
        'marking the restore as incomplete',
        'creating collections',
        'copying documents',
      ]);
      const prefix = runningPrefix(engine);
      await client.db(`${prefix}${db}`).collection<AnyDoc>('orders').insertOne({ _id: 'intruder' });
      const failed: Task = await engine.tasks.wait(taskId);
      expect(failed.state).toBe('failed');
      expect(failed.error).toMatchObject({ code: 'CONFLICT', details: { reason: 'validation-failed' } });
      const status = await last(engine);
      expect(status.last).toMatchObject({ state: 'failed', passed: false, trigger: 'manual' });
      expect(status.last!.failedChecks).toContainEqual({
        name: 'counts',
        findings: [`${prefix}${db}.orders: 301 documents on the target, 300 in the backup.`],
      });
      expect(status.last!.rto!.phases.at(-1)!.name).toBe('validating');
      expect(await scratchDbs(client, prefix)).toEqual([]);
      const alerts = await openAlerts(engine);
      expect(alerts).toEqual([
        expect.objectContaining({
          severity: 'critical',
          message: expect.stringContaining('301 documents on the target'),
        }),
      ]);

      // The next test passes and resolves the alert.
      const next = await dispatch(engine, 'restore-test.run', { source: 'rs' });
      const ok = await engine.tasks.wait((next as { result: { taskId: string } }).result.taskId);
      expect(ok.state, JSON.stringify(ok.error)).toBe('succeeded');
      expect(await openAlerts(engine)).toEqual([]);
      expect((await last(engine)).last).toMatchObject({
        passed: true,
        id: expect.not.stringMatching(status.last!.id),
      });
      expect(await scratchDbs(client, prefix)).toEqual([]);
    });
  });

  it('a cancelled test drops its scratch databases too, and raises no alert', async () => {
    await withMongo(async ({ uri }) => {
      const { engine, client } = await protectedSource(uri);
      const started = await dispatch(engine, 'restore-test.run', { source: 'rs' });
      const taskId = (started as { result: { taskId: string } }).result.taskId;
      await untilPhase(engine, taskId, ['creating collections', 'copying documents']);
      const prefix = runningPrefix(engine);
      expect(await scratchDbs(client, prefix)).not.toEqual([]); // the restore had written there
      expect(await dispatch(engine, 'task.cancel', { taskId })).toMatchObject({ ok: true });
      const t = await engine.tasks.wait(taskId);
      expect(t.state).toBe('cancelled');
      expect(await scratchDbs(client, prefix)).toEqual([]);
      expect((await last(engine)).last).toMatchObject({
        state: 'cancelled',
        passed: false,
        scratchLeftOver: [],
      });
      expect(await openAlerts(engine)).toEqual([]);
    });
  });

  it('a test left running by an engine that was killed is closed as failed, and its scratch copy dropped by the next test', async () => {
    await withMongo(async ({ uri }) => {
      const { engine, client, row } = await protectedSource(uri);
      // What a kill -9 in the middle of a test leaves: its row running, its scratch database on the target.
      const stale = '__mbm_rtest_deadbeef_';
      insertRestore(engine.catalog, {
        id: 'deadbeef-0000-4000-8000-000000000000',
        sourceId: row.id,
        point: 'x',
        kind: RESTORE_TEST_KIND,
        details: { actor: 't', trigger: 'schedule', target: null, scratch: { prefix: stale } },
        startedAt: new Date(Date.now() - 86_400_000),
      });
      await client.db(`${stale}shop`).collection<AnyDoc>('orders').insertOne({ _id: 1 });
      const run = await dispatch(engine, 'restore-test.run', { source: 'rs' });
      const t = await engine.tasks.wait((run as { result: { taskId: string } }).result.taskId);
      expect(t.state, JSON.stringify(t.error)).toBe('succeeded');
      expect(await scratchDbs(client, stale)).toEqual([]);
      const old = await dispatch(engine, 'restore.get', { id: 'deadbeef-0000-4000-8000-000000000000' });
      expect(old).toMatchObject({ ok: true, result: { state: 'failed', error: { code: 'CANCELLED' } } });
      const report = (t.result as { scratch: { dropped: string[] } }).scratch;
      expect(report.dropped).toContain(`${stale}shop`);
    });
  });

  it('an unreachable target fails the test and raises RESTORE_TEST_FAILED', async () => {
    await withMongo(async ({ uri }) => {
      const { engine } = await protectedSource(uri, {}, 'mongodb://127.0.0.1:1/?directConnection=true');
      const started = await dispatch(engine, 'restore-test.run', { source: 'rs' });
      const t = await engine.tasks.wait((started as { result: { taskId: string } }).result.taskId);
      expect(t.state).toBe('failed');
      expect(t.error?.code).toBe('UNREACHABLE');
      expect((await last(engine)).last).toMatchObject({
        passed: false,
        error: { code: 'UNREACHABLE' },
        rto: null,
        target: 'mongodb://127.0.0.1:1/?directConnection=true',
      });
      expect(await openAlerts(engine)).toHaveLength(1);
      // A second failure keeps the one open alert.
      const again = await dispatch(engine, 'restore-test.run', { source: 'rs' });
      await engine.tasks.wait((again as { result: { taskId: string } }).result.taskId);
      expect(await openAlerts(engine)).toHaveLength(1);
    });
  });
});

describe.skipIf(MONGO_KIND !== 'standin')('restore test while the target goes away (stand-in faults)', () => {
  if (MONGO_KIND !== 'standin') console.log(FAULTS_SKIP_MESSAGE);
  it('the target refusing connections mid-restore fails the test; the scratch databases are dropped once it is back', async () => {
    await withMongo(async ({ uri, standin }) => {
      const env: CapturingEngine & { db: string } = await protectedSource(uri);
      const { engine, client, db } = env;
      const started = await dispatch(engine, 'restore-test.run', { source: 'rs' });
      const taskId = (started as { result: { taskId: string } }).result.taskId;
      await untilPhase(engine, taskId, ['creating collections', 'copying documents', 'building indexes']);
      const prefix = runningPrefix(engine);
      // Longer than the engine's server selection timeout (3 s in tests): the restore's next write fails.
      const outage = standin!.faults.refuseFor(4000);
      const t = await engine.tasks.wait(taskId);
      await outage;
      expect(t.state).toBe('failed');
      expect(t.error).toMatchObject({ code: 'UNREACHABLE' });
      expect(await scratchDbs(client, prefix)).toEqual([]);
      const shown = (await last(engine)).last!;
      expect(shown).toMatchObject({ passed: false, scratchLeftOver: [] });
      const row = await dispatch(engine, 'restore.get', { id: shown.id });
      expect(
        (row as { result: { report: { scratch: { dropped: string[] } } } }).result.report.scratch.dropped,
      ).toEqual([`${prefix}${db}`]);
      expect(await openAlerts(engine)).toHaveLength(1);
    });
  });
});

describe.skipIf(MONGO_KIND !== 'standin')(
  'restore test target credentials (a second stand-in with a user)',
  () => {
    it('takes the password out of the target string and seals it, or reads it from an environment variable; never stores it in clear', async () => {
      await withMongo(async ({ uri }) => {
        const auth = { username: 'tester', password: 'Rt3st-Passw0rd' };
        const target = await startStandin({ auth, noopIntervalMs: 0 });
        cleanups.push(() => target.stop());
        const withUser = target.uri.replace(`${auth.username}:${auth.password}@`, `${auth.username}@`);
        const { engine, dir } = await protectedSource(uri, {}, withUser);
        // No password: the target refuses the login, the test fails as it should.
        const noPw = await dispatch(engine, 'restore-test.run', { source: 'rs' });
        const refused = await engine.tasks.wait((noPw as { result: { taskId: string } }).result.taskId);
        expect(refused.error).toMatchObject({ code: 'AUTH_FAILED' });

        const policyWith = (u: string, passwordEnv: string | null = null) => ({
          source: 'rs',
          policy: {
            restoreTest: {
              everyDays: 7,
              point: 'latest-snapshot' as const,
              target: { kind: 'uri' as const, uri: u, passwordEnv },
              sample: 100,
            },
          },
        });
        // In the string: an unencrypted repository without a keychain cannot seal it unless told to.
        const unsafe = await dispatch(engine, 'backup-job.set', policyWith(target.uri));
        expect(unsafe).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT' } });
        const sealed = await dispatch(engine, 'backup-job.set', {
          ...policyWith(target.uri),
          insecureStorePassword: true,
        });
        expect(sealed.ok, JSON.stringify(sealed)).toBe(true);
        const job = (sealed as { result: CommandOutput<'backup-job.get'> }).result;
        expect(job.policy.restoreTest!.target).toMatchObject({ kind: 'uri', uri: withUser });
        expect(JSON.stringify(job)).not.toContain(auth.password);
        const ok = await dispatch(engine, 'restore-test.run', { source: 'rs' });
        const passed = await engine.tasks.wait((ok as { result: { taskId: string } }).result.taskId);
        expect(passed.state, JSON.stringify(passed.error)).toBe('succeeded');
        expect((await last(engine)).last!.target).toBe(withUser); // the user kept, never the password
        // The policy (and its mirror in the repository) never holds the password.
        const policyRow = engine.catalog
          .prepare('SELECT policy_json FROM backup_jobs')
          .pluck()
          .get() as string;
        expect(policyRow).not.toContain(auth.password);
        const mirror = readFileSync(
          join(dir.path, 'repo', 'sources', getSourceByName(engine.catalog, 'rs').id, 'protection.json'),
          'utf8',
        );
        expect(mirror).toContain('restoreTest');
        expect(mirror).not.toContain(auth.password);

        // From an environment variable of the engine's process instead.
        const envSet = await dispatch(engine, 'backup-job.set', policyWith(withUser, 'MBM_RTEST_TARGET_PW'));
        expect(envSet.ok).toBe(true);
        delete process.env.MBM_RTEST_TARGET_PW;
        const unset = await dispatch(engine, 'restore-test.run', { source: 'rs' });
        const missing = await engine.tasks.wait((unset as { result: { taskId: string } }).result.taskId);
        expect(missing.error).toMatchObject({
          code: 'AUTH_FAILED',
          message: expect.stringContaining('MBM_RTEST_TARGET_PW'),
        });
        process.env.MBM_RTEST_TARGET_PW = auth.password;
        try {
          const run = await dispatch(engine, 'restore-test.run', { source: 'rs' });
          const t = await engine.tasks.wait((run as { result: { taskId: string } }).result.taskId);
          expect(t.state, JSON.stringify(t.error)).toBe('succeeded');
        } finally {
          delete process.env.MBM_RTEST_TARGET_PW;
        }
        expect(await openAlerts(engine)).toEqual([]);
      });
    });
  },
);
