/**
 * The BSONColumn decoder (binary subtype 7, engine/bson/bson-column.ts):
 * columns written by mongod itself (retyped from MongoDB's own tests, cited
 * per case), hand-built columns for every encoding (literals, deltas and
 * deltas of deltas, double scales, extended selectors, run-length blocks,
 * skips, interleaved objects in all three control bytes), random columns
 * from a test-only encoder, and broken or hostile input: a typed error,
 * never a crash, a hang or an allocation the column only claims.
 */
import { Decimal128, Long, ObjectId, Timestamp, serialize } from 'bson';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../engine/errors.js';
import { BsonColumnReader, decodeColumn, type ColumnValue } from '../../engine/bson/bson-column.js';
import {
  block,
  control,
  encodeColumn,
  literal,
  zigzag128,
  zigzag64,
  type Value,
} from '../support/bson-column-encoder.js';

const b64 = (s: string) => Buffer.from(s, 'base64');
const hex = (v: ColumnValue | null) =>
  v === null ? null : `${v.type.toString(16)}:${v.value.toString('hex')}`;
const all = (col: Buffer, limit = 100_000) => decodeColumn(col, limit).map(hex);

/** The value bytes of a single BSON value, as `serialize` writes it under the name "v". */
function val(v: unknown): Value {
  const doc = serialize({ v });
  const type = doc[4]!;
  return { type, value: Buffer.from(doc.subarray(7, doc.length - 1)) };
}
const enc = (v: unknown) => hex(val(v));
const int32 = (n: number): Value => {
  const b = Buffer.alloc(4);
  b.writeInt32LE(n);
  return { type: 0x10, value: b };
};
const int64 = (n: bigint): Value => {
  const b = Buffer.alloc(8);
  b.writeBigInt64LE(n);
  return { type: 0x12, value: b };
};
const dbl = (x: number): Value => {
  const b = Buffer.alloc(8);
  b.writeDoubleLE(x);
  return { type: 0x01, value: b };
};
const date = (ms: number): Value => int64AsType(0x09, BigInt(ms));
const int64AsType = (type: number, n: bigint): Value => ({ type, value: int64(n).value });
const col = (...parts: Buffer[]) => Buffer.concat([...parts, Buffer.from([0])]);
/** A selector-14 block (one 60-bit value), the simplest way to write one delta. */
const one = (z: bigint | null) => block(14, [z]);

function refusalOf(f: () => unknown): ApiError {
  try {
    f();
  } catch (e) {
    if (e instanceof ApiError) return e;
    throw new Error(`not a typed error: ${String(e)}`);
  }
  throw new Error('no error');
}

describe('columns written by mongod', () => {
  it('decodes the time and _id columns of a bucket after a second insert (the oplog binary diff applied)', () => {
    // mongodb/mongo jstests/change_streams/timeseries.js: two inserts of {_id: 1, ts: new Date(1000)}; the
    // bucket is inserted with these columns, then updated with {o: 10, d: <bytes>} at the old EOO.
    const ts = b64('CQDoAwAAAAAAAAA=');
    const id = b64('AQAAAAAAAADwPwA=');
    expect(all(ts)).toEqual([hex(date(1000))]);
    expect(all(id)).toEqual([hex(dbl(1))]);
    const ts2 = Buffer.concat([ts.subarray(0, 10), b64('gA4AAAAAAAAAAA==')]);
    const id2 = Buffer.concat([id.subarray(0, 10), b64('kA4AAAAAAAAAAA==')]);
    expect(all(ts2)).toEqual([hex(date(1000)), hex(date(1000))]);
    expect(all(id2)).toEqual([hex(dbl(1)), hex(dbl(1))]);
  });

  it('decodes a column of 1000 measurements of 2.0 (a run-length block first after the literal)', () => {
    // mongodb/mongo jstests (validate with checkBSONConformance): "one valid BSON Column".
    const c = b64('AQAAAAAAAAAAQJN/AAAAAAAAAAIAAAAAAAAABwAAAAAAAAAOAAAAAAAAAAA=');
    const got = all(c);
    expect(got).toHaveLength(1000);
    expect(new Set(got)).toEqual(new Set([hex(dbl(2))]));
  });

  it('decodes Date, double and ObjectId columns of a two-measurement bucket', () => {
    // mongodb/mongo jstests: a v2 bucket {t, a, _id} of count 2 (the test then corrupts "a").
    expect(all(b64('CQAYhggUjQEAAIAOAAAAAAAAAAA='))).toEqual([
      hex(date(0x18d14088618)),
      hex(date(0x18d14088618)),
    ]);
    expect(all(b64('AQAAAAAAAAAAAJAuAAAAAAAAAAA='))).toEqual([hex(dbl(0)), hex(dbl(1))]);
    expect(all(b64('BwBlpuun5tLoSOCMN1CALgAAAAAAAAAA'))).toEqual([
      enc(new ObjectId('65a6eba7e6d2e848e08c3750')),
      enc(new ObjectId('65a6eba7e6d2e848e08c3751')),
    ]);
  });

  it('decodes single literals of ObjectId, Date and string', () => {
    // mongodb/mongo jstests: buckets of one measurement (an unknown-field test, an FCV upgrade test).
    expect(all(b64('BwBk3UrposROddEVEoUA'))).toEqual([enc(new ObjectId('64dd4ae9a2c44e75d1151285'))]);
    expect(all(b64('CQAVoWwAigEAAAA='))).toEqual([enc(new Date('2023-08-16T22:17:13.749Z'))]);
    expect(all(b64('AgALAAAAcHJlVXBncmFkZQAA'))).toEqual([enc('preUpgrade')]);
    expect(all(b64('AgAEAAAAZm9vAAA='))).toEqual([enc('foo')]);
  });
});

