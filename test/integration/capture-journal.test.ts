/**
 * The capture journal with a live source: what `status` reports as captured can be restored at
 * once (the journal's unsealed tail is planned and read), and a bit flip in a journal left by a
 * crash is alerted and healed from the source's oplog, never skipped.
 */
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { afterEach, describe, expect, it } from 'vitest';
import type { CommandOutput } from '../../engine/api/contract.js';
import { dispatch } from '../../engine/api/dispatch.js';
import { Engine } from '../../engine/engine.js';
import { listAlerts } from '../../engine/catalog/alerts.js';
import { listCoverage } from '../../engine/catalog/coverage.js';
import { getSourceByName } from '../../engine/catalog/sources.js';
import { readEntryTs } from '../../engine/repo/bson-entries.js';
import { compareOpTime, formatOpTime } from '../../engine/repo/optime.js';
import { Repository } from '../../engine/repo/repository.js';
import { readSegment } from '../../engine/repo/segment-file.js';
import { readJournal } from '../../engine/repo/journal-file.js';
import { newestOplogTs } from '../../engine/source/snapshot.js';
import { waitUntilCaptured } from '../support/capture-wait.js';
import { runTask } from '../support/run-task.js';
import { tempDir } from '../support/temp-dir.js';
import { MONGO_KIND, withMongo } from '../support/with-mongo.js';
import { entryArgs } from '../support/bundled-entry.js';

const root = join(import.meta.dirname, '..', '..');
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function newEngine(uri: string, capture: Record<string, number> = {}) {
  const dir = tempDir('mbm-journal-');
  cleanups.push(() => dir.remove());
  const dataDir = join(dir.path, 'data');
  const engine = Engine.open({
    dataDir,
    mode: 'headless',
    sourceTimeoutMs: 3000,
    capture: { awaitMs: 100, ...capture },
  });
  cleanups.push(() => engine.close());
  await engine.stores.attach(await Repository.init(join(dir.path, 'repo')));
  const added = await dispatch(engine, 'source.add', { name: 'rs', uri });
  if (!added.ok) throw new Error(added.error.message);
  const client = new MongoClient(uri);
  cleanups.push(() => client.close());
  return { engine, dataDir, client, row: getSourceByName(engine.catalog, 'rs') };
}

