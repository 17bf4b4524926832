/**
 * `npm run bench -- view`: point-in-time views. A snapshot of N documents
 * (~1 KB, indexed on `customer`) and M entries after it are written into a
 * repository; a child process (bench/view-child.ts, so its peak RSS is its
 * own) measures entries applied per second while a view is moved forward,
 * the time to build the view at latest from scratch, the time to the first
 * result of a find by _id and by the indexed field in a fresh engine, and
 * the history of one _id across the M entries. Targets (issue 13):
 * 100,000 entries/s, finds under 1 s, history under 1 s, at 1,000,000 + 1,000,000.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { Engine } from '../engine/engine.js';
import { Repository } from '../engine/repo/repository.js';
import { tempDir } from '../test/support/temp-dir.js';
import { writeViewSource } from '../test/support/view-source.js';

export interface ViewBenchOptions {
  docs: number;
  entries: number;
  log: (m: string) => void;
}

export async function runViewBench(o: ViewBenchOptions) {
  const dir = tempDir('mbm-bench-view-');
  try {
    const dataDir = join(dir.path, 'data');
    const engine = Engine.open({ dataDir, mode: 'cli' });
    const store = await engine.stores.attach(await Repository.init(join(dir.path, 'repo')));
    const sourceId = await store.ensureSource('bench-rs');
    o.log(`view: writing a snapshot of ${o.docs} documents and ${o.entries} entries…`);
    // The point: one hour after the snapshot, the entries spread over that hour.
    const src = await writeViewSource(store, sourceId, {
      docs: o.docs,
      entries: o.entries,
      entriesSpanSeconds: 3600,
      log: o.log,
    });
    await engine.close();
    o.log('view: building and querying (child process)…');
    const out = execFileSync(
      process.execPath,
      [
        // MBM_BENCH_CPU_PROF=DIR writes the child's CPU profile there (node refuses --cpu-prof in NODE_OPTIONS).
        ...(process.env.MBM_BENCH_CPU_PROF
          ? ['--cpu-prof', `--cpu-prof-dir=${process.env.MBM_BENCH_CPU_PROF}`]
          : []),
        '--import',
        'tsx',
        join(import.meta.dirname, 'view-child.ts'),
        dataDir,
      ],
      { encoding: 'utf8', maxBuffer: 1 << 20, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    return {
      snapshotDocuments: o.docs,
      snapshotMB: Math.round(src.snapshotBytes / 1e5) / 10,
      oplogEntries: o.entries,
      pointSecondsAfterSnapshot: src.factory.nextTs.t - src.snapshotConsistentT,
      ...(JSON.parse(out) as object),
      targets: { entriesPerSecond: 100_000, firstResultMs: 1000, historyMs: 1000 },
    };
  } finally {
    dir.remove();
  }
}
