/**
 * Runs segment encoding (zstd or gzip, AES-256-GCM) in a worker thread, so a
 * slow seal never delays oplog reading or journaling (DESIGN.md's budget:
 * ingest off the thread that reads the oplog), with the payload's SHA-256
 * taken on the calling thread meanwhile, or before (capture hashes each
 * journal record as it commits it).
 *
 * The worker loads the same module as the engine (module-worker.ts). One
 * worker per process is enough: capture seals one segment at a time per
 * source, and the machine budget is two cores. The worker is unref'd, so it
 * never keeps a process alive, and restarted when it dies.
 */
import { createHash } from 'node:crypto';
import type { Worker } from 'node:worker_threads';
import { startModuleWorker } from '../module-worker.js';
import { ApiError } from '../errors.js';
import type { SegmentEncodeRequest, SegmentEncoder, SegmentHeader } from './segment-file.js';

interface Pending {
  resolve: (file: Uint8Array | null) => void;
  reject: (e: Error) => void;
}

let worker: Worker | null = null;
let nextId = 1;
const pending = new Map<number, Pending>();

function failAll(err: Error): void {
  for (const p of pending.values()) p.reject(err);
  pending.clear();
}

function start(): Worker {
  const w = startModuleWorker(import.meta.url, 'seal-worker');
  w.unref();
  w.on('message', (m: { id: number; file?: Uint8Array; error?: string }) => {
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    if (m.error !== undefined) p.reject(new ApiError('INTERNAL', `sealing a segment: ${m.error}`));
    else p.resolve(m.file ?? null);
    if (pending.size === 0) w.unref();
  });
  w.on('error', (err) => {
    if (worker === w) worker = null;
    failAll(new ApiError('INTERNAL', `the seal worker failed: ${err.message}`));
  });
  w.on('exit', (code) => {
    if (worker === w) worker = null;
    failAll(new ApiError('INTERNAL', `the seal worker ended (exit code ${code}).`));
  });
  return w;
}

/**
 * Starts the worker now if it is not running, so that the first seal does not wait for it to boot
 * (a second or so under tsx): capture calls it when it starts.
 */
export function prestartSealWorker(): void {
  worker ??= start();
}

function ask(id: number, message: object, transfer: ArrayBuffer[] = []): Promise<Uint8Array | null> {
  return new Promise((resolve, reject) => {
    worker ??= start();
    worker.ref(); // work in flight: keep the process up until it is done
    pending.set(id, { resolve, reject });
    worker.postMessage(message, transfer);
  });
}

/** The payload in memory the worker can read while this thread hashes it (no copy when it is shared already). */
function shared(p: Uint8Array): Uint8Array {
  if (p.buffer instanceof SharedArrayBuffer) return p;
  const s = new Uint8Array(new SharedArrayBuffer(p.byteLength));
  s.set(p);
  return s;
}

/**
 * Encodes a segment in the worker: the worker compresses while this thread takes the payload's
 * SHA-256 (unless the caller has it already), then the worker writes the header and encrypts.
 * Compression, the bulk of the work, is thus never on this thread, and hashing overlaps it.
 */
export const encodeSegmentInWorker: SegmentEncoder = async (req: SegmentEncodeRequest) => {
  const id = nextId++;
  const payload = shared(req.payload);
  const compressed = ask(id, { op: 'compress', id, payload, compression: req.compression });
  const payloadSha256 = req.payloadSha256 ?? createHash('sha256').update(payload).digest('hex');
  await compressed;
  const header: SegmentHeader = { ...req.header, payloadSha256 };
  const file = (await ask(id, { op: 'seal', id, header, key: req.key }))!;
  return { header, file: [Buffer.from(file.buffer, file.byteOffset, file.byteLength)] };
};