describe(`the capture journal (${MONGO_KIND})`, () => {
  it('restore to latest right after a write returns that write: status is never ahead of a restore', async () => {
    await withMongo(async ({ uri }) => {
      // The default policy: segments cut every 10 s, the journal fsynced every 200 ms.
      const { engine, client, row } = await newEngine(uri);
      const db = `latest_${Date.now()}`;
      const coll = client.db(db).collection('x');
      await coll.insertOne({ k: -1 });
      expect((await runTask(engine, 'snapshot.take', { source: 'rs' })).state).toBe('succeeded');
      const capture = await engine.capture.start(row);
      expect(capture.opts).toMatchObject({ segmentMaxMs: 10_000, journalFsyncMs: 200 });
      for (let k = 0; k < 3; k++) {
        await coll.insertOne({ k });
        const written = (await newestOplogTs(client))!;
        // As soon as status says the write is captured...
        const started = Date.now();
        for (;;) {
          const s = await dispatch(engine, 'source.status', { source: 'rs' });
          const c = (s as { result: CommandOutput<'source.status'> }).result.capture.capturedTs;
          if (c && compareOpTime(c, written) >= 0) break;
          if (Date.now() - started > 5000) throw new Error('the write was not reported captured within 5 s');
          await new Promise((r) => setTimeout(r, 10));
        }
        // ...a restore to latest reaches it, from the journal: no segment holds it yet.
        const plan = await dispatch(engine, 'restore.plan', { source: 'rs', at: 'latest' });
        const result = (plan as { result: CommandOutput<'restore.plan'> }).result as {
          replayThrough: { t: number; i: number };
          segments: { path: string }[];
        };
        expect(compareOpTime(result.replayThrough, written)).toBeGreaterThanOrEqual(0);
        expect(result.segments.at(-1)!.path).toMatch(/journal[\\/]\d+-\d+\.jnl$/);
        const target = `r${k}_${db}`;
        const task = await runTask(engine, 'restore.run', {
          source: 'rs',
          at: 'latest',
          targetUri: uri,
          include: [`${db}.*`],
          rename: [`${db}.$c$=${target}.$c$`],
        });
        expect(task.state, JSON.stringify(task.error)).toBe('succeeded');
        const got = await client
          .db(target)
          .collection('x')
          .find({}, { projection: { _id: 0 } })
          .toArray();
        expect(got).toEqual([{ k: -1 }, ...Array.from({ length: k + 1 }, (_, n) => ({ k: n }))]);
        await client.db(target).dropDatabase();
        // A point-in-time view at latest reads the same journal tail.
        const counted = await dispatch(engine, 'query.count', {
          source: 'rs',
          at: 'latest',
          ns: `${db}.x`,
          count: true,
        });
        expect(counted, JSON.stringify(counted)).toMatchObject({ ok: true, result: { count: k + 2 } });
      }
      // One document's history reaches the journal tail too.
      await coll.insertOne({ _id: 'h' as never, v: 1 });
      await coll.updateOne({ _id: 'h' as never }, { $set: { v: 2 } });
      await waitUntilCaptured(capture, client);
      const history = await dispatch(engine, 'history.get', { source: 'rs', ns: `${db}.x`, id: '"h"' });
      expect(history.ok, JSON.stringify(history)).toBe(true);
      const versions = (history as { result: CommandOutput<'history.get'> }).result.versions;
      expect(versions.map((v) => [v.op, v.after])).toEqual([
        ['insert', '{"_id":"h","v":1}'],
        ['update', '{"_id":"h","v":2}'],
      ]);
      expect(capture.metrics.segmentsWritten).toBe(0);
      expect(capture.metrics.journalCommits).toBeGreaterThan(0);
    });
  }, 60_000);

  it('a bit flip in a journal a crash left: sealed up to it, JOURNAL_DAMAGED, the rest read again from the source', async () => {
    await withMongo(async ({ uri }) => {
      const env = await newEngine(uri);
      await env.engine.close();
      const db = `flip_${Date.now()}`;
      const coll = env.client.db(db).collection('x');
      // A capturing engine (its own process) journals ten writes, one record each, then dies.
      const child = spawn(
        process.execPath,
        [...entryArgs('test/support/capture-worker.ts'), env.dataDir, 'rs', 'timer', '0', '600000'],
        { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      const exited = new Promise((r) => child.once('exit', r));
      let acked = '';
      let capturing = false;
      child.stdout.on('data', (d: Buffer) => {
        for (const l of d.toString().split('\n')) {
          const m = /^ack (\d+) (\d+)$/.exec(l);
          if (m) acked = `${m[1]}:${m[2]}`;
          if (l.startsWith('capturing')) capturing = true;
        }
      });
      const until = async (what: string, cond: () => boolean) => {
        const end = Date.now() + 20_000;
        while (!cond()) {
          if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
          await new Promise((r) => setTimeout(r, 10));
        }
      };
      await until('capturing', () => capturing);
      for (let n = 0; n < 10; n++) {
        await coll.insertOne({ n });
        const ts = formatOpTime((await newestOplogTs(env.client))!);
        await until(`ack of ${ts}`, () => acked === ts);
      }
      child.kill('SIGKILL');
      await exited;

      // Flip a byte inside the journal's last record (complete, so damage, not a torn tail).
      const engine = Engine.open({ dataDir: env.dataDir, mode: 'cli', readOnly: true });
      const repo = (await engine.stores.get()).repo;
      await engine.close();
      const jdir = join(repo.root, 'sources', env.row.id, 'journal');
      const names = readdirSync(jdir).filter((n) => n.endsWith('.jnl'));
      expect(names).toHaveLength(1);
      const before = readJournal(repo, join('sources', env.row.id, 'journal', names[0]!));
      expect(before).toMatchObject({ end: 'clean' });
      expect(before.payloads.length).toBeGreaterThanOrEqual(10);
      const buf = readFileSync(join(jdir, names[0]!));
      buf[buf.length - 40] = buf[buf.length - 40]! ^ 0x01;
      writeFileSync(join(jdir, names[0]!), buf);

      const again = Engine.open({
        dataDir: env.dataDir,
        mode: 'headless',
        capture: { segmentMaxMs: 200, awaitMs: 50 },
      });
      cleanups.push(() => again.close());
      const row = getSourceByName(again.catalog, 'rs');
      expect(listAlerts(again.catalog, { sourceId: row.id, open: true })).toEqual([]);
      const capture = await again.capture.start(row);
      await waitUntilCaptured(capture, env.client);
      await again.capture.stop(row.id);
      expect(listAlerts(again.catalog, { sourceId: row.id, open: true })).toContainEqual(
        expect.objectContaining({ kind: 'JOURNAL_DAMAGED', severity: 'critical' }),
      );
      expect(readdirSync(jdir).filter((n) => n.includes('.jnl.damaged-'))).toHaveLength(1);
      // Nothing lost, nothing twice, no gap: what followed the flip came again from the source.
      expect(listCoverage(again.catalog, row.id)).toMatchObject({ gaps: [], intervals: [expect.anything()] });
      const store = await again.stores.get();
      const paths = again.catalog
        .prepare('SELECT path FROM oplog_segments ORDER BY first_t, first_i')
        .pluck()
        .all() as string[];
      const entries: Buffer[] = [];
      for (const p of paths)
        for (const e of (await readSegment(store.repo, p)).entries) entries.push(Buffer.from(e));
      for (let k = 1; k < entries.length; k++)
        expect(compareOpTime(readEntryTs(entries[k]!), readEntryTs(entries[k - 1]!))).toBeGreaterThan(0);
      expect(entries.filter((e) => e.includes(Buffer.from(coll.namespace))).length).toBe(10);
    });
  }, 90_000);
});
