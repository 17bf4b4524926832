/**
 * BSONColumn: the compressed column format of binary subtype 7, in which
 * MongoDB 5.2+ stores the `data.<field>` columns of time-series buckets
 * (control.version 2, and 3 for buckets that took out-of-order inserts).
 * Written from the format as MongoDB describes and implements it
 * (src/mongo/bson/column: README.md, bsoncolumn.cpp, simple8b*.h,
 * simple8b_type_util.cpp); this decoder shares no code with it.
 *
 * A column is a series of parts, each starting with a control byte:
 *  - a literal: the control byte is a BSON type (0x01-0x13, 0x7F maxKey,
 *    0xFF minKey) followed by an element with an empty name; it is the next
 *    value and the base for the deltas after it;
 *  - Simple-8b blocks: control 0x80-0xDF, high nibble the scale of doubles
 *    (0x8 the bits as an integer, 0x9 ×1, 0xA ×10, 0xB ×100, 0xC ×10⁴,
 *    0xD ×10⁸), low nibble the number of 8-byte blocks minus one. Each block
 *    packs zig-zag deltas (delta-of-delta for ObjectId, Date and Timestamp)
 *    from the previous value; an all-ones slot is a skip (a missing value);
 *    selector 15 repeats the previous delta 120 × n times;
 *  - interleaved mode (0xF0 legacy, 0xF1, 0xF2 for an array root): a
 *    reference object whose scalar leaves each get their own delta stream,
 *    the streams' controls following one another in the order the decoder
 *    needs them; it ends with a 0x00, then the column goes on;
 *  - 0x00 (EOO): the end of the column, which must be its last byte.
 *
 * Values come out as raw BSON (type and value bytes), never through
 * JavaScript numbers where precision could be lost: 64- and 128-bit
 * arithmetic is BigInt, wrapped as mongod's unsigned arithmetic wraps.
 * The reader is lazy (one value per call, a run of skips or repeats is a
 * counter, not an array): a crafted column that claims billions of values
 * costs only what its consumer asks of it, and every malformed input is an
 * INVALID_BSON error, never a read past the buffer or a loop that does not
 * advance.
 */
import { ApiError } from '../errors.js';
import { elements, subDocument, valueBytes } from '../oplog/bson-raw.js';

/** One value of a column: its BSON type and value bytes (as after an element's name). */
export interface ColumnValue {
  type: number;
  value: Buffer;
}

/** A value, `null` for a missing one (a skip), `undefined` after the last. */
export type ColumnRead = ColumnValue | null | undefined;

function bad(why: string): never {
  throw new ApiError('INVALID_BSON', `BSONColumn: ${why}`);
}

const MASK64 = (1n << 64n) - 1n;
const MASK128 = (1n << 128n) - 1n;

/* ---------------------------------------------------------------- Simple-8b */

// Per extension type (0 base selector, 1 selector 7 extended, 2 selector 8
// with 4 count bits, 3 selector 8 with 5 count bits), indexed by selector
// (base) or by the 4 extension bits (extended): bits of each value, and how
// many values a block holds. The extended forms keep a count of trailing
// zeros in each slot's low bits (×1 for selector 7, ×4 nibbles for 8).
const VALUE_BITS = [
  [0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 15, 20, 30, 60],
  [0, 2, 3, 4, 5, 7, 10, 14, 24, 52],
  [0, 4, 5, 7, 10, 14, 24, 52],
  [0, 0, 0, 0, 0, 0, 0, 0, 4, 6, 9, 13, 23, 51],
] as const;
const VALUES_PER_BLOCK = [
  [0, 60, 30, 20, 15, 12, 10, 8, 7, 6, 5, 4, 3, 2, 1],
  [0, 9, 8, 7, 6, 5, 4, 3, 2, 1],
  [0, 7, 6, 5, 4, 3, 2, 1],
  [0, 0, 0, 0, 0, 0, 0, 0, 6, 5, 4, 3, 2, 1],
] as const;
const COUNT_BITS = [0, 4, 4, 5] as const;
const ZEROS_PER_COUNT = [0, 1, 4, 4] as const;
const RLE_SELECTOR = 15;
const RLE_UNIT = 120;

