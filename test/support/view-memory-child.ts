/**
 * Child process of the bounded-memory test, in two runs so that each peak is
 * its own: `write <dir> <docs> <entries>` writes a source of N documents and
 * M entries into a fresh data dir; `build <dir>` builds its view at latest
 * and prints the process's peak RSS (its VmHWM, support/peak-rss.ts) with the sizes.
 */
import { join } from 'node:path';
import { Engine } from '../../engine/engine.js';
import { Repository } from '../../engine/repo/repository.js';
import { pointView } from '../../engine/views/point-view.js';
import { peakRssMB } from './peak-rss.js';
import { writeViewSource } from './view-source.js';

const [mode, dir, docs, entries] = process.argv.slice(2);
const engine = Engine.open({ dataDir: join(dir!, 'data'), mode: 'cli' });
if (mode === 'write') {
  const store = await engine.stores.attach(await Repository.init(join(dir!, 'repo')));
  const sourceId = await store.ensureSource('mem-rs');
  const src = await writeViewSource(store, sourceId, { docs: Number(docs), entries: Number(entries) });
  process.stdout.write(`${JSON.stringify({ snapshotMB: src.snapshotBytes / 1e6 })}\n`);
} else {
  const baselineMB = peakRssMB();
  const t0 = performance.now();
  const v = await pointView(engine, 'mem-rs', 'latest', { kind: 'latest' });
  process.stdout.write(
    `${JSON.stringify({
      documents: v.row.documents,
      entriesApplied: v.row.entries_applied,
      viewFileMB: v.row.bytes / 1e6,
      baselineMB,
      buildSeconds: (performance.now() - t0) / 1000,
      maxRssMB: peakRssMB(),
    })}\n`,
  );
}
await engine.close();
