/**
 * The seal worker thread: compresses and encrypts oplog segments so that the
 * thread reading the oplog and writing the journal never waits for zstd.
 * Started by seal-pool.ts. Two steps per segment, so that compression (the
 * bulk of the work) runs while the payload's SHA-256, which the header and
 * so the encryption need, is still being taken on the other thread:
 *   {op: 'compress', id, payload, compression}  -> {id}          (frames kept here)
 *   {op: 'seal', id, header, key}               -> {id, file}    (buffer transferred)
 */
import { parentPort } from 'node:worker_threads';
import { compressFrame, type CompressionSettings } from './compression.js';
import { EnvelopeEncoder, FileKind, frameChunks } from './envelope.js';
import type { SegmentHeader } from './segment-file.js';

type Message =
  | { op: 'compress'; id: number; payload: Uint8Array; compression: CompressionSettings }
  | { op: 'seal'; id: number; header: SegmentHeader; key: Uint8Array | null };

const pending = new Map<number, { compression: CompressionSettings; frames: Buffer[]; raw: number[] }>();

parentPort!.on('message', (m: Message) => {
  try {
    if (m.op === 'compress') {
      const chunks = frameChunks(m.payload);
      pending.set(m.id, {
        compression: m.compression,
        frames: chunks.map((c) => compressFrame(c, m.compression)),
        raw: chunks.map((c) => c.length),
      });
      parentPort!.postMessage({ id: m.id });
      return;
    }
    const job = pending.get(m.id);
    pending.delete(m.id);
    if (!job) throw new Error(`no compressed payload for segment ${m.id}`);
    const key = m.key ? Buffer.from(m.key.buffer, m.key.byteOffset, m.key.byteLength) : null;
    const enc = new EnvelopeEncoder(FileKind.OplogSegment, m.header, { compression: job.compression, key });
    const parts = [enc.preamble];
    job.frames.forEach((f, k) =>
      parts.push(...enc.compressedFrame(f, job.raw[k]!, k === job.frames.length - 1)),
    );
    // One buffer of its own (never a slice of Node's shared pool), so it can be transferred.
    const total = parts.reduce((n, p) => n + p.length, 0);
    const out = Buffer.allocUnsafeSlow(total);
    let off = 0;
    for (const p of parts) off += p.copy(out, off);
    parentPort!.postMessage({ id: m.id, file: out }, [out.buffer]);
  } catch (err) {
    pending.delete(m.id);
    parentPort!.postMessage({ id: m.id, error: (err as Error).message });
  }
});
