/**
 * Seals a run of segments with their encoding overlapped: while segment N is
 * written durably and recorded in the catalog, N+1 (and N+2) are already
 * being hashed, compressed and encrypted (the seal worker), so the worker is
 * not idle during fsyncs and catalog transactions, nor this thread during
 * compression. Commits stay strictly in order, one after the other, each only
 * once the one before it succeeded: a failure of N leaves nothing after N
 * written or recorded (the segments encoded ahead are dropped, never written),
 * so the chain and the catalog's order are exactly those of a loop.
 */

/**
 * Segments encoded ahead of the one being written: with three, the worker always has the next one
 * queued behind the one it compresses (a segment's seal step waits for its SHA-256 on this thread).
 */
const AHEAD = 3;

export async function runSealPipeline<T, P>(
  /** The next segment to seal, or undefined when there is none now (called in chain order). */
  next: () => T | undefined,
  /** The CPU work (no file written). */
  encode: (item: T) => Promise<P>,
  /** The durable write and the catalog transaction. */
  commit: (item: T, encoded: P) => Promise<void>,
): Promise<void> {
  const window: { item: T; encoded: Promise<P> }[] = [];
  // `next` refusing an item (entries out of order): what came before it is still committed.
  let refused: { err: unknown } | null = null;
  const fill = () => {
    while (!refused && window.length < AHEAD) {
      let item: T | undefined;
      try {
        item = next();
      } catch (err) {
        refused = { err };
        return;
      }
      if (item === undefined) return;
      const encoded = encode(item);
      // Awaited in order below; one failing while an earlier commit runs must not go unhandled.
      encoded.catch(() => undefined);
      window.push({ item, encoded });
    }
  };
  fill();
  while (window.length) {
    const head = window[0]!;
    const encoded = await head.encoded; // a failure stops here: nothing after it is written
    window.shift();
    const committing = commit(head.item, encoded);
    fill(); // encode what follows while this one is written (commit has run up to its first await)
    await committing;
  }
  if (refused) throw (refused as { err: unknown }).err;
}
