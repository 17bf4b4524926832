/**
 * The documents a raw cursor holds in its buffer (the rest of the reply it
 * last received), taken in one go as views of the reply's bytes.
 *
 * Why not `readBufferedDocuments()`: with `raw: true` the driver hands back
 * each document's bytes too, but only after building an OnDemandDocument for
 * each one, which walks all its top-level fields; at 5,000 oplog entries a
 * second that walk (and its garbage) cost capture more CPU than anything else
 * it does, for bytes the driver already holds. Here the reply's batch array
 * is walked once with our own checked element cursor (bson-raw.ts), from the
 * first document not taken yet, and the batch is then marked as taken.
 *
 * This reads the driver's CursorResponse, which it keeps on the cursor
 * (`documents`: `batch`, the reply's array as an OnDemandDocument with `bson`
 * and `offset`; `iterated`, how many were taken; `clear()`), internal to the
 * driver (mongodb 6.8 to 7.x). Anything that does not have that shape, does
 * not add up (the count of documents left), or holds an encrypted batch
 * gives null, and the caller takes the documents the public way: a driver
 * upgrade can make capture slower, never wrong. test/unit/raw-batch.test.ts
 * says whether the installed driver takes the fast way.
 */
import type { AbstractCursor } from 'mongodb';
import { ApiError } from '../errors.js';
import { ElementCursor, T, asBuffer, subDocument } from '../oplog/bson-raw.js';

interface DriverBatch {
  bson?: unknown;
  offset?: unknown;
}

interface DriverResponse {
  iterated?: unknown;
  batch?: DriverBatch;
  encryptedResponse?: unknown;
  clear?: unknown;
}

/**
 * The buffered documents of `cursor` (a `raw: true` cursor), now taken from it; null when they
 * could not be read this way (then none is taken: readBufferedDocuments() gives them).
 */
export function takeBufferedRaw(cursor: AbstractCursor): Uint8Array[] | null {
  const left = cursor.bufferedCount();
  if (left === 0) return [];
  const resp = (cursor as unknown as { documents?: DriverResponse }).documents;
  if (!resp || typeof resp !== 'object' || resp.encryptedResponse != null) return null;
  const { iterated, clear } = resp;
  if (typeof iterated !== 'number' || typeof clear !== 'function') return null;
  let batch: DriverBatch | undefined;
  try {
    batch = resp.batch; // a getter: the reply's firstBatch or nextBatch
  } catch {
    return null;
  }
  const bson = batch?.bson;
  const offset = batch?.offset;
  if (!(bson instanceof Uint8Array) || typeof offset !== 'number' || !Number.isInteger(offset)) return null;
  const docs: Uint8Array[] = [];
  try {
    const reply = asBuffer(bson);
    if (offset < 0 || offset + 4 > reply.length) return null;
    const array = reply.subarray(offset, offset + reply.readInt32LE(offset));
    const e = new ElementCursor(array); // checks every element's length, as a full parse would
    for (let k = 0; e.next(); k++) {
      if (e.type !== T.object) return null;
      if (k >= iterated) docs.push(subDocument(array, e));
    }
  } catch {
    return null; // not what it should be: the driver's way reports it
  }
  if (docs.length !== left) return null;
  (clear as () => void).call(resp);
  // Taken in part would lose or double entries: refuse (capture reads again from its durable tip).
  if (cursor.bufferedCount() !== 0)
    throw new ApiError('INTERNAL', 'The driver kept documents of a batch taken as a whole.');
  return docs;
}
