/**
 * Child process of the cursor memory test: `<dir> <docs> [docBytes]` writes a
 * source of N generated documents (~1 KB each, or docBytes) into a fresh data dir and
 * builds its view at latest, so that the CLI runs measured after it only
 * read.
 */
import { join } from 'node:path';
import { Engine } from '../../engine/engine.js';
import { Repository } from '../../engine/repo/repository.js';
import { pointView } from '../../engine/views/point-view.js';
import { writeViewSource } from './view-source.js';

const [dir, docs, docBytes] = process.argv.slice(2);
const engine = Engine.open({ dataDir: join(dir!, 'data'), mode: 'cli' });
const store = await engine.stores.attach(await Repository.init(join(dir!, 'repo')));
const sourceId = await store.ensureSource('mem-rs');
const src = await writeViewSource(store, sourceId, {
  docs: Number(docs),
  entries: 1,
  ...(docBytes ? { docBytes: Number(docBytes) } : {}),
});
const v = await pointView(engine, 'mem-rs', 'latest', { kind: 'latest' });
process.stdout.write(
  `${JSON.stringify({ snapshotMB: src.snapshotBytes / 1e6, documents: v.row.documents })}\n`,
);
await engine.close();