describe('hand-built columns, one encoding each', () => {
  it('int32 deltas with a skip, in a 12-bit block of five', () => {
    const c = col(literal(int32(5)), control(8, [block(10, [2n, 4n, 0n, null, zigzag64(-10n)])]));
    expect(all(c)).toEqual([5, 6, 8, 8, null, -2].map((n) => (n === null ? null : hex(int32(n)))));
  });

  it('int64 beyond 2^53 exactly, and wrapping as mongod does', () => {
    const big = 2n ** 53n + 1n;
    const c = col(
      literal(int64(big)),
      control(8, [block(13, [zigzag64(2n), zigzag64(-1n)])]),
      literal(int64(2n ** 63n - 1n)),
      control(8, [one(zigzag64(1n))]),
    );
    expect(all(c)).toEqual([big, big + 2n, big + 1n, 2n ** 63n - 1n, -(2n ** 63n)].map((n) => hex(int64(n))));
  });

  it('doubles at each scale, and as their bits', () => {
    // ×10 (0xA): 1.5 is 15, +1 → 16/10, +1 → 17/10.
    expect(all(col(literal(dbl(1.5)), control(0xa, [block(13, [2n, 2n])])))).toEqual(
      [1.5, 16 / 10, 17 / 10].map((x) => hex(dbl(x))),
    );
    // ×10⁴ (0xC) and ×10⁸ (0xD).
    expect(all(col(literal(dbl(0.0001)), control(0xc, [one(zigzag64(-3n))])))).toEqual(
      [0.0001, -2 / 10000].map((x) => hex(dbl(x))),
    );
    expect(all(col(literal(dbl(1e-8)), control(0xd, [one(2n)])))).toEqual(
      [1e-8, 2 / 1e8].map((x) => hex(dbl(x))),
    );
    // ×1 (0x9) then a new control ×100 (0xB): the last value is taken again at the new scale.
    expect(all(col(literal(dbl(3)), control(9, [one(2n)]), control(0xb, [one(2n)])))).toEqual(
      [3, 4, 401 / 100].map((x) => hex(dbl(x))),
    );
    // Bits (0x8): 0.1 plus one ulp; and -0.0 kept by a zero delta.
    const bits = Buffer.alloc(8);
    bits.writeDoubleLE(0.1);
    bits.writeBigInt64LE(bits.readBigInt64LE(0) + 1n);
    expect(all(col(literal(dbl(0.1)), control(8, [one(2n)])))).toEqual([
      hex(dbl(0.1)),
      `1:${bits.toString('hex')}`,
    ]);
    expect(all(col(literal(dbl(-0)), control(8, [one(0n)])))).toEqual([hex(dbl(-0)), hex(dbl(-0))]);
  });

  it('a double that the scale cannot hold exactly is refused', () => {
    expect(refusalOf(() => all(col(literal(dbl(0.123)), control(0xa, [one(2n)])))).code).toBe('INVALID_BSON');
  });

  it('dates, timestamps and ObjectIds as deltas of deltas, skips leaving the step unchanged', () => {
    const dates = col(
      literal(date(1000)),
      control(8, [block(12, [zigzag64(1000n), 0n, null])]),
      control(8, [one(0n)]),
    );
    expect(all(dates)).toEqual([hex(date(1000)), hex(date(2000)), hex(date(3000)), null, hex(date(4000))]);
    const t0 = new Timestamp({ t: 1700000000, i: 1 });
    const ts = col(literal(val(t0)), control(8, [block(13, [2n, 0n])]));
    expect(all(ts)).toEqual([1, 2, 3].map((i) => enc(new Timestamp({ t: 1700000000, i }))));
    // The step may carry into the timestamp's seconds (the high 32 bits).
    const carry = col(literal(val(new Timestamp({ t: 5, i: 0xffffffff }))), control(8, [one(2n)]));
    expect(all(carry)[1]).toBe(enc(new Timestamp({ t: 6, i: 0 })));
    const id = new ObjectId('6567a1b2c3d4e5f6a7b8c9fe');
    const ids = col(literal(val(id)), control(8, [block(13, [2n, 0n])]));
    // The encoded integer interleaves the bytes (counter 2, time 3, counter 1, time 2, …), so a carry out of
    // the counter's last byte goes into the timestamp's last byte, not the counter's middle one.
    expect(all(ids)).toEqual(
      ['6567a1b2c3d4e5f6a7b8c9fe', '6567a1b2c3d4e5f6a7b8c9ff', '6567a1b3c3d4e5f6a7b8c900'].map((h) =>
        enc(new ObjectId(h)),
      ),
    );
  });

  it('bools, strings, binaries and decimals as deltas', () => {
    const bools = col(literal(val(false)), control(8, [block(12, [2n, 0n, 1n])]));
    expect(all(bools)).toEqual([false, true, true, false].map(enc));
    // Strings of up to 16 bytes count up from their last byte.
    const strs = col(literal(val('a1')), control(8, [block(13, [2n, zigzag128(-0x6132n)])]));
    expect(all(strs)).toEqual([enc('a1'), enc('a2'), enc('')]);
    const bin = { type: 0x05, value: Buffer.from([4, 0, 0, 0, 0x80, 1, 2, 3, 4]) };
    const bins = col(literal(bin), control(8, [one(2n)]));
    expect(all(bins)).toEqual([hex(bin), '5:0400000080020203' + '04']);
    const d = Decimal128.fromString('1.5');
    const decs = col(literal(val(d)), control(8, [one(2n)]));
    expect(all(decs)).toEqual([enc(d), enc(Decimal128.fromString('1.6'))]);
  });

  it('extended selectors 7 and 8: values with trailing zeros', () => {
    // Selector 7, extension 1: 9 slots of 2 value bits + 4 bits of trailing zeros.
    // Slot (v << 4) | n is v << n: zig-zag 1 << 10 is +512 each.
    let w = 7n | (1n << 4n);
    for (let k = 0; k < 9; k++) w |= ((1n << 4n) | 10n) << (8n + 6n * BigInt(k));
    const c7 = col(literal(int64(0n)), control(8, [w]));
    expect(all(c7)).toEqual(Array.from({ length: 10 }, (_, k) => hex(int64(512n * BigInt(k)))));
    // Selector 8, extension 1: 7 slots of 4 value bits + 4 bits counting nibbles: 3 << 8 is +384.
    let w8 = 8n | (1n << 4n);
    for (let k = 0; k < 7; k++) w8 |= ((3n << 4n) | 2n) << (8n + 8n * BigInt(k));
    expect(all(col(literal(int64(0n)), control(8, [w8])))[7]).toBe(hex(int64(7n * 384n)));
    // Selector 8, extension 8: 6 slots of 4 value bits + 5 bits counting nibbles, up to 124 zeros: on
    // 128 bits, 2 << 120 is +1 in the highest byte of a 16-byte string (its first character).
    let w16 = 8n | (8n << 4n);
    w16 |= ((2n << 5n) | 30n) << 8n;
    for (let k = 1; k < 6; k++) w16 |= ((1n << 9n) - 1n) << (8n + 9n * BigInt(k)); // skips
    const s = col(literal(val('aaaaaaaaaaaaaaaa')), control(8, [w16]));
    expect(all(s)).toEqual([enc('aaaaaaaaaaaaaaaa'), enc('baaaaaaaaaaaaaaa'), null, null, null, null, null]);
  });

  it('run-length blocks repeat the last delta, across controls too', () => {
    const rle = (n: number) => 15n | (BigInt(n - 1) << 4n);
    const c = col(literal(int32(7)), control(8, [one(2n), rle(1)]), control(8, [rle(2)]));
    const got = all(c);
    expect(got).toHaveLength(1 + 1 + 120 + 240);
    expect(got.at(-1)).toBe(hex(int32(7 + 361)));
    // Of skips: 1,920 missing values from 8 bytes.
    const skips = col(literal(int32(1)), control(8, [one(null), rle(16)]));
    expect(all(skips).filter((v) => v === null)).toHaveLength(1921);
  });

  it('a column that starts with skips, and values that only repeat (objects, null, minKey)', () => {
    const c = col(
      control(8, [block(13, [null, null])]),
      literal(val({ a: 1 })),
      control(8, [block(13, [0n, 0n])]),
    );
    expect(all(c)).toEqual([null, null, enc({ a: 1 }), enc({ a: 1 }), enc({ a: 1 })]);
    const n = col(
      literal({ type: 0x0a, value: Buffer.alloc(0) }),
      control(8, [one(0n)]),
      literal({ type: 0xff, value: Buffer.alloc(0) }),
    );
    expect(all(n)).toEqual(['a:', 'a:', 'ff:']);
    expect(refusalOf(() => all(col(literal(val({ a: 1 })), control(8, [one(2n)])))).message).toMatch(
      /non-zero delta/,
    );
  });
});

