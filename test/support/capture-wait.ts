/** Waits until a capture has made the source's newest oplog entry durable. */
import type { MongoClient } from 'mongodb';
import type { CatalogDb } from '../../engine/catalog/open-catalog.js';
import { newestSegmentEnd } from '../../engine/catalog/segments.js';
import { newestOplogTs } from '../../engine/source/snapshot.js';
import type { OplogCapture } from '../../engine/source/oplog-capture.js';

export async function waitUntilCaptured(
  capture: OplogCapture,
  client: MongoClient,
  timeoutMs = 15_000,
): Promise<void> {
  const target = (await newestOplogTs(client))!;
  const end = Date.now() + timeoutMs;
  for (;;) {
    const c = capture.metrics.capturedTs;
    if (c && (c.t > target.t || (c.t === target.t && c.i >= target.i))) return;
    if (Date.now() > end) throw new Error(`capture did not reach ${target.t}:${target.i} in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Waits until the source's newest oplog entry is in a sealed segment recorded in the catalog, not
 * only durable in the capture journal: what reads sealed segments alone (the incident finder, a
 * secondary copy) sees it only then.
 */
export async function waitUntilSealed(
  catalog: CatalogDb,
  sourceId: string,
  client: MongoClient,
  timeoutMs = 15_000,
): Promise<void> {
  const target = (await newestOplogTs(client))!;
  const end = Date.now() + timeoutMs;
  for (;;) {
    const c = newestSegmentEnd(catalog, sourceId);
    if (c && (c.t > target.t || (c.t === target.t && c.i >= target.i))) return;
    if (Date.now() > end)
      throw new Error(`no segment sealed through ${target.t}:${target.i} in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
