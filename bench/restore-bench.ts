/**
 * `npm run bench -- restore`: a snapshot of N documents (~1 KB each) plus M
 * oplog entries restored into a stand-in running in its own process, so the
 * CPU of our engine and the CPU of the target are measured apart (the
 * stand-in's own speed says nothing about mongod's). Beside it, the anchor
 * from Percona Backup for MongoDB: 3 million documents logically in 90 s on
 * 6 cores, i.e. about 5,600 documents per second per core.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { dispatch } from '../engine/api/dispatch.js';
import { Engine } from '../engine/engine.js';
import { elements, subDocument } from '../engine/oplog/bson-raw.js';
import { readEntryTs } from '../engine/repo/bson-entries.js';
import { Repository } from '../engine/repo/repository.js';
import { OplogFactory } from '../test/support/oplog-factory.js';
import { tempDir } from '../test/support/temp-dir.js';

export interface RestoreBenchOptions {
  docs: number;
  entries: number;
  parallel: number;
  log: (m: string) => void;
}

const round = (n: number, d = 1) => Math.round(n * 10 ** d) / 10 ** d;
const PBM_DOCS_PER_CORE_SECOND = 3_000_000 / 90 / 6;
const ENTRIES_PER_SEGMENT = 10_000;

/** CPU seconds (user + system) a process has used, from /proc (Linux). */
function cpuSecondsOf(pid: number): number | null {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // utime, stime in clock ticks (100 Hz)
  } catch {
    return null;
  }
}

async function startStandinProcess(): Promise<{ uri: string; pid: number; stop: () => void }> {
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const child = spawn(
    process.execPath,
    // A million documents live in the stand-in's heap: room for them, or its GC pauses stall the restore.
    ['--max-old-space-size=16384', '--import', 'tsx', 'test/support/standin/main.ts', '--port', String(port)],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (b: Buffer) => {
      if (b.toString().includes('listening')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`stand-in exited with ${code}`)));
  });
  return {
    uri: `mongodb://127.0.0.1:${port}/?replicaSet=rs0`,
    pid: child.pid!,
    stop: () => child.kill('SIGTERM'),
  };
}

