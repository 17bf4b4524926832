/**
 * CRC-64/ECMA-182 in the reflected form Go's hash/crc64 computes with its
 * ECMA table (also known as CRC-64/XZ): the checksum mongodump writes in
 * each namespace's EOF header of an archive and mongorestore checks. No
 * maintained npm package computes this variant, so it is written here:
 * slicing-by-8 over two 32-bit halves (no BigInt on the hot path; Int32Array
 * tables so V8 keeps every value a small integer).
 */
const POLY_HI = 0xc96c5795 | 0;
const POLY_LO = 0xd7870f42 | 0;

/** T[k] (k = 0..7) as 8 x 256 entries, high and low halves. */
const HI = new Int32Array(8 * 256);
const LO = new Int32Array(8 * 256);
for (let n = 0; n < 256; n++) {
  let hi = 0;
  let lo = n;
  for (let k = 0; k < 8; k++) {
    const carry = lo & 1;
    lo = (lo >>> 1) | ((hi & 1) << 31);
    hi = hi >>> 1;
    if (carry) {
      hi ^= POLY_HI;
      lo ^= POLY_LO;
    }
  }
  HI[n] = hi;
  LO[n] = lo;
}
for (let k = 1; k < 8; k++) {
  for (let n = 0; n < 256; n++) {
    const ph = HI[(k - 1) * 256 + n]!;
    const pl = LO[(k - 1) * 256 + n]!;
    const idx = pl & 0xff;
    HI[k * 256 + n] = (ph >>> 8) ^ HI[idx]!;
    LO[k * 256 + n] = ((pl >>> 8) | (ph << 24)) ^ LO[idx]!;
  }
}

export class Crc64 {
  // The register, kept inverted as Go's implementation does between calls.
  private hi = -1;
  private lo = -1;

  update(buf: Uint8Array): this {
    let hi = this.hi;
    let lo = this.lo;
    let k = 0;
    const end8 = buf.length - (buf.length % 8);
    for (; k < end8; k += 8) {
      lo ^= buf[k]! | (buf[k + 1]! << 8) | (buf[k + 2]! << 16) | (buf[k + 3]! << 24);
      hi ^= buf[k + 4]! | (buf[k + 5]! << 8) | (buf[k + 6]! << 16) | (buf[k + 7]! << 24);
      const a = 7 * 256 + (lo & 0xff);
      const b = 6 * 256 + ((lo >>> 8) & 0xff);
      const c = 5 * 256 + ((lo >>> 16) & 0xff);
      const d = 4 * 256 + (lo >>> 24);
      const e = 3 * 256 + (hi & 0xff);
      const f = 2 * 256 + ((hi >>> 8) & 0xff);
      const g = 256 + ((hi >>> 16) & 0xff);
      const h = hi >>> 24;
      lo = LO[a]! ^ LO[b]! ^ LO[c]! ^ LO[d]! ^ LO[e]! ^ LO[f]! ^ LO[g]! ^ LO[h]!;
      hi = HI[a]! ^ HI[b]! ^ HI[c]! ^ HI[d]! ^ HI[e]! ^ HI[f]! ^ HI[g]! ^ HI[h]!;
    }
    for (; k < buf.length; k++) {
      const idx = (lo ^ buf[k]!) & 0xff;
      lo = ((lo >>> 8) | (hi << 24)) ^ LO[idx]!;
      hi = (hi >>> 8) ^ HI[idx]!;
    }
    this.hi = hi;
    this.lo = lo;
    return this;
  }

  /** The checksum as the 8 little-endian bytes of a BSON int64 (the archive stores it that way). */
  digestLE(): Buffer {
    const out = Buffer.alloc(8);
    out.writeUInt32LE(~this.lo >>> 0, 0);
    out.writeUInt32LE(~this.hi >>> 0, 4);
    return out;
  }

  /** The checksum as 16 hex digits (big-endian), for messages and tests. */
  hex(): string {
    return Buffer.from(this.digestLE()).reverse().toString('hex');
  }
}