describe('interleaved objects', () => {
  const ref = (doc: object) => Buffer.from(serialize(doc));

  it('rebuilds objects from one stream per scalar, leaving out a sub-object none of whose fields is there (0xF1)', () => {
    // Streams in reference order: a (int32), b.c (string). Each stream's first control comes when it first
    // needs one: a's, then b.c's.
    const c = col(
      Buffer.from([0xf1]),
      ref({ a: 1, b: { c: 'x' } }),
      control(8, [block(12, [0n, 2n, 0n])]),
      control(8, [block(12, [0n, 0n, null])]),
      Buffer.from([0]), // end of interleaved mode
    );
    expect(all(c)).toEqual([enc({ a: 1, b: { c: 'x' } }), enc({ a: 2, b: { c: 'x' } }), enc({ a: 2 })]);
  });

  it('keeps an empty sub-object of the reference, and goes on in regular mode after the end', () => {
    const c = col(
      Buffer.from([0xf1]),
      ref({ e: {}, n: 1.5 }),
      control(0xa, [block(13, [0n, 2n])]),
      Buffer.from([0]),
      control(8, [one(0n)]), // regular mode: repeats the last object
      literal(int32(9)),
    );
    expect(all(c)).toEqual([
      enc({ e: {}, n: 1.5 }),
      enc({ e: {}, n: 1.6 }),
      enc({ e: {}, n: 1.6 }),
      hex(int32(9)),
    ]);
  });

  it('legacy 0xF0 keeps arrays as scalars; 0xF1 and 0xF2 (array root) look into them', () => {
    const legacy = col(
      Buffer.from([0xf0]),
      ref({ a: [1, 2], n: 5 }),
      control(8, [block(13, [0n, 0n])]),
      control(8, [block(13, [0n, 2n])]),
      Buffer.from([0]),
    );
    expect(all(legacy)).toEqual([enc({ a: [1, 2], n: 5 }), enc({ a: [1, 2], n: 6 })]);
    const current = col(
      Buffer.from([0xf1]),
      ref({ a: [1, 2] }),
      control(8, [one(2n)]),
      control(8, [one(0n)]),
      Buffer.from([0]),
    );
    expect(all(current)).toEqual([enc({ a: [2, 2] })]);
    const root = col(
      Buffer.from([0xf2]),
      ref({ 0: 'p', 1: 3 }),
      control(8, [one(0n)]),
      literal(int32(4)),
      Buffer.from([0]),
    );
    expect(all(root)).toEqual([`4:${Buffer.from(serialize({ 0: 'p', 1: 4 })).toString('hex')}`]);
  });

  it('a stream may restart with a literal of another type', () => {
    const c = col(
      Buffer.from([0xf1]),
      ref({ a: 1 }),
      control(8, [one(2n)]),
      literal(val('now text')),
      Buffer.from([0]),
    );
    expect(all(c)).toEqual([enc({ a: 2 }), enc({ a: 'now text' })]);
  });

  it('refuses an interleaved part with no object, one that ends inside an object, or leaves values behind', () => {
    const noObject = col(Buffer.from([0xf1]), ref({ a: 1 }), Buffer.from([0]));
    expect(refusalOf(() => all(noObject)).message).toMatch(/without an object/);
    const inside = col(Buffer.from([0xf1]), ref({ a: 1, b: 2 }), control(8, [one(0n)]), Buffer.from([0]));
    expect(refusalOf(() => all(inside)).message).toMatch(/inside an object/);
    const left = col(
      Buffer.from([0xf1]),
      ref({ a: 1, b: 2 }),
      control(8, [one(0n)]),
      control(8, [block(13, [0n, 0n])]),
      Buffer.from([0]),
    );
    expect(refusalOf(() => all(left)).message).toMatch(/values left/);
    expect(
      refusalOf(() => all(col(Buffer.from([0xf1]), ref({ a: {} }), control(8, [one(0n)]), Buffer.from([0]))))
        .code,
    ).toBe('INVALID_BSON');
  });
});

