/**
 * CRC-64/ECMA-182 in the reflected form Go's hash/crc64 computes with its
 * ECMA table (also known as CRC-64/XZ): the checksum mongodump writes in
 * each namespace's EOF header of an archive and mongorestore checks. No
 * maintained npm package computes this variant, so it is written here: a
 * table-driven loop over two 32-bit halves (no BigInt on the hot path).
 */
const POLY_HI = 0xc96c5795;
const POLY_LO = 0xd7870f42;

const TABLE_HI = new Uint32Array(256);
const TABLE_LO = new Uint32Array(256);
for (let n = 0; n < 256; n++) {
  let hi = 0;
  let lo = n;
  for (let k = 0; k < 8; k++) {
    const carry = lo & 1;
    lo = ((lo >>> 1) | ((hi & 1) << 31)) >>> 0;
    hi = hi >>> 1;
    if (carry) {
      hi = (hi ^ POLY_HI) >>> 0;
      lo = (lo ^ POLY_LO) >>> 0;
    }
  }
  TABLE_HI[n] = hi;
  TABLE_LO[n] = lo;
}

export class Crc64 {
  // The register, kept inverted as Go's implementation does between calls.
  private hi = 0xffffffff;
  private lo = 0xffffffff;

  update(buf: Uint8Array): this {
    let hi = this.hi;
    let lo = this.lo;
    for (let k = 0; k < buf.length; k++) {
      const idx = (lo ^ buf[k]!) & 0xff;
      lo = ((lo >>> 8) | (hi << 24)) ^ TABLE_LO[idx]!;
      hi = (hi >>> 8) ^ TABLE_HI[idx]!;
    }
    this.hi = hi >>> 0;
    this.lo = lo >>> 0;
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
    const le = this.digestLE();
    return Buffer.from(le).reverse().toString('hex');
  }
}
