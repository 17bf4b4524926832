/**
 * Runs the incident scan of a segment just sealed in a worker thread of its
 * own (scan-worker.ts), so that it never holds up the engine's thread, which
 * reads the oplog, commits the journal and writes segments. One worker per
 * process (the machine budget is two cores; the finder scans one segment at a
 * time per source), unref'd so that it never keeps a process alive, and
 * restarted when it dies. A payload in shared memory (the segment's, see
 * concatShared) reaches the worker without a copy.
 */
import type { Worker } from 'node:worker_threads';
import { startModuleWorker } from '../module-worker.js';
import type { ScanChanges, ScanState, Thresholds } from './incident-scanner.js';

export interface SegmentScanResult {
  state: ScanState;
  changes: ScanChanges;
  unreadable: number;
}

interface Reply {
  id: number;
  error?: string;
  state?: ScanState;
  upserts?: ScanChanges['upserts'];
  removed?: ScanChanges['removed'];
  unreadable?: number;
}

let worker: Worker | null = null;
let nextId = 1;
const pending = new Map<number, { resolve: (r: SegmentScanResult) => void; reject: (e: Error) => void }>();

function failAll(err: Error): void {
  for (const p of pending.values()) p.reject(err);
  pending.clear();
}

function start(): Worker {
  const w = startModuleWorker(import.meta.url, 'scan-worker');
  w.unref();
  w.on('message', (m: Reply) => {
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    if (m.error !== undefined) p.reject(new Error(m.error));
    else
      p.resolve({
        state: m.state!,
        changes: { upserts: m.upserts!, removed: m.removed! },
        unreadable: m.unreadable!,
      });
    if (pending.size === 0) w.unref();
  });
  w.on('error', (err) => {
    if (worker === w) worker = null;
    failAll(new Error(`the incident scan worker failed: ${err.message}`));
  });
  w.on('exit', (code) => {
    if (worker === w) worker = null;
    failAll(new Error(`the incident scan worker ended (exit code ${code})`));
  });
  return w;
}

/**
 * Starts the worker now if it is not running, so that its boot (module loading, most of a second
 * of CPU under tsx) happens while capture waits for its first segment, not during that seal.
 */
export function prestartScanWorker(): void {
  worker ??= start();
}

/** Scans one segment's payload (its entries, concatenated) from `state`, in the worker. */
export function scanPayloadInWorker(
  state: ScanState,
  limits: Thresholds,
  payload: Uint8Array,
  label: string,
): Promise<SegmentScanResult> {
  return new Promise((resolve, reject) => {
    worker ??= start();
    worker.ref(); // a scan in flight: keep the process up until it is done
    const id = nextId++;
    pending.set(id, { resolve, reject });
    worker.postMessage({ id, state, limits, payload, label });
  });
}
