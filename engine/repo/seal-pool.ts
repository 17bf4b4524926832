/**
 * Runs segment encoding (SHA-256, zstd or gzip, AES-256-GCM) in a worker
 * thread, so a slow seal never delays oplog reading or journaling
 * (DESIGN.md's budget: ingest off the thread that reads the oplog).
 *
 * The worker loads the same module as the engine: compiled `.js` in the
 * app, `.ts` under tsx and vitest, where the worker gets tsx's loader
 * (`--import tsx`) because a worker does not inherit vite's transform. One
 * worker per process is enough: capture seals one segment at a time per
 * source, and the machine budget is two cores. The worker is unref'd, so it
 * never keeps a process alive, and restarted when it dies.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { ApiError } from '../errors.js';
import type { SegmentEncodeRequest, SegmentEncoder, SegmentHeader } from './segment-file.js';

interface Pending {
  resolve: (v: { header: SegmentHeader; file: Buffer[] }) => void;
  reject: (e: Error) => void;
}

let worker: Worker | null = null;
let nextId = 1;
const pending = new Map<number, Pending>();

function failAll(err: Error): void {
  for (const p of pending.values()) p.reject(err);
  pending.clear();
}

/** tsx's ESM register() (its `import` condition, which createRequire cannot pick). */
function tsxApiUrl(from: string): string {
  const dir = dirname(createRequire(from).resolve('tsx/package.json'));
  return pathToFileURL(join(dir, 'dist', 'esm', 'api', 'index.mjs')).href;
}

function start(): Worker {
  const here = import.meta.url;
  const w = here.endsWith('.ts')
    ? // Under tsx or vitest: register tsx's loader in the worker, then load the TypeScript module.
      new Worker(
        `import(${JSON.stringify(tsxApiUrl(here))}).then((m) => m.register())` +
          `.then(() => import(${JSON.stringify(new URL('./seal-worker.ts', here).href)}))`,
        { eval: true },
      )
    : new Worker(new URL('./seal-worker.js', here));
  w.unref();
  w.on('message', (m: { id: number; header?: SegmentHeader; file?: Uint8Array; error?: string }) => {
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    if (m.error !== undefined) p.reject(new ApiError('INTERNAL', `sealing a segment: ${m.error}`));
    else
      p.resolve({
        header: m.header!,
        file: [Buffer.from(m.file!.buffer, m.file!.byteOffset, m.file!.byteLength)],
      });
    if (pending.size === 0) w.unref();
  });
  w.on('error', (err) => {
    worker = null;
    failAll(new ApiError('INTERNAL', `the seal worker failed: ${err.message}`));
  });
  w.on('exit', (code) => {
    if (worker === w) worker = null;
    failAll(new ApiError('INTERNAL', `the seal worker ended (exit code ${code}).`));
  });
  return w;
}

/**
 * Encodes in the worker. The payload's memory is handed over (transferred) when it owns its
 * buffer, so the caller must not use it afterwards.
 */
export const encodeSegmentInWorker: SegmentEncoder = (req: SegmentEncodeRequest) =>
  new Promise((resolve, reject) => {
    worker ??= start();
    worker.ref(); // work in flight: keep the process up until it is done
    const id = nextId++;
    pending.set(id, { resolve, reject });
    const p = req.payload;
    const owns =
      p.byteOffset === 0 && p.buffer.byteLength === p.byteLength && !(p.buffer instanceof SharedArrayBuffer);
    worker.postMessage(
      { id, header: req.header, compression: req.compression, payload: p, key: req.key },
      owns ? [p.buffer as ArrayBuffer] : [],
    );
  });

/** Ends the worker (tests, engine close); the next seal starts a new one. */
export async function stopSealWorker(): Promise<void> {
  const w = worker;
  worker = null;
  if (w) await w.terminate();
}
