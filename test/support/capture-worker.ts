/**
 * Child process for the capture crash test: opens the engine on a data dir and captures one
 * source until it is killed, printing `ack t i` each time its durable tip (what it reports as
 * captured) moves. Usage: node --import tsx capture-worker.ts DATA_DIR SOURCE [MODE N [SEGMENT_MS]]
 *
 * MODE picks the instant of death, so that the test hits the two windows that matter:
 *  - `timer` (default): the parent kills it at a random moment;
 *  - `journal-write`: the Nth write to a journal file is cut in half and the process SIGKILLs
 *    itself (a torn record on disk);
 *  - `seal`: the Nth write of a segment file is cut in half, then SIGKILL (a torn temporary).
 * The cut goes through the repository's FileIo, the hook it has for write faults.
 *
 * With WAIT_FOR_GO=1 in its environment it loads everything and boots the seal worker, prints
 * `ready`, and opens the engine only once `go` arrives on stdin: the crash test starts the next
 * child while the current one captures, and sends `go` once the current one is dead (one writer).
 */
import { writeSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { Engine } from '../../engine/engine.js';
import { getSourceByName } from '../../engine/catalog/sources.js';
import { NODE_IO, type FileIo } from '../../engine/repo/durable-file.js';
import { prestartSealWorker } from '../../engine/repo/seal-pool.js';

const [dataDir, source, mode = 'timer', nText = '0', segmentMs = '100'] = process.argv.slice(2) as [
  string,
  string,
  string?,
  string?,
  string?,
];
if (process.env.WAIT_FOR_GO === '1') {
  prestartSealWorker();
  process.stdout.write('ready\n');
  await new Promise<void>((resolve) => {
    let input = '';
    process.stdin.on('data', (d: Buffer) => {
      input += d.toString();
      if (input.includes('go\n')) {
        process.stdin.pause();
        resolve();
      }
    });
  });
}
const engine = Engine.open({
  dataDir,
  mode: 'headless',
  capture: {
    segmentMaxMs: Number(segmentMs),
    journalFsyncMs: 20,
    awaitMs: 50,
    backoffMinMs: 50,
    backoffMaxMs: 200,
  },
});
const row = getSourceByName(engine.catalog, source);
const store = await engine.stores.get(row.repository_id);

let left = Number(nText);
const matches = (path: string) =>
  mode === 'journal-write' ? path.endsWith('.jnl') : mode === 'seal' ? path.includes('.seg.tmp-') : false;
const cutting: FileIo = {
  open: async (path, flags, fileMode) => {
    const fh = await NODE_IO.open(path, flags, fileMode);
    if (!matches(path)) return fh;
    const writev = fh.writev.bind(fh);
    fh.writev = ((buffers: NodeJS.ArrayBufferView[], position?: number) => {
      if (--left > 0) return writev(buffers, position);
      // Half of what this write holds reaches the file, then the process dies.
      const all = Buffer.concat(buffers.map((b) => Buffer.from(b.buffer, b.byteOffset, b.byteLength)));
      writeSync(fh.fd, all, 0, Math.max(1, Math.floor(all.length / 2)));
      process.stdout.write(`killing ${mode}\n`);
      process.kill(process.pid, 'SIGKILL');
      return new Promise(() => undefined);
    }) as FileHandle['writev'];
    return fh;
  },
  rename: NODE_IO.rename,
};
if (mode !== 'timer') store.repo.io = cutting;

const capture = await engine.capture.start(row);
let acked = '';
setInterval(() => {
  const c = capture.metrics.capturedTs;
  if (c && `${c.t} ${c.i}` !== acked) {
    acked = `${c.t} ${c.i}`;
    process.stdout.write(`ack ${acked}\n`); // synchronous on a pipe (Linux): the parent has it before any kill
  }
  if (capture.metrics.state === 'capturing')
    process.stdout.write(`capturing ${capture.metrics.segmentsWritten}\n`);
}, 5);