/** The extension type of selector 7 or 8 for its 4 extension bits (-1: invalid). */
function extensionOf(selector: number, ext: number): number {
  if (selector === 7) return ext === 0 ? 0 : ext <= 9 ? 1 : -1;
  return ext === 0 ? 0 : ext <= 7 ? 2 : ext <= 13 ? 3 : -1;
}

/**
 * The values of a run of Simple-8b blocks, one at a time. `last` is the
 * value given out last: a run-length block repeats it, also when it is the
 * first block of a control (it then repeats the end of the previous one).
 */
class Simple8b {
  last: bigint | null;
  private pos: number;
  private readonly values: (bigint | null)[] = [];
  private at = 0;
  private repeats = 0;

  constructor(
    private readonly buf: Buffer,
    start: number,
    private readonly end: number,
    previous: bigint | null,
    private readonly wide: boolean,
  ) {
    this.pos = start;
    this.last = previous;
  }

  next(): bigint | null | undefined {
    if (this.repeats > 0) {
      this.repeats--;
      return this.last;
    }
    if (this.at < this.values.length) return (this.last = this.values[this.at++]!);
    if (this.pos >= this.end) return undefined;
    const word = this.buf.readBigUInt64LE(this.pos);
    this.pos += 8;
    const selector = Number(word & 0xfn);
    const ext = Number((word >> 4n) & 0xfn);
    if (selector === 0) bad('Simple-8b block with selector 0');
    if (selector === RLE_SELECTOR) {
      this.repeats = (ext + 1) * RLE_UNIT - 1;
      return this.last;
    }
    let kind = 0;
    let index = selector;
    let shift = 4;
    if (selector === 7 || selector === 8) {
      kind = extensionOf(selector, ext);
      if (kind < 0) bad(`Simple-8b selector ${selector} with invalid extension ${ext}`);
      if (kind !== 0) index = ext;
      shift = 8;
    }
    const countBits = COUNT_BITS[kind]!;
    const slotBits = BigInt(VALUE_BITS[kind]![index]! + countBits);
    const mask = (1n << slotBits) - 1n;
    const countMask = (1n << BigInt(countBits)) - 1n;
    const n = VALUES_PER_BLOCK[kind]![index]!;
    this.values.length = 0;
    let at = BigInt(shift);
    for (let k = 0; k < n; k++, at += slotBits) {
      const slot = (word >> at) & mask;
      if (slot === mask) {
        this.values.push(null); // all ones: a skip
        continue;
      }
      let zeros = Number(slot & countMask) * ZEROS_PER_COUNT[kind]!;
      if (!this.wide) zeros %= 64; // as mongod does for 64-bit streams
      const v = (slot >> BigInt(countBits)) << BigInt(zeros);
      this.values.push(v & (this.wide ? MASK128 : MASK64));
    }
    this.at = 1;
    return (this.last = this.values[0]!);
  }
}

/* ------------------------------------------------------- numeric encodings */

const T_DOUBLE = 0x01;
const T_STRING = 0x02;
const T_OBJECT = 0x03;
const T_ARRAY = 0x04;
const T_BINARY = 0x05;
const T_OID = 0x07;
const T_BOOL = 0x08;
const T_DATE = 0x09;
const T_CODE = 0x0d;
const T_CODE_W_SCOPE = 0x0f;
const T_INT32 = 0x10;
const T_TIMESTAMP = 0x11;
const T_INT64 = 0x12;
const T_DECIMAL = 0x13;

/** Types whose deltas are taken on 128 bits (strings and binaries of up to 16 bytes). */
const wideType = (t: number) => t === T_DECIMAL || t === T_BINARY || t === T_STRING || t === T_CODE;
/** Types that store a delta of deltas: values that grow by a near-constant step. */
const deltaOfDeltaType = (t: number) => t === T_OID || t === T_DATE || t === T_TIMESTAMP;

