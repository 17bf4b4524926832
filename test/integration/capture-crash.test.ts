/**
 * SIGKILL of a capturing engine at 20 instants under load, a third of them at random moments, a
 * third in the middle of a journal record's write (a torn record on disk) and a third in the
 * middle of a segment's seal. After each death the next start recovers the journal and resumes.
 * At the end: every entry the engine acknowledged as captured before a kill is in the backup,
 * nothing twice, no gap, and the captured oplog is byte for byte the source's over its range.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { MongoClient, Timestamp } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { dispatch } from '../../engine/api/dispatch.js';
import { Engine } from '../../engine/engine.js';
import { listAlerts } from '../../engine/catalog/alerts.js';
import { listCoverage } from '../../engine/catalog/coverage.js';
import { getSourceByName } from '../../engine/catalog/sources.js';
import { readEntryTs } from '../../engine/repo/bson-entries.js';
import { compareOpTime, formatOpTime, type OpTime } from '../../engine/repo/optime.js';
import { Repository } from '../../engine/repo/repository.js';
import { readSegment } from '../../engine/repo/segment-file.js';
import { tempDir } from '../support/temp-dir.js';
import { waitUntilCaptured } from '../support/capture-wait.js';
import { bundleWorker } from '../support/bundle-worker.js';
import { MONGO_KIND, withMongo } from '../support/with-mongo.js';

const root = join(import.meta.dirname, '..', '..');
const RUNS = 20;
type Mode = 'timer' | 'journal-write' | 'seal';

interface RunResult {
  acked: OpTime[];
  killedAt: Mode;
}

/**
 * A capture child, started ahead of its turn: it loads the engine and boots its seal worker
 * while the child before it still captures (tsx's start-up is most of a run), and opens the
 * engine only once `go` is sent, after the one before it is dead.
 */
interface Prepared {
  child: ChildProcess;
  ready: Promise<void>;
  exited: Promise<NodeJS.Signals | null>;
  onLine: (line: string) => void;
  stderr: string;
}

function prepare(worker: string, dataDir: string, mode: Mode, n: number): Prepared {
  const child = spawn(process.execPath, [worker, dataDir, 'rs', mode, String(n)], {
    cwd: root,
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, WAIT_FOR_GO: '1' },
  });
  let isReady: () => void = () => undefined;
  const p: Prepared = {
    child,
    ready: new Promise<void>((resolve) => (isReady = resolve)),
    exited: new Promise((resolve) => child.once('exit', (_c, signal) => resolve(signal))),
    onLine: () => undefined,
    stderr: '',
  };
  let buf = '';
  child.stderr!.on('data', (d: Buffer) => (p.stderr += d.toString()));
  child.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    const lines = buf.split('\n');
    buf = lines.pop()!;
    for (const l of lines)
      if (l === 'ready') isReady();
      else p.onLine(l);
  });
  return p;
}

/** Lets a prepared child capture until it is killed; `onCapturing` once it captures (start the next). */
async function captureUntilKilled(
  p: Prepared,
  mode: Mode,
  ms: number,
  onCapturing: () => void,
): Promise<RunResult> {
  const acked: OpTime[] = [];
  let killedAt: Mode = 'timer';
  let timer: NodeJS.Timeout | null = null;
  p.onLine = (l) => {
    const m = /^ack (\d+) (\d+)$/.exec(l);
    if (m) acked.push({ t: Number(m[1]), i: Number(m[2]) });
    if (l === `killing ${mode}`) killedAt = mode;
    // The parent's own kill: at a random moment in timer mode, a fallback in the others.
    if (l.startsWith('capturing') && !timer) {
      timer = setTimeout(() => p.child.kill('SIGKILL'), ms);
      onCapturing();
    }
  };
  const dead = p.exited.then((signal) => {
    if (timer) clearTimeout(timer);
    if (signal !== 'SIGKILL') throw new Error(`capture worker ended by itself: ${p.stderr}`);
  });
  await Promise.race([p.ready, dead]);
  p.child.stdin!.write('go\n');
  await dead;
  return { acked, killedAt };
}

