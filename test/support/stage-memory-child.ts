/**
 * Child process of the stage memory test: `<view file>` runs each case's
 * pipeline over the view's collections (t.big: many ~9 KB documents, t.small:
 * a few) with the heap the parent gave it, reading the answers without
 * keeping them, and prints one JSON line per case: the documents out (or the
 * typed error) and the peak RSS so far (VmHWM).
 */
import type { Document } from 'bson';
import { openViewForRead } from '../../engine/catalog/view-store.js';
import { aggregateCursor } from '../../engine/views/query.js';
import { peakRssMB } from './peak-rss.js';
import { STAGE_CASES } from './stage-memory-cases.js';

const [file, only] = process.argv.slice(2);
const db = openViewForRead(file!, false);
const peakMB = peakRssMB;
for (const c of STAGE_CASES) {
  if (only && c.name !== only) continue;
  const t0 = Date.now();
  let out = 0;
  let bytes = 0;
  let error: { code: string; reason?: unknown } | null = null;
  try {
    for (const text of aggregateCursor(db, `t.${c.coll}`, c.pipeline as Document[], false)) {
      out++;
      bytes += text.length;
    }
  } catch (err) {
    const e = err as { code?: string; details?: { reason?: unknown }; message: string };
    if (!e.code) throw err;
    error = { code: e.code, reason: e.details?.reason };
  }
  process.stdout.write(
    `${JSON.stringify({ name: c.name, out, bytes, error, ms: Date.now() - t0, peakMB: peakMB() })}\n`,
  );
}
db.close();