const SCALE_BITS = 5; // doubles taken as their 64 bits
const SCALE = [1, 10, 100, 10000, 100000000] as const;
/** The scale index of a Simple-8b control byte (-1: not a Simple-8b control). */
function scaleOf(control: number): number {
  const hi = control >> 4;
  return hi === 0x8 ? SCALE_BITS : hi >= 0x9 && hi <= 0xd ? hi - 0x9 : -1;
}

const unzigzag64 = (u: bigint) => BigInt.asIntN(64, (u >> 1n) ^ -(u & 1n));
const unzigzag128 = (u: bigint) => BigInt.asIntN(128, (u >> 1n) ^ -(u & 1n));

/** Little-endian unsigned integer of `b` (up to 16 bytes). */
function leUint(b: Uint8Array): bigint {
  let v = 0n;
  for (let k = b.length - 1; k >= 0; k--) v = (v << 8n) | BigInt(b[k]!);
  return v;
}
function leBytes(v: bigint, n: number): Buffer {
  const out = Buffer.alloc(n);
  let x = BigInt.asUintN(128, v);
  for (let k = 0; k < n; k++, x >>= 8n) out[k] = Number(x & 0xffn);
  return out;
}

/** The bits of a double as a signed 64-bit integer, from its bytes (NaN payloads kept). */
const doubleBits = (value: Buffer) => value.readBigInt64LE(0);

/**
 * A double as the integer mongod scales it to (×10^k), or null when that
 * scale does not give the exact same bits back (then a stream at this
 * scale cannot follow it).
 */
function encodeDouble(value: Buffer, scale: number): bigint | null {
  if (scale === SCALE_BITS) return doubleBits(value);
  const x = value.readDoubleLE(0);
  const m = SCALE[scale]!;
  const t = x * m;
  if (!(t >= -(2 ** 53) && t <= 2 ** 53)) return null;
  // llround: halves away from zero (Math.round takes them up).
  let r = Math.trunc(t);
  if (Math.abs(t - r) >= 0.5) r += Math.sign(t);
  const back = Buffer.alloc(8);
  back.writeDoubleLE(r / m, 0);
  return back.equals(value.subarray(0, 8)) ? BigInt(r) : null;
}

/** An ObjectId's timestamp and counter bytes rearranged so that its changing bytes are the low ones. */
function encodeObjectId(v: Buffer): bigint {
  return leUint(Buffer.from([v[11]!, v[3]!, v[10]!, v[2]!, v[9]!, v[1]!, v[0]!, 0]));
}
/** The ObjectId of an encoded value, with the 5 process-unique bytes of the one before. */
function decodeObjectId(encoded: bigint, previous: Buffer): Buffer {
  const b = leBytes(encoded, 8);
  const out = Buffer.alloc(12);
  out[0] = b[6]!;
  out[1] = b[5]!;
  out[2] = b[3]!;
  out[3] = b[1]!;
  previous.copy(out, 4, 4, 9);
  out[9] = b[4]!;
  out[10] = b[2]!;
  out[11] = b[0]!;
  return out;
}

/**
 * A string of up to 16 bytes as a number, its last byte lowest (where
 * strings that count up differ); 0 for strings that cannot be encoded
 * (longer, or starting with a NUL), as mongod takes them.
 */
function encodeString(value: Buffer): bigint {
  const s = value.subarray(4, value.length - 1);
  if (s.length > 16 || (s.length > 0 && s[0] === 0)) return 0n;
  let v = 0n;
  for (const c of s) v = (v << 8n) | BigInt(c);
  return v;
}
function decodeString(encoded: bigint): Buffer {
  let x = BigInt.asUintN(128, encoded);
  const bytes: number[] = [];
  for (; x > 0n; x >>= 8n) bytes.unshift(Number(x & 0xffn));
  const out = Buffer.alloc(4 + bytes.length + 1);
  out.writeInt32LE(bytes.length + 1, 0);
  out.set(bytes, 4);
  return out;
}

