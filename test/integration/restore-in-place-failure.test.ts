/**
 * An in-place restore that fails midway says exactly which namespace is in
 * which state: untouched, dropped, partially restored (how far) or restored,
 * in the task's error, the restore history and the audit log, and each state
 * is checked against what the server really holds. Failures are injected
 * with mongod's `failCommand` fail point (a test command; the stand-in models
 * it): the second `drop`, the second `insert` batch, the oplog's `applyOps`.
 */
import { type Document, type MongoClient } from 'mongodb';
import { afterEach, describe, expect, it } from 'vitest';
import { dispatch } from '../../engine/api/dispatch.js';
import type { Engine } from '../../engine/engine.js';
import { newestOplogTs } from '../../engine/source/snapshot.js';
import { waitUntilCaptured } from '../support/capture-wait.js';
import { capturingEngine } from '../support/capturing-engine.js';
import { runTask } from '../support/run-task.js';
import { FAULTS_SKIP_MESSAGE, needsFaults, withMongo } from '../support/with-mongo.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface NsState {
  namespace: string;
  source: string;
  state: 'untouched' | 'dropped' | 'partially restored' | 'restored';
  detail: string;
}

/** mongod's failCommand fail point: `commands` fail with OutOfDiskSpace (14031) after `skip` successes. */
async function failAfter(client: MongoClient, commands: string[], skip: number) {
  await client.db('admin').command({
    configureFailPoint: 'failCommand',
    mode: { skip },
    data: { failCommands: commands, errorCode: 14031 },
  });
}
const failOff = (client: MongoClient) =>
  client.db('admin').command({ configureFailPoint: 'failCommand', mode: 'off' });

async function inPlace(engine: Engine, at: string, db: string, extra: Record<string, unknown> = {}) {
  const started = await dispatch(engine, 'restore.in-place', {
    inPlace: true,
    source: 'rs',
    at,
    include: [`${db}.*`],
    confirm: 'rs',
    parallel: 1,
    ...extra,
  } as never);
  expect(started.ok, JSON.stringify(started)).toBe(true);
  return engine.tasks.wait((started as { result: { taskId: string } }).result.taskId);
}

/** What the server holds per collection of `db` (marker excluded). */
async function counts(client: MongoClient, db: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const c of await client.db(db).listCollections().toArray()) {
    if (c.name.startsWith('__mbm')) continue;
    out[`${db}.${c.name}`] = await client.db(db).collection(c.name).countDocuments();
  }
  return out;
}

if (needsFaults) console.log(FAULTS_SKIP_MESSAGE);

