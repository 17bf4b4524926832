/**
 * The seal worker thread: hashes, compresses and encrypts oplog segments
 * (encodeSegmentSync) so that the thread reading the oplog and writing the
 * journal never waits for zstd. Started by seal-pool.ts; one message in, one
 * out, buffers transferred rather than copied.
 */
import { parentPort } from 'node:worker_threads';
import { encodeSegmentSync, type SegmentEncodeRequest } from './segment-file.js';

interface Request extends Omit<SegmentEncodeRequest, 'key' | 'payload'> {
  id: number;
  payload: Uint8Array;
  key: Uint8Array | null;
}

parentPort!.on('message', (req: Request) => {
  try {
    const { header, file } = encodeSegmentSync({
      header: req.header,
      compression: req.compression,
      payload: req.payload,
      key: req.key ? Buffer.from(req.key.buffer, req.key.byteOffset, req.key.byteLength) : null,
    });
    // One buffer of its own (never a slice of Node's shared pool), so it can be transferred.
    const total = file.reduce((n, p) => n + p.length, 0);
    const out = Buffer.allocUnsafeSlow(total);
    let off = 0;
    for (const p of file) off += p.copy(out, off);
    parentPort!.postMessage({ id: req.id, header, file: out }, [out.buffer]);
  } catch (err) {
    parentPort!.postMessage({ id: req.id, error: (err as Error).message });
  }
});