function encodeBinary(value: Buffer): bigint {
  const n = value.readInt32LE(0);
  return n > 16 ? 0n : leUint(value.subarray(5, 5 + n));
}

/* ----------------------------------------------------------------- literals */

const MAX_DEPTH = 200; // as deep as mongod lets BSON nest

/** The bytes of a length-prefixed document at `at`, checked against `end`. */
function documentAt(buf: Buffer, at: number, end: number): Buffer {
  if (at + 5 > end) bad('document runs past the column');
  const n = buf.readInt32LE(at);
  if (n < 5 || at + n > end) bad(`document of ${n} bytes at ${at} runs past the column`);
  const doc = buf.subarray(at, at + n);
  checkDocument(doc, 0);
  return doc;
}
function checkDocument(doc: Buffer, depth: number): void {
  if (depth > MAX_DEPTH) bad(`objects nested deeper than ${MAX_DEPTH}`);
  for (const e of elements(doc))
    if (e.type === T_OBJECT || e.type === T_ARRAY) checkDocument(subDocument(doc, e), depth + 1);
}

/** Length of a string-like value (int32 length, bytes, NUL) at `at`. */
function stringLength(buf: Buffer, at: number, end: number): number {
  if (at + 4 > end) bad('string runs past the column');
  const n = buf.readInt32LE(at);
  if (n < 1 || at + 4 + n > end || buf[at + 3 + n] !== 0) bad(`string of ${n} bytes at ${at}`);
  return 4 + n;
}

const FIXED_SIZE: Record<number, number> = {
  0x01: 8,
  0x06: 0,
  0x07: 12,
  0x08: 1,
  0x09: 8,
  0x0a: 0,
  0x10: 4,
  0x11: 8,
  0x12: 8,
  0x13: 16,
  0x7f: 0,
  0xff: 0,
};

/** The literal element at `at` (type, empty name, value) and its size. */
function readLiteral(buf: Buffer, at: number, end: number): { value: ColumnValue; size: number } {
  const type = buf[at]!;
  if (at + 2 > end) bad('literal runs past the column');
  // mongod reads a literal as an element with an empty name: anything else
  // would shift its value.
  if (buf[at + 1] !== 0) bad(`literal at ${at} has a field name`);
  const v = at + 2;
  let len = FIXED_SIZE[type];
  if (len === undefined) {
    if (type === T_STRING || type === T_CODE || type === 0x0e) len = stringLength(buf, v, end);
    else if (type === T_OBJECT || type === T_ARRAY) len = documentAt(buf, v, end).length;
    else if (type === T_BINARY) {
      if (v + 5 > end) bad('binary runs past the column');
      const n = buf.readInt32LE(v);
      if (n < 0 || v + 5 + n > end) bad(`binary of ${n} bytes at ${at}`);
      len = 5 + n;
    } else if (type === 0x0b) {
      const a = buf.indexOf(0, v);
      const b = a < 0 || a >= end ? -1 : buf.indexOf(0, a + 1);
      if (b < 0 || b >= end) bad('regular expression runs past the column');
      len = b + 1 - v;
    } else if (type === 0x0c) len = stringLength(buf, v, end) + 12;
    else if (type === T_CODE_W_SCOPE) bad('CodeWScope is not a valid BSONColumn element type');
    else bad(`literal of unknown BSON type 0x${type.toString(16)}`);
  }
  if (v + len > end) bad(`literal at ${at} runs past the column`);
  return { value: { type, value: buf.subarray(v, v + len) }, size: 2 + len };
}

const isLiteralControl = (c: number) => (c & 0xe0) === 0 || c === 0x7f || c === 0xff;
const isInterleavedStart = (c: number) => c === 0xf0 || c === 0xf1 || c === 0xf2;

/* ---------------------------------------------------------- decoding state */

/**
 * What one stream needs to turn its next delta into a value: the last value
 * and its encoded form, the current blocks. The regular column has one;
 * interleaved mode has one per scalar of the reference object.
 */
