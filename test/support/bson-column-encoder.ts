/**
 * A small BSONColumn encoder for tests only, written from the format's
 * description (see engine/bson/bson-column.ts): literals, zig-zag deltas
 * (delta of deltas for ObjectId, Date, Timestamp) packed greedily into
 * base-selector Simple-8b blocks, skips, at most 16 blocks per control.
 * It is not mongod's encoder (it picks blocks its own way, one double
 * scale per column, no interleaved mode: the decoder's tests build that by
 * hand), but it uses every block kind: base and extended selectors (values
 * with trailing zeros) and run-length blocks, also first in a control. It
 * exists so that random columns can be decoded and compared with what was
 * put in.
 */

export interface Value {
  type: number;
  value: Buffer;
}

const MASK64 = (1n << 64n) - 1n;
const MASK128 = (1n << 128n) - 1n;
const BITS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 15, 20, 30, 60];
const PER_BLOCK = [0, 60, 30, 20, 15, 12, 10, 8, 7, 6, 5, 4, 3, 2, 1];
const SCALES = [1, 10, 100, 10000, 100000000];

export const zigzag64 = (x: bigint) => BigInt.asUintN(64, (x << 1n) ^ (BigInt.asIntN(64, x) >> 63n));
export const zigzag128 = (x: bigint) => BigInt.asUintN(128, (x << 1n) ^ (BigInt.asIntN(128, x) >> 127n));

/** One base-selector block of exactly PER_BLOCK[selector] values (null: a skip). */
export function block(selector: number, values: (bigint | null)[]): bigint {
  if (values.length !== PER_BLOCK[selector])
    throw new Error(`selector ${selector} holds ${PER_BLOCK[selector]}`);
  const bits = BigInt(BITS[selector]!);
  const ones = (1n << bits) - 1n;
  let w = BigInt(selector);
  let at = selector === 7 || selector === 8 ? 8n : 4n;
  for (const v of values) {
    if (v !== null && v >= ones) throw new Error(`${v} does not fit ${bits} bits`);
    w |= (v ?? ones) << at;
    at += bits;
  }
  return w;
}

/** A Simple-8b control (high nibble: 0x8 bits, 0x9-0xD scales) and its blocks. */
export function control(nibble: number, blocks: bigint[]): Buffer {
  if (blocks.length < 1 || blocks.length > 16) throw new Error('1 to 16 blocks per control');
  const out = Buffer.alloc(1 + 8 * blocks.length);
  out[0] = (nibble << 4) | (blocks.length - 1);
  blocks.forEach((b, k) => out.writeBigUInt64LE(b & MASK64, 1 + 8 * k));
  return out;
}

/** A literal: the type byte, an empty name, the value. */
export const literal = (v: Value): Buffer => Buffer.concat([Buffer.from([v.type, 0]), v.value]);

const leUint = (b: Buffer) => [...b].reverse().reduce((a, c) => (a << 8n) | BigInt(c), 0n);

function stringCode(v: Buffer): bigint | null {
  const s = v.subarray(4, v.length - 1);
  if (s.length > 16 || (s.length > 0 && s[0] === 0)) return null;
  return [...s].reduce((a, c) => (a << 8n) | BigInt(c), 0n);
}

/** The integer a value is delta-coded as (null: not delta-codable here). */
function code(v: Value, scale: number): bigint | null {
  switch (v.type) {
    case 0x01: {
      if (scale === 5) return v.value.readBigInt64LE(0);
      const x = v.value.readDoubleLE(0) * SCALES[scale]!;
      const r = Math.round(x);
      const back = Buffer.alloc(8);
      back.writeDoubleLE(r / SCALES[scale]!, 0);
      return Number.isSafeInteger(r) && back.equals(v.value) ? BigInt(r) : null;
    }
    case 0x02:
      return stringCode(v.value);
    case 0x07: {
      const b = v.value;
      return leUint(Buffer.from([b[11]!, b[3]!, b[10]!, b[2]!, b[9]!, b[1]!, b[0]!, 0]));
    }
    case 0x08:
      return BigInt(v.value[0]!);
    case 0x09:
    case 0x12:
      return v.value.readBigInt64LE(0);
    case 0x10:
      return BigInt(v.value.readInt32LE(0));
    case 0x11:
      return BigInt.asIntN(64, v.value.readBigUInt64LE(0));
    default:
      return null;
  }
}

const dod = (t: number) => t === 0x07 || t === 0x09 || t === 0x11;

/** Extended selectors for values with trailing zeros: [selector, extension, kind]. */
const EXTENDED: [number, number, number][] = [
  ...[1, 2, 3, 4, 5, 6, 7, 8, 9].map((e): [number, number, number] => [7, e, 1]),
  ...[1, 2, 3, 4, 5, 6, 7].map((e): [number, number, number] => [8, e, 2]),
  ...[8, 9, 10, 11, 12, 13].map((e): [number, number, number] => [8, e, 3]),
];
const EXT_BITS: Record<number, number[]> = {
  1: [0, 2, 3, 4, 5, 7, 10, 14, 24, 52],
  2: [0, 4, 5, 7, 10, 14, 24, 52],
  3: [0, 0, 0, 0, 0, 0, 0, 0, 4, 6, 9, 13, 23, 51],
};
const EXT_PER_BLOCK: Record<number, number[]> = {
  1: [0, 9, 8, 7, 6, 5, 4, 3, 2, 1],
  2: [0, 7, 6, 5, 4, 3, 2, 1],
  3: [0, 0, 0, 0, 0, 0, 0, 0, 6, 5, 4, 3, 2, 1],
};
const COUNT_BITS = [0, 4, 4, 5];
const PER_COUNT = [0, 1, 4, 4];