describe('random columns from the test encoder decode to what was put in', () => {
  // A tiny deterministic generator, so a failure can be replayed.
  let seed = 0x2545f491;
  const rand = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
  const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)]!;
  const walk = (gen: (prev: number) => number, n: number) => {
    const out: number[] = [];
    let x = gen(0);
    for (let k = 0; k < n; k++) out.push((x = gen(x)));
    return out;
  };

  it('for int32, int64, dates, doubles at a scale, strings, ObjectIds, with skips and type changes', () => {
    const stats = { rle: 0, extended: 0 };
    for (let round = 0; round < 250; round++) {
      const kind = pick(['int32', 'int64', 'date', 'double', 'string', 'prefix', 'oid', 'steady', 'mixed']);
      const n = kind === 'steady' ? 400 + Math.floor(rand() * 2000) : 1 + Math.floor(rand() * 300);
      const scale = kind === 'double' ? Math.floor(rand() * 5) : 5;
      const step = pick([1, 3, 1000, 2 ** 20, 2 ** 40]);
      const values: (Value | null)[] = walk((x) => x + Math.floor((rand() - 0.3) * step), n).map((x, k) => {
        if (kind !== 'steady' && rand() < 0.1) return null;
        switch (kind) {
          case 'int32':
            return int32(x | 0);
          case 'int64':
            return int64(BigInt(x) * 4096n + BigInt(k));
          case 'date':
            return date(1_700_000_000_000 + k * 1000 + (rand() < 0.2 ? x % 1000 : 0));
          case 'double':
            return dbl(Math.round(x) / [1, 10, 100, 10000, 100000000][scale]!);
          case 'string':
            return val(`sensor-${Math.abs(x) % 100000}`);
          case 'prefix': // 16 bytes that differ in their first: a delta in the highest bits of 128
            return val(`${String.fromCharCode(65 + (Math.abs(x) % 26))}-sixteen-bytes!`);
          case 'steady': // long runs of one step, and steps with many trailing zero bits
            return int64(BigInt(Math.floor(k / 150)) * 2n ** 36n + BigInt(k) * 4096n);
          case 'oid':
            return val(
              new ObjectId(
                Buffer.from(`6567a1b2c3d4e5f6a7${(0x100000 + k * 3).toString(16)}`.slice(0, 24), 'hex'),
              ),
            );
          default:
            return pick([
              int32(x | 0),
              dbl(x / 7),
              val(String(x)),
              val(null),
              val(rand() < 0.5),
              val(new Long(x)),
            ]);
        }
      });
      const column = encodeColumn(values, scale, stats);
      expect(decodeColumn(column, n + 1).map(hex), `round ${round} (${kind})`).toEqual(values.map(hex));
    }
    // The columns used run-length and extended-selector blocks, not only the base ones.
    expect(stats.rle).toBeGreaterThan(10);
    expect(stats.extended).toBeGreaterThan(10);
  });
});