class Stream {
  last: ColumnValue | null = null;
  private wide = false;
  private dod = false;
  private encoded = 0n;
  private encodedDod = 0n;
  private scale = SCALE_BITS;
  private blocks: Simple8b | null = null;

  /** A literal: the new base of the deltas after it. */
  setLiteral(v: ColumnValue): void {
    if (v.type === T_CODE_W_SCOPE) bad('CodeWScope is not a valid BSONColumn element type');
    this.blocks = null;
    this.wide = wideType(v.type);
    this.dod = false;
    this.encoded = 0n;
    this.encodedDod = 0n;
    if (this.wide) {
      if (v.type === T_BINARY) this.encoded = encodeBinary(v.value);
      else if (v.type === T_DECIMAL) this.encoded = BigInt.asIntN(128, leUint(v.value));
      else this.encoded = encodeString(v.value);
    } else {
      this.dod = deltaOfDeltaType(v.type);
      const e =
        v.type === T_OID
          ? encodeObjectId(v.value)
          : v.type === T_DATE || v.type === T_INT64
            ? v.value.readBigInt64LE(0)
            : v.type === T_TIMESTAMP
              ? BigInt.asIntN(64, v.value.readBigUInt64LE(0))
              : v.type === T_INT32
                ? BigInt(v.value.readInt32LE(0))
                : v.type === T_BOOL
                  ? BigInt(v.value[0] ? 1 : 0)
                  : 0n;
      if (this.dod) this.encodedDod = e;
      else this.encoded = e;
    }
    this.last = v;
  }

  /** The next value of the current blocks; undefined when they are used up (or there are none). */
  nextDelta(): ColumnRead {
    if (!this.blocks) return undefined;
    const d = this.blocks.next();
    return d === undefined ? undefined : this.apply(d);
  }

  /** True when the current blocks still hold values (interleaved mode checks this on exit). */
  hasMore(): boolean {
    return this.blocks !== null && this.blocks.next() !== undefined;
  }

  /** The part at `at`: a literal, or Simple-8b blocks whose first value it returns. */
  load(buf: Buffer, at: number, end: number): { value: ColumnValue | null; size: number } {
    const control = buf[at]!;
    if (isLiteralControl(control)) {
      const lit = readLiteral(buf, at, end);
      this.setLiteral(lit.value);
      return lit;
    }
    const size = 8 * ((control & 0x0f) + 1);
    // mongod wants a byte (at least the final EOO) after the blocks.
    if (at + 1 + size >= end) bad(`Simple-8b control at ${at} runs past the column`);
    const scale = scaleOf(control);
    if (scale < 0) bad(`invalid control byte 0x${control.toString(16)} at ${at}`);
    if (this.wide || this.last?.type !== T_DOUBLE) {
      if (scale !== SCALE_BITS)
        bad(`control byte 0x${control.toString(16)} scales a value that is not a double`);
    } else {
      const e = encodeDouble(this.last.value, scale);
      if (e === null) bad(`double cannot be taken at the scale of control 0x${control.toString(16)}`);
      this.encoded = e;
    }
    this.scale = scale;
    const previous = this.blocks ? this.blocks.last : 0n;
    this.blocks = new Simple8b(buf, at + 1, at + 1 + size, previous, this.wide);
    return { value: this.apply(this.blocks.next()!), size: size + 1 };
  }

  private apply(d: bigint | null): ColumnValue | null {
    // A skip, or deltas with no value before them (a column starting with skips).
    if (d === null || this.last === null) return null;
    if (this.wide) {
      if (d === 0n) return this.last;
      this.encoded = BigInt.asIntN(128, this.encoded + unzigzag128(d));
      return (this.last = this.materialize128(this.last));
    }
    if (!this.dod && d === 0n) return this.last;
    this.encoded = BigInt.asIntN(64, this.encoded + unzigzag64(d));
    if (this.dod) this.encodedDod = BigInt.asIntN(64, this.encodedDod + this.encoded);
    return (this.last = this.materialize64(this.last));
  }

