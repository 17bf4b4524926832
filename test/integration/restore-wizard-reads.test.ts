/**
 * The two reads the restore wizard needs besides plan and history: the
 * namespaces of a snapshot (the option step's tree, with counts from the
 * manifest) and a restore's report as a file (JSON, or the self-contained
 * HTML validation page) that the browser saves.
 */
import { type Document } from 'mongodb';
import { afterEach, describe, expect, it } from 'vitest';
import type { CommandName, CommandOutput } from '../../engine/api/contract.js';
import { dispatch } from '../../engine/api/dispatch.js';
import type { Engine } from '../../engine/engine.js';
import { capturingEngine } from '../support/capturing-engine.js';
import { runTask } from '../support/run-task.js';
import { MONGO_KIND, withMongo } from '../support/with-mongo.js';

type AnyDoc = Document & { _id: unknown };

/** A command's answer, typed (dispatch answers any command). */
async function call<K extends CommandName>(engine: Engine, name: K, input: unknown) {
  return (await dispatch(engine, name, input)) as
    { ok: true; result: CommandOutput<K> } | { ok: false; error: { code: string; message: string } };
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe(`what the restore wizard reads (${MONGO_KIND})`, () => {
  it('lists a snapshot’s namespaces with counts, and a restore’s report as JSON and HTML', async () => {
    await withMongo(async ({ uri }) => {
      const env = await capturingEngine(uri, 'mbm-wizard-reads-');
      cleanups.push(() => env.close());
      const { engine, client } = env;
      const db = `wiz_${Date.now()}`;
      await client
        .db(db)
        .collection<AnyDoc>('orders')
        .insertMany([
          { _id: 1, sku: 'a' },
          { _id: 2, sku: 'b' },
          { _id: 3, sku: 'c' },
        ]);
      await client.db(db).collection('orders').createIndex({ sku: 1 }, { unique: true });
      await client.db(db).collection<AnyDoc>('audit').insertOne({ _id: 1, what: 'x' });
      const snap = await runTask(engine, 'snapshot.take', { source: 'rs' });
      expect(snap.state).toBe('succeeded');
      const snapshotId = (snap.result as { snapshotId: string }).snapshotId;

      const listed = await call(engine, 'snapshot.namespaces', { source: 'rs', snapshot: snapshotId });
      expect(listed.ok, JSON.stringify(listed)).toBe(true);
      if (!listed.ok) return;
      expect(listed.result.snapshotId).toBe(snapshotId);
      const mine = listed.result.namespaces.filter((n) => n.db === db);
      expect(mine.map((n) => [n.ns, n.type, n.documents, n.indexes]).sort()).toEqual([
        [`${db}.audit`, 'collection', 1, 1],
        [`${db}.orders`, 'collection', 3, 2],
      ]);
      expect(mine.every((n) => n.bytes > 0)).toBe(true);
      expect(listed.result.users).toBeNull(); // users and roles were not chosen for this snapshot

      const unknown = await call(engine, 'snapshot.namespaces', { source: 'rs', snapshot: 'nope' });
      expect(unknown.ok).toBe(false);
      if (!unknown.ok) expect(unknown.error.code).toBe('NOT_FOUND');

      const started = await call(engine, 'restore.run', {
        source: 'rs',
        at: snapshotId,
        targetUri: uri,
        include: [`${db}.*`],
        rename: [`${db}.$coll$=${db}_copy.$coll$`],
      });
      expect(started.ok).toBe(true);
      if (!started.ok) return;
      const task = await engine.tasks.wait(started.result.taskId);
      expect(task.state, JSON.stringify(task.error)).toBe('succeeded');
      const restoreId = (task.result as { restoreId: string }).restoreId;

      const json = await call(engine, 'restore.report', { id: restoreId, format: 'json' });
      expect(json.ok).toBe(true);
      if (!json.ok) return;
      expect(json.result.mediaType).toBe('application/json');
      expect(json.result.fileName).toBe(`restore-rs-${restoreId.slice(0, 8)}.json`);
      const parsed = JSON.parse(json.result.content) as {
        id: string;
        report: { validation: { passed: boolean } };
      };
      expect(parsed.id).toBe(restoreId);
      expect(parsed.report.validation.passed, JSON.stringify(parsed.report.validation)).toBe(true);

      const html = await call(engine, 'restore.report', { id: restoreId, format: 'html' });
      expect(html.ok).toBe(true);
      if (!html.ok) return;
      expect(html.result.mediaType).toBe('text/html');
      expect(html.result.content).toMatch(/^<!doctype html>/);
      expect(html.result.content).toContain('PASSED');
      expect(html.result.content).toContain('Recovery time'); // the phases of the restore
      expect(html.result.content).not.toMatch(/<script|src=|href=/); // self-contained

      const missing = await call(engine, 'restore.report', { id: 'nope', format: 'json' });
      expect(missing.ok).toBe(false);
      if (!missing.ok) expect(missing.error.code).toBe('NOT_FOUND');
      await client.db(`${db}_copy`).dropDatabase();
    });
  });
});
