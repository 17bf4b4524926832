/**
 * Which (collection, `_id`) a build's stage may hold operations for: a Bloom
 * filter of fixed size (4 MiB, allocated on first use), so that memory stays
 * the same however many operations are staged. It never answers "no" for an
 * `_id` it was given; a false "maybe" only makes an insert be staged instead
 * of written at once (the same outcome, a little more work). With 1,000,000
 * `_id`s held (a full stage) about 1 in 1,600 new `_id`s gets a false "maybe".
 */
const WORDS = 1 << 20; // 2^25 bits
const MASK = WORDS * 32 - 1;
const PROBES = 3;

export class StagedIds {
  private bits: Uint32Array | null = null;
  private held = 0;

  add(cid: number, id: Uint8Array): void {
    const bits = (this.bits ??= new Uint32Array(WORDS));
    let h = hash(cid, id);
    const step = (Math.imul(h, 0x9e3779b1) >>> 15) | 1;
    for (let p = 0; p < PROBES; p++, h = (h + step) | 0) bits[(h & MASK) >>> 5]! |= 1 << (h & 31);
    this.held++;
  }

  mayHold(cid: number, id: Uint8Array): boolean {
    if (this.held === 0 || !this.bits) return false;
    const bits = this.bits;
    let h = hash(cid, id);
    const step = (Math.imul(h, 0x9e3779b1) >>> 15) | 1;
    for (let p = 0; p < PROBES; p++, h = (h + step) | 0)
      if ((bits[(h & MASK) >>> 5]! & (1 << (h & 31))) === 0) return false;
    return true;
  }

  clear(): void {
    if (this.held === 0) return;
    this.bits!.fill(0);
    this.held = 0;
  }
}

/** FNV-1a over the collection number and the `_id`'s bytes, finished by a murmur3 mix. */
function hash(cid: number, id: Uint8Array): number {
  let h = (0x811c9dc5 ^ cid) >>> 0;
  for (let k = 0; k < id.length; k++) h = Math.imul(h ^ id[k]!, 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) | 0;
}