  private materialize64(last: ColumnValue): ColumnValue {
    const v = this.dod ? this.encodedDod : this.encoded;
    const out = Buffer.alloc(last.value.length);
    switch (last.type) {
      case T_DOUBLE:
        if (this.scale === SCALE_BITS) out.writeBigInt64LE(v, 0);
        else out.writeDoubleLE(Number(v) / SCALE[this.scale]!, 0);
        break;
      case T_OID:
        return { type: T_OID, value: decodeObjectId(v, last.value) };
      case T_DATE:
      case T_INT64:
        out.writeBigInt64LE(v, 0);
        break;
      case T_TIMESTAMP:
        out.writeBigUInt64LE(BigInt.asUintN(64, v), 0);
        break;
      case T_BOOL:
        out[0] = v !== 0n ? 1 : 0;
        break;
      case T_INT32:
        out.writeInt32LE(Number(BigInt.asIntN(32, v)), 0);
        break;
      default:
        bad(`a non-zero delta for a value of BSON type 0x${last.type.toString(16)}`);
    }
    return { type: last.type, value: out };
  }

  private materialize128(last: ColumnValue): ColumnValue {
    switch (last.type) {
      case T_STRING:
      case T_CODE:
        return { type: last.type, value: decodeString(this.encoded) };
      case T_BINARY: {
        const n = last.value.readInt32LE(0);
        if (n > 16) bad('delta on a binary longer than 16 bytes');
        const out = Buffer.alloc(5 + n);
        last.value.copy(out, 0, 0, 5); // length and subtype as before
        leBytes(this.encoded, n).copy(out, 5);
        return { type: T_BINARY, value: out };
      }
      case T_DECIMAL:
        return { type: T_DECIMAL, value: leBytes(this.encoded, 16) };
      default:
        bad(`a non-zero delta for a value of BSON type 0x${last.type.toString(16)}`);
    }
  }
}

/* --------------------------------------------------------- interleaved mode */

const ENTER = 0;
const SCALAR = 1;
const EXIT = 2;
type Entry =
  | { op: typeof ENTER | typeof EXIT; name: string; type: number; allowEmpty: boolean }
  | { op: typeof SCALAR; name: string; stream: number };

/** Sub-objects being rebuilt: their elements so far. */
interface Frame {
  name: string;
  type: number;
  allowEmpty: boolean;
  parts: Buffer[];
}

function element(type: number, name: string, value: Buffer): Buffer {
  const n = Buffer.from(name, 'utf8');
  const out = Buffer.alloc(1 + n.length + 1 + value.length);
  out[0] = type;
  n.copy(out, 1);
  value.copy(out, n.length + 2);
  return out;
}
function documentOf(parts: Buffer[]): Buffer {
  const size = 5 + parts.reduce((s, p) => s + p.length, 0);
  const out = Buffer.alloc(size);
  out.writeInt32LE(size, 0);
  let at = 4;
  for (const p of parts) at += p.copy(out, at);
  return out;
}

class Interleaved {
  readonly entries: Entry[] = [];
  readonly streams: Stream[] = [];
  /** The last object given out: what regular mode deltas from after the interleaved part. */
  lastObject: ColumnValue | null = null;

  constructor(
    reference: Buffer,
    readonly rootType: number,
    private readonly arrays: boolean,
  ) {
    this.discover(reference, '', rootType, elements(reference).length === 0);
    if (this.streams.length === 0) bad('interleaved reference object without scalar fields');
  }

  // A sub-object that is empty in the reference is kept when empty; any
  // other is left out of an object in which none of its fields has a value.
  private discover(doc: Buffer, name: string, type: number, allowEmpty: boolean): void {
    this.entries.push({ op: ENTER, name, type, allowEmpty });
    for (const e of elements(doc)) {
      const sub = e.type === T_OBJECT || (this.arrays && e.type === T_ARRAY);
      if (sub) {
        const d = subDocument(doc, e);
        this.discover(d, e.name, e.type, elements(d).length === 0);
      } else {
        const s = new Stream();
        s.setLiteral({ type: e.type, value: valueBytes(doc, e) });
        this.entries.push({ op: SCALAR, name: e.name, stream: this.streams.length });
        this.streams.push(s);
      }
    }
    this.entries.push({ op: EXIT, name, type, allowEmpty });
  }
}