const trailingZeros = (v: bigint) => {
  let n = 0;
  for (; v > 0n && (v & 1n) === 0n; v >>= 1n) n++;
  return n;
};

/** An extended-selector block of `values`, or null when one of them does not fit it. */
function extendedBlock(
  selector: number,
  ext: number,
  kind: number,
  values: (bigint | null)[],
): bigint | null {
  const bits = BigInt(EXT_BITS[kind]![ext]!);
  const countBits = BigInt(COUNT_BITS[kind]!);
  const slotBits = bits + countBits;
  const ones = (1n << slotBits) - 1n;
  const maxCount = (1 << COUNT_BITS[kind]!) - 1;
  let w = BigInt(selector) | (BigInt(ext) << 4n);
  let at = 8n;
  for (const v of values) {
    let slot = ones;
    if (v !== null) {
      const count = Math.min(Math.floor(trailingZeros(v) / PER_COUNT[kind]!), maxCount);
      const stored = v >> BigInt(count * PER_COUNT[kind]!);
      if (stored >= 1n << bits) return null;
      slot = (stored << countBits) | BigInt(count);
      if (slot === ones) return null;
    }
    w |= slot << at;
    at += slotBits;
  }
  return w;
}

/** Whether some block can hold `z` (60 bits, or fewer with trailing zeros counted apart). */
const fitsABlock = (z: bigint) =>
  z < (1n << 60n) - 1n || EXTENDED.some(([s, e, k]) => extendedBlock(s, e, k, [z]) !== null);

export interface EncodeStats {
  rle: number;
  extended: number;
}

/**
 * Simple-8b blocks for `pending`: at each point the block that takes the
 * most values (base or extended selectors), or a run-length block when at
 * least 120 values repeat the last one (0 at the start, as after a literal).
 */
function packBlocks(pending: (bigint | null)[], stats?: EncodeStats): bigint[] {
  const blocks: bigint[] = [];
  let last: bigint | null = 0n;
  let i = 0;
  while (i < pending.length) {
    let run = 0;
    while (i + run < pending.length && pending[i + run] === last) run++;
    if (run >= 120) {
      const k = Math.min(16, Math.floor(run / 120));
      blocks.push(15n | (BigInt(k - 1) << 4n));
      if (stats) stats.rle++;
      i += 120 * k;
      continue;
    }
    let best: { w: bigint; n: number; ext: boolean } | null = null;
    for (let s = 1; s <= 14; s++) {
      const n = PER_BLOCK[s]!;
      if (n > pending.length - i || (best && best.n >= n)) continue;
      const ones = (1n << BigInt(BITS[s]!)) - 1n;
      const slice = pending.slice(i, i + n);
      if (slice.every((v) => v === null || v < ones)) best = { w: block(s, slice), n, ext: false };
    }
    for (const [selector, ext, kind] of EXTENDED) {
      const n = EXT_PER_BLOCK[kind]![ext]!;
      if (n > pending.length - i || (best && best.n >= n)) continue;
      const w = extendedBlock(selector, ext, kind, pending.slice(i, i + n));
      if (w !== null) best = { w, n, ext: true };
    }
    if (!best) throw new Error(`no block holds ${String(pending[i])}`);
    blocks.push(best.w);
    if (stats && best.ext) stats.extended++;
    i += best.n;
    last = pending[i - 1]!;
  }
  return blocks;
}

/**
 * Encodes `values` (null: missing). Doubles are taken at `scale` (index
 * 0-4 of ×1…×10⁸, 5: their bits); one that does not fit starts a literal.
 */
export function encodeColumn(values: (Value | null)[], scale = 5, stats?: EncodeStats): Buffer {
  const parts: Buffer[] = [];
  let base: Value | null = null;
  let baseCode: bigint | null = null;
  let prev = 0n;
  let prevDelta = 0n;
  let pending: (bigint | null)[] = [];
  const flush = () => {
    const blocks = packBlocks(pending, stats);
    const nibble = base?.type === 0x01 ? (scale === 5 ? 8 : 9 + scale) : 8;
    for (let k = 0; k < blocks.length; k += 16) parts.push(control(nibble, blocks.slice(k, k + 16)));
    pending = [];
  };
  for (const v of values) {
    if (v === null) {
      pending.push(null);
      continue;
    }
    const c = code(v, scale);
    // A double that is not exact at the column's scale cannot be the base of deltas.
    if (base && base.type === v.type && c !== null && (v.type !== 0x01 || baseCode !== null)) {
      const wide = v.type === 0x02;
      const delta = wide ? BigInt.asIntN(128, c - prev) : BigInt.asIntN(64, c - prev);
      const d = dod(v.type) ? BigInt.asIntN(64, delta - prevDelta) : delta;
      const z = wide ? zigzag128(d) & MASK128 : zigzag64(d);
      if (fitsABlock(z)) {
        pending.push(z);
        prev = c;
        prevDelta = delta;
        continue;
      }
    }
    flush();
    parts.push(literal(v));
    base = v;
    baseCode = c;
    prev = c ?? 0n;
    prevDelta = 0n;
  }
  flush();
  parts.push(Buffer.from([0]));
  return Buffer.concat(parts);
}