describe('broken and hostile columns', () => {
  const good = col(literal(int32(5)), control(8, [block(10, [2n, 4n, 0n, null, 2n])]));

  it('refuses each kind of damage with INVALID_BSON', () => {
    const cases: [string, Buffer, RegExp][] = [
      ['empty', Buffer.alloc(0), /empty/],
      ['no EOO', good.subarray(0, good.length - 1), /runs past|without EOO/],
      ['bytes after EOO', Buffer.concat([good, Buffer.from([0])]), /before the end/],
      ['truncated literal', Buffer.from([0x10, 0, 5, 0]), /runs past/],
      [
        'truncated block',
        col(literal(int32(5)), control(8, [one(2n), one(2n)]).subarray(0, 12)),
        /runs past/,
      ],
      ['control byte 0xE0', col(literal(int32(5)), Buffer.from([0xe0]), Buffer.alloc(8)), /invalid control/],
      ['control byte 0x20', col(literal(int32(5)), Buffer.from([0x20]), Buffer.alloc(8)), /invalid control/],
      ['selector 0', col(literal(int32(5)), control(8, [0n])), /selector 0/],
      ['selector 7, extension 12', col(literal(int32(5)), control(8, [7n | (12n << 4n)])), /extension/],
      ['a scale on an int32', col(literal(int32(5)), control(9, [one(2n)])), /not a double/],
      ['a literal with a name', Buffer.from([0x10, 0x61, 0, 1, 0, 0, 0, 0]), /field name/],
      ['unknown type 0x14', Buffer.from([0x14, 0, 0]), /unknown BSON type/],
      ['CodeWScope', Buffer.from([0x0f, 0, 0]), /CodeWScope/],
      ['bad string length', Buffer.from([0x02, 0, 0xff, 0, 0, 0, 0x61, 0, 0]), /string/],
      ['garbled object', Buffer.from([0x03, 0, 6, 0, 0, 0, 0x10, 0, 0]), /.+/],
    ];
    for (const [what, bytes, message] of cases) {
      const e = refusalOf(() => decodeColumn(bytes, 1000));
      expect(e.code, what).toBe('INVALID_BSON');
      expect(e.message, what).toMatch(message);
    }
  });

  it('refuses objects nested past mongod’s depth limit instead of overflowing the stack', () => {
    let doc: object = { x: 1 };
    for (let k = 0; k < 250; k++) doc = { d: doc };
    expect(
      refusalOf(() => all(col(literal({ type: 0x03, value: Buffer.from(serialize(doc)) })))).message,
    ).toMatch(/nested/);
  });

  it('a column claiming billions of skips costs only what is read of it', () => {
    // 16 MiB of controls of sixteen 1,920-value run-length blocks after one skip: 2^32 values claimed.
    const unit = control(
      8,
      Array.from({ length: 16 }, () => 15n | (15n << 4n)),
    );
    const n = Math.floor((16 * 1024 * 1024) / unit.length);
    const big = Buffer.concat([
      literal(int32(1)),
      control(8, [one(null)]),
      Buffer.alloc(unit.length * n),
      Buffer.from([0]),
    ]);
    for (let k = 0; k < n; k++) unit.copy(big, 2 + 4 + 9 + k * unit.length);
    const before = process.memoryUsage().heapUsed;
    const started = Date.now();
    expect(refusalOf(() => decodeColumn(big, 10_000)).message).toMatch(/more than 10000 values/);
    const r = new BsonColumnReader(big);
    for (let k = 0; k < 1_000_000; k++) r.next();
    expect(r.next()).toBeNull();
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(64 * 1024 * 1024);
    expect(Date.now() - started).toBeLessThan(60_000);
  });

  it('random damage to valid columns gives a typed error or values, never anything else', () => {
    const sources = [
      good,
      b64('AQAAAAAAAAAAQJN/AAAAAAAAAAIAAAAAAAAABwAAAAAAAAAOAAAAAAAAAAA='),
      b64('BwBlpuun5tLoSOCMN1CALgAAAAAAAAAA'),
      col(
        Buffer.from([0xf1]),
        Buffer.from(serialize({ a: 1, b: { c: 'x' } })),
        control(8, [block(12, [0n, 2n, 0n])]),
        control(8, [block(12, [0n, 0n, null])]),
        Buffer.from([0]),
      ),
    ];
    let seed = 7;
    const rand = (n: number) => (seed = (seed * 48271) % 2147483647) % n;
    let decoded = 0;
    for (let k = 0; k < 3000; k++) {
      const b = Buffer.from(sources[k % sources.length]!);
      for (let m = 1 + rand(3); m > 0; m--) {
        const op = rand(3);
        if (op === 0) b[rand(b.length)] = rand(256);
        else if (op === 1) {
          const at = rand(b.length);
          b[at] = b[at]! ^ (1 << rand(8));
        } else b[rand(b.length)] = pick([0, 0xff, 0x80, 0xf0, 0xf1, 0x7f]);
      }
      const cut = rand(4) === 0 ? b.subarray(0, rand(b.length)) : b;
      try {
        decodeColumn(cut, 5000);
        decoded++;
      } catch (e) {
        expect(e).toBeInstanceOf(ApiError);
      }
    }
    expect(decoded).toBeGreaterThan(0);
    function pick(xs: number[]) {
      return xs[rand(xs.length)]!;
    }
  });
});