describe(`capture crash safety (${MONGO_KIND})`, () => {
  it(`every acknowledged entry survives ${RUNS} SIGKILLs (random, mid-journal-write, mid-seal) exactly once, without a gap`, async () => {
    // The child bundled once (test/support/bundle-worker.ts): it starts in well under a second.
    const bundle = await bundleWorker('test/support/capture-worker.ts');
    const worker = bundle.path;
    await withMongo(async ({ uri }) => {
      const dir = tempDir('mbm-capkill-');
      const dataDir = join(dir.path, 'data');
      const client = new MongoClient(uri);
      try {
        const setup = Engine.open({ dataDir, mode: 'cli' });
        await setup.stores.attach(await Repository.init(join(dir.path, 'repo')));
        const added = await dispatch(setup, 'source.add', { name: 'rs', uri });
        expect(added.ok).toBe(true);
        await setup.close();

        const coll = client.db(`kill_${Date.now()}`).collection('x');
        let written = 0;
        let writing = true;
        const writer = (async () => {
          while (writing) {
            await coll.insertMany(
              Array.from({ length: 5 }, (_, k) => ({ n: written + k, pad: 'x'.repeat(200) })),
            );
            written += 5;
            await new Promise((r) => setTimeout(r, 2));
          }
        })();
        const acked: OpTime[] = [];
        const kills: Record<Mode, number> = { timer: 0, 'journal-write': 0, seal: 0 };
        // Which write dies: a journal record a few commits in (20 ms apart), or one of the first seals.
        const plan = Array.from({ length: RUNS }, (_, run) => {
          const mode: Mode = (['timer', 'journal-write', 'seal'] as const)[run % 3]!;
          const n =
            mode === 'journal-write' ? 2 + Math.floor(Math.random() * 12) : 1 + Math.floor(Math.random() * 2);
          // The parent's kill: at a random moment; in the other modes only a safety net.
          const delay = mode === 'timer' ? 50 + Math.floor(Math.random() * 450) : 20_000;
          return { mode, n, delay };
        });
        let next: Prepared | null = prepare(worker, dataDir, plan[0]!.mode, plan[0]!.n);
        try {
          for (let run = 0; run < RUNS; run++) {
            const { mode, n, delay } = plan[run]!;
            // Prepared while the one before captured; not if that one died before it captured (a seal
            // of what the run before it left can be the write it was told to cut).
            const current: Prepared = next ?? prepare(worker, dataDir, mode, n);
            next = null;
            const r = await captureUntilKilled(current, mode, delay, () => {
              const following = plan[run + 1];
              if (following) next = prepare(worker, dataDir, following.mode, following.n);
            });
            acked.push(...r.acked);
            kills[r.killedAt]++;
          }
        } finally {
          (next as Prepared | null)?.child.kill('SIGKILL');
        }
        writing = false;
        await writer;
        // The windows that matter were hit, each time it was asked for.
        expect(kills).toEqual({ timer: 7, 'journal-write': 7, seal: 6 });
        expect(acked.length).toBeGreaterThan(RUNS);

        // A last, clean run recovers what the last kill left and catches up with everything written.
        const engine = Engine.open({
          dataDir,
          mode: 'headless',
          capture: { segmentMaxMs: 100, journalFsyncMs: 20, awaitMs: 50 },
        });
        try {
          const row = getSourceByName(engine.catalog, 'rs');
          const capture = await engine.capture.start(row);
          await waitUntilCaptured(capture, client);
          await engine.capture.stop(row.id);

          expect(listCoverage(engine.catalog, row.id)).toMatchObject({
            gaps: [],
            intervals: [expect.anything()],
          });
          // A SIGKILL never looks like damage: no journal set aside, no alert, nothing left unsealed.
          expect(listAlerts(engine.catalog, { sourceId: row.id }).map((a) => a.kind)).not.toContain(
            'JOURNAL_DAMAGED',
          );
          const store = await engine.stores.get();
          expect(readdirSync(store.repo.abs(join('sources', row.id, 'journal')))).toEqual([]);

          const paths = engine.catalog
            .prepare('SELECT path FROM oplog_segments ORDER BY first_t, first_i')
            .pluck()
            .all() as string[];
          const captured: Buffer[] = [];
          for (const p of paths)
            for (const e of (await readSegment(store.repo, p)).entries) captured.push(Buffer.from(e));
          // In strict ts order: nothing stored twice.
          for (let k = 1; k < captured.length; k++)
            expect(compareOpTime(readEntryTs(captured[k]!), readEntryTs(captured[k - 1]!))).toBeGreaterThan(
              0,
            );
          // Every entry acknowledged before a kill is there.
          const have = new Set(captured.map((e) => formatOpTime(readEntryTs(e))));
          const lost = acked.filter((a) => !have.has(formatOpTime(a)));
          expect(lost.map(formatOpTime), 'acknowledged entries lost').toEqual([]);
          // And the backup is the source's oplog over the captured range, entry for entry, byte for byte.
          const first = readEntryTs(captured[0]!);
          const last = readEntryTs(captured.at(-1)!);
          const onSource = (await client
            .db('local')
            .collection('oplog.rs')
            .find(
              {
                ts: {
                  $gte: new Timestamp({ t: first.t, i: first.i }),
                  $lte: new Timestamp({ t: last.t, i: last.i }),
                },
              },
              { raw: true, sort: { $natural: 1 } },
            )
            .toArray()) as unknown as Buffer[];
          expect(captured.length).toBe(onSource.length);
          for (let k = 0; k < onSource.length; k++)
            if (!captured[k]!.equals(Buffer.from(onSource[k]!)))
              throw new Error(`entry ${k} differs from the source's oplog`);
          const inserts = captured.filter((e) => e.includes(Buffer.from(coll.namespace))).length;
          expect(inserts).toBeGreaterThan(written / 2);
        } finally {
          await engine.close();
        }
      } finally {
        await client.close();
        dir.remove();
        bundle.remove();
      }
    });
  }, 180_000);
});