describe('in-place restore failing midway', () => {
  it.skipIf(needsFaults)(
    'reports each namespace as untouched, dropped, partially restored or restored',
    async () => {
      await withMongo(async ({ uri }) => {
        const env = await capturingEngine(uri, 'mbm-inplace-fail-');
        cleanups.push(() => env.close());
        const { engine, row, client } = env;
        const db = `ipf_${Date.now()}`;
        const sizes: Record<string, number> = { a: 1500, b: 10, c: 20 };
        for (const [name, n] of Object.entries(sizes))
          await client
            .db(db)
            .collection(name)
            .insertMany(Array.from({ length: n }, (_, k) => ({ _id: k as never, v: k })));
        await engine.capture.start(row);
        expect((await runTask(engine, 'snapshot.take', { source: 'rs' })).state).toBe('succeeded');
        await client
          .db(db)
          .collection('b')
          .updateMany({}, { $set: { late: true } });
        const at = (await newestOplogTs(client))!;
        const point = `${at.t}:${at.i}`;
        await waitUntilCaptured(engine.capture.get(row.id)!, client);
        const all = Object.keys(sizes).map((c) => `${db}.${c}`);

        const check = async (task: Awaited<ReturnType<typeof inPlace>>) => {
          expect(task.state).toBe('failed');
          const details = task.error!.details as { namespaceStates: NsState[]; restoreId: string };
          const states = details.namespaceStates;
          expect(states.map((s) => s.namespace).sort()).toEqual(all);
          // The restore history and the audit log say the same.
          const shown = await dispatch(engine, 'restore.get', { id: details.restoreId });
          expect(
            (shown as { result: { report: { namespaceStates: NsState[] } } }).result.report.namespaceStates,
          ).toEqual(states);
          const log = await dispatch(engine, 'audit.list', { limit: 5 });
          const finish = (log as { result: { action: string; details: Document }[] }).result.find(
            (a) => a.action === 'restore.in-place.finish',
          );
          expect(finish?.details.namespaceStates).toEqual(states);
          // Capture was resumed despite the failure (the capture loop leaves 'paused' on its next turn).
          for (let k = 0; k < 100 && engine.capture.get(row.id)?.metrics.state === 'paused'; k++)
            await new Promise((r) => setTimeout(r, 20));
          expect(engine.capture.get(row.id)?.metrics.state).not.toBe('paused');
          return { states, message: task.error!.message };
        };

        // 1. The second drop fails: one namespace dropped (gone from the server), the others untouched.
        const before = await counts(client, db);
        await failAfter(client, ['drop'], 1);
        const r1 = await check(await inPlace(engine, point, db));
        await failOff(client);
        const now1 = await counts(client, db);
        expect(r1.states.filter((s) => s.state === 'dropped')).toHaveLength(1);
        expect(r1.states.filter((s) => s.state === 'untouched')).toHaveLength(2);
        for (const s of r1.states) {
          if (s.state === 'dropped') expect(now1[s.namespace]).toBeUndefined();
          else expect(now1[s.namespace]).toBe(before[s.namespace]); // untouched: as it was
        }
        expect(r1.message).toContain('untouched 2, dropped 1, partially restored 0, restored 0');

        // 2. The second insert batch fails: everything was dropped and created, one collection holds
        // exactly the documents its state says were copied.
        await failAfter(client, ['insert'], 1);
        const r2 = await check(await inPlace(engine, point, db));
        await failOff(client);
        const now2 = await counts(client, db);
        expect(r2.states.every((s) => s.state === 'partially restored')).toBe(true);
        for (const s of r2.states) {
          const copied = /^(\d+) of (\d+) documents copied$/.exec(s.detail);
          if (copied) expect(now2[s.namespace]).toBe(Number(copied[1]));
          else expect(s.detail === 'created' ? now2[s.namespace] : -1).toBe(0);
        }
        const cut = r2.states.find(
          (s) =>
            /documents copied$/.exec(s.detail) && now2[s.namespace]! < sizes[s.namespace.split('.')[1]!]!,
        );
        expect(cut, JSON.stringify(r2.states)).toBeDefined();

        // 3. Strict restore, the oplog's applyOps refused: the snapshot is copied everywhere, the replay not done.
        await failAfter(client, ['applyOps'], 0);
        const r3 = await check(await inPlace(engine, point, db, { strict: true }));
        await failOff(client);
        const now3 = await counts(client, db);
        for (const s of r3.states) {
          expect(s.state).toBe('partially restored');
          expect(s.detail).toContain('snapshot copied; oplog replayed through nothing yet');
          expect(now3[s.namespace]).toBe(sizes[s.namespace.split('.')[1]!]);
        }
        // The snapshot's b, without the change the oplog would have replayed.
        expect(await client.db(db).collection('b').countDocuments({ late: true })).toBe(0);

        // And once nothing fails, the same restore completes: every namespace restored at the point.
        const ok = await inPlace(engine, point, db);
        expect(ok.state, JSON.stringify(ok.error)).toBe('succeeded');
        expect(await client.db(db).collection('b').countDocuments({ late: true })).toBe(10);
        await engine.capture.stop(row.id);
      });
    },
  );
});
