/**
 * The incident scan worker thread: scans the entries of one segment just
 * sealed, so that the finder's work (about as much CPU as compressing the
 * segment) runs beside capture and sealing instead of on the engine's thread.
 * Started by scan-pool.ts. One message per segment:
 *   {id, state, limits, payload, label} -> {id, state, upserts, removed, unreadable} | {id, error}
 * The state goes in and comes out as plain data; the finder stores the result.
 */
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { parentPort } from 'node:worker_threads';
import { splitBsonDocuments } from '../repo/bson-entries.js';
import { IncidentScanner, type ScanState, type Thresholds } from './incident-scanner.js';

interface Request {
  id: number;
  state: ScanState;
  limits: Thresholds;
  payload: Uint8Array;
  label: string;
}

/**
 * Below the other threads in the CPU's favour (Linux: a thread's nice value is its own, set through
 * its id): when the cores are busy, the seal worker and the engine's thread go first and the scan
 * catches up when they wait (its findings are stored a little later, never lost). Elsewhere the
 * worker runs at the process's priority. The worker does no I/O: a thread it started (libuv's
 * pool) would inherit the nice value.
 */
function lowerPriority(): void {
  if (process.platform !== 'linux') return;
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isSafeInteger(tid) && tid > 0) setPriority(tid, 10);
  } catch {
    // No /proc (a sandbox): the process's priority, as on other systems.
  }
}
lowerPriority();

parentPort!.on('message', (m: Request) => {
  try {
    const scanner = new IncidentScanner(m.state, m.limits);
    for (const e of splitBsonDocuments(m.payload, m.label)) scanner.push(e);
    scanner.compact();
    parentPort!.postMessage({
      id: m.id,
      state: scanner.state,
      upserts: scanner.changes.upserts,
      removed: scanner.changes.removed,
      unreadable: scanner.unreadable,
    });
  } catch (err) {
    parentPort!.postMessage({ id: m.id, error: (err as Error).message });
  }
});