export async function runRestoreBench(o: RestoreBenchOptions) {
  const dir = tempDir('mbm-bench-restore-');
  const standin = await startStandinProcess();
  const engine = Engine.open({ dataDir: join(dir.path, 'data'), mode: 'cli' });
  try {
    const store = await engine.stores.attach(await Repository.init(join(dir.path, 'repo')));
    const sourceId = await store.ensureSource('bench-rs');
    const factory = new OplogFactory({ start: { t: 1_763_805_600, i: 1 }, perSecond: 5_000, docBytes: 1000 });

    o.log(`restore: writing a snapshot of ${o.docs} documents…`);
    // The snapshot's documents are the `o` of insert entries, so that the oplog's updates find them.
    const first = [factory.noop()];
    await store.appendSegment(sourceId, first, null);
    const startTs = readEntryTs(first[0]!);
    const w = store.beginSnapshot({ sourceId, startTs, serverVersion: '8.0.4' });
    const c = await w.collection({
      db: 'shop',
      name: 'orders',
      type: 'collection',
      uuid: null,
      options: {},
      indexes: [
        { v: 2, key: { _id: 1 }, name: '_id_' },
        { v: 2, key: { customer: 1 }, name: 'customer_1' },
      ],
    });
    let rawBytes = 0;
    for (let k = 0; k < o.docs; k++) {
      const entry = Buffer.from(factory.insert());
      const doc = subDocument(
        entry,
        elements(entry).find((e) => e.name === 'o')!,
      );
      rawBytes += doc.length;
      await c.write(doc);
    }
    w.add(await c.close());
    // The inserts above belong to the snapshot only: the oplog continues after them.
    const snapTip = factory.noop();
    await store.appendSegment(sourceId, [snapTip], store.chainTip(sourceId));
    await store.commitSnapshot(w, { consistentTs: readEntryTs(snapTip) });

    o.log(`restore: writing ${o.entries} oplog entries…`);
    for (let left = o.entries; left > 0; left -= ENTRIES_PER_SEGMENT)
      await store.appendSegment(
        sourceId,
        factory.mixed(Math.min(ENTRIES_PER_SEGMENT, left)),
        store.chainTip(sourceId),
      );

    o.log('restore: restoring into the stand-in…');
    // Each phase as it starts, with the time since the restore began (a stall shows where it is).
    let lastPhase = '';
    const unsubscribe = engine.events.subscribe((e) => {
      if (e.event !== 'task.progress' || e.payload.progress.message === lastPhase) return;
      lastPhase = e.payload.progress.message;
      o.log(`restore: +${round((performance.now() - t0) / 1000)} s ${lastPhase}`);
    });
    const engineCpu0 = process.cpuUsage();
    const targetCpu0 = cpuSecondsOf(standin.pid);
    const t0 = performance.now();
    const started = await dispatch(engine, 'restore.run', {
      source: 'bench-rs',
      at: 'latest',
      targetUri: standin.uri,
      parallel: o.parallel,
    });
    if (!started.ok) throw new Error(started.error.message);
    const task = await engine.tasks.wait((started.result as { taskId: string }).taskId);
    const wall = (performance.now() - t0) / 1000;
    unsubscribe();
    if (task.state !== 'succeeded') throw new Error(JSON.stringify(task.error));
    const cpu = process.cpuUsage(engineCpu0);
    const engineCpu = (cpu.user + cpu.system) / 1e6;
    const targetCpu = targetCpu0 === null ? null : cpuSecondsOf(standin.pid)! - targetCpu0;
    const report = task.result as {
      phases: { name: string; ms: number; engineCpuMs: number }[];
      oplog: { entries: number; operations: number };
      failures: { count: number };
    };
    const phase = (n: string) => (report.phases.find((p) => p.name === n)?.ms ?? 0) / 1000;
    const phaseCpu = (n: string) => (report.phases.find((p) => p.name === n)?.engineCpuMs ?? 0) / 1000;
    const copy = phase('copying documents');
    const replay = phase('replaying the oplog');
    return {
      documents: o.docs,
      snapshotMB: round(rawBytes / 1e6),
      oplogEntries: report.oplog.entries,
      failures: report.failures.count,
      seconds: {
        wall: round(wall, 2),
        copyingDocuments: round(copy, 2),
        buildingIndexes: round(phase('building indexes'), 2),
        replayingOplog: round(replay, 2),
        validating: round(wall - report.phases.reduce((s, p) => s + p.ms, 0) / 1000, 2),
      },
      rates: {
        documentsPerSecond: Math.round(o.docs / copy),
        oplogEntriesPerSecond: Math.round(report.oplog.entries / replay),
      },
      cpuSeconds: { engine: round(engineCpu, 2), target: targetCpu === null ? null : round(targetCpu, 2) },
      // Our side of the work, per phase: the engine's CPU; the rest of the phase's wall time is the target.
      engineCpuSeconds: {
        copyingDocuments: round(phaseCpu('copying documents'), 2),
        replayingOplog: round(phaseCpu('replaying the oplog'), 2),
      },
      documentsPerEngineCpuSecond: Math.round(o.docs / Math.max(0.001, phaseCpu('copying documents'))),
      oplogEntriesPerEngineCpuSecond: Math.round(
        report.oplog.entries / Math.max(0.001, phaseCpu('replaying the oplog')),
      ),
      anchor: {
        pbmDocumentsPerCoreSecond: Math.round(PBM_DOCS_PER_CORE_SECOND),
        note: 'Percona Backup for MongoDB: 3 GB (about 3 million documents) logically in 90 s on 6 cores.',
      },
    };
  } finally {
    await engine.close();
    standin.stop();
    dir.remove();
  }
}