/* ------------------------------------------------------------------ reader */

/** Reads the values of one BSONColumn binary (the data of a subtype-7 binary), lazily. */
export class BsonColumnReader {
  private pos = 0;
  private readonly end: number;
  private done = false;
  private regular = new Stream();
  private interleaved: Interleaved | null = null;

  constructor(private readonly buf: Buffer) {
    if (buf.length === 0) bad('empty column');
    this.end = buf.length;
  }

  next(): ColumnRead {
    if (this.done) return undefined;
    return this.interleaved ? this.nextObject(this.interleaved) : this.nextRegular();
  }

  private nextRegular(): ColumnRead {
    const d = this.regular.nextDelta();
    if (d !== undefined) return d;
    if (this.pos >= this.end) bad('column ends without EOO');
    const control = this.buf[this.pos]!;
    if (control === 0) {
      if (++this.pos !== this.end) bad(`EOO at ${this.pos - 1} before the end of the column`);
      this.done = true;
      return undefined;
    }
    if (isInterleavedStart(control)) return this.nextObject(this.startInterleaved(control));
    const r = this.regular.load(this.buf, this.pos, this.end);
    this.pos += r.size;
    return r.value;
  }

  private startInterleaved(control: number): Interleaved {
    const reference = documentAt(this.buf, this.pos + 1, this.end);
    const mode = new Interleaved(reference, control === 0xf2 ? T_ARRAY : T_OBJECT, control !== 0xf0);
    this.pos += 1 + reference.length;
    if (this.pos >= this.end || this.buf[this.pos] === 0) bad('interleaved mode without an object');
    return (this.interleaved = mode);
  }

  /** The next object of interleaved mode, or (at its end) the next regular value. */
  private nextObject(mode: Interleaved): ColumnRead {
    const stack: Frame[] = [];
    let root: ColumnValue | null = null;
    for (const entry of mode.entries) {
      if (entry.op === ENTER) {
        stack.push({ name: entry.name, type: entry.type, allowEmpty: entry.allowEmpty, parts: [] });
      } else if (entry.op === SCALAR) {
        const s = mode.streams[entry.stream]!;
        let v = s.nextDelta();
        if (v === undefined) {
          if (this.pos >= this.end) bad('interleaved mode runs past the column');
          if (this.buf[this.pos] === 0) {
            // The end of interleaved mode: only between objects, with every stream used up.
            this.pos++;
            if (entry.stream !== 0) bad('interleaved mode ends inside an object');
            for (let k = 1; k < mode.streams.length; k++)
              if (mode.streams[k]!.hasMore()) bad('interleaved mode ends with values left in a stream');
            this.interleaved = null;
            this.regular = new Stream();
            this.regular.last = mode.lastObject;
            return this.nextRegular();
          }
          const r = s.load(this.buf, this.pos, this.end);
          this.pos += r.size;
          v = r.value;
        }
        if (v !== null) stack[stack.length - 1]!.parts.push(element(v.type, entry.name, v.value));
      } else {
        const f = stack.pop()!;
        if (!f.allowEmpty && f.parts.length === 0) continue; // none of its fields has a value
        const doc = documentOf(f.parts);
        if (stack.length === 0) root = { type: f.type, value: doc };
        else stack[stack.length - 1]!.parts.push(element(f.type, f.name, doc));
      }
    }
    return (mode.lastObject = root);
  }
}

/** All values of a column, refusing one of more than `limit` values (bounded memory). */
export function decodeColumn(column: Buffer, limit: number): (ColumnValue | null)[] {
  const r = new BsonColumnReader(column);
  const out: (ColumnValue | null)[] = [];
  for (let v = r.next(); v !== undefined; v = r.next()) {
    if (out.length >= limit) bad(`column holds more than ${limit} values`);
    out.push(v);
  }
  return out;
}
