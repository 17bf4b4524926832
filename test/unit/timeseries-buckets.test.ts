/**
 * Time-series buckets unpacked as mongod's unpacker (bucket_unpacker.cpp)
 * does, for every bucket version: the time field, the meta field, then the
 * other columns in their order, a field left out where its column has no
 * value; compressed (v2, v3) buckets through the BSONColumn decoder, v3 in
 * stored row order as mongod gives it; damaged buckets refused with typed
 * errors and bounded work.
 */
import { Binary, Double, EJSON, ObjectId, deserialize, serialize, type Document } from 'bson';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../engine/errors.js';
import { applyObjectDiff } from '../../engine/oplog/apply-diff.js';
import { MAX_BUCKET_MEASUREMENTS, unpackBucket, type TimeseriesSpec } from '../../engine/views/timeseries.js';
import { block, control, encodeColumn, literal, type Value } from '../support/bson-column-encoder.js';

const spec: TimeseriesSpec = { timeField: 't', metaField: 'm' };
const column = (b: Buffer) => new Binary(b, 7);
const b64col = (s: string) => column(Buffer.from(s, 'base64'));
/** Measurements as canonical Extended JSON text, which keeps field order and types. */
const unpack = (bucket: Document, s = spec) =>
  unpackBucket(Buffer.from(serialize(bucket)), s).map((m) =>
    EJSON.stringify(deserialize(m, { promoteValues: false }), { relaxed: false }),
  );
const text = (docs: Document[]) => docs.map((d) => EJSON.stringify(d, { relaxed: false }));
function valueOf(v: unknown): Value {
  const doc = serialize({ v });
  return { type: doc[4]!, value: Buffer.from(doc.subarray(7, doc.length - 1)) };
}
const encode = (values: unknown[], scale?: number) =>
  column(
    encodeColumn(
      values.map((v) => (v === undefined ? null : valueOf(v))),
      scale,
    ),
  );

function refusal(f: () => unknown): ApiError {
  try {
    f();
  } catch (e) {
    if (e instanceof ApiError) return e;
    throw e;
  }
  throw new Error('no error');
}

describe('compressed buckets (control.version 2 and 3)', () => {
  it('unpacks a bucket mongod wrote: time, meta, then the other columns in data order', () => {
    // mongodb/mongo jstests: a v2 bucket of two measurements, meta 0, columns t, a, _id in that order.
    const bucket = {
      _id: new ObjectId('65a6eb80e6d2e848e08c3750'),
      control: { version: 2, min: {}, max: {}, count: 2 },
      meta: 0,
      data: {
        t: b64col('CQAYhggUjQEAAIAOAAAAAAAAAAA='),
        a: b64col('AQAAAAAAAAAAAJAuAAAAAAAAAAA='),
        _id: b64col('BwBlpuun5tLoSOCMN1CALgAAAAAAAAAA'),
      },
    };
    const t = new Date(0x18d14088618);
    expect(unpack(bucket)).toEqual(
      text([
        { t, m: 0, a: new Double(0), _id: new ObjectId('65a6eba7e6d2e848e08c3750') },
        { t, m: 0, a: new Double(1), _id: new ObjectId('65a6eba7e6d2e848e08c3751') },
      ]),
    );
  });

  it('unpacks a bucket after the oplog diff by which mongod 8.0 added a measurement (binary diffs at the EOO)', () => {
    // mongodb/mongo jstests/change_streams/timeseries.js: {_id: 1, ts: new Date(1000), meta: {a: 1}} inserted
    // twice; the bucket, then its update: control.count 2 and both columns extended at offset 10.
    const bucket = Buffer.from(
      serialize({
        _id: new ObjectId(),
        control: {
          version: 2,
          min: { _id: 1, ts: new Date(0) },
          max: { _id: 1, ts: new Date(1000) },
          count: 1,
        },
        meta: { a: 1 },
        data: { ts: b64col('CQDoAwAAAAAAAAA='), _id: b64col('AQAAAAAAAADwPwA=') },
      }),
    );
    const diff = Buffer.from(
      serialize({
        scontrol: { u: { count: 2 } },
        sdata: {
          b: {
            ts: { o: 10, d: new Binary(Buffer.from('gA4AAAAAAAAAAA==', 'base64'), 0) },
            _id: { o: 10, d: new Binary(Buffer.from('kA4AAAAAAAAAAA==', 'base64'), 0) },
          },
        },
      }),
    );
    const after = applyObjectDiff(bucket, diff);
    const s: TimeseriesSpec = { timeField: 'ts', metaField: 'meta' };
    const one = { ts: new Date(1000), meta: { a: 1 }, _id: new Double(1) };
    expect(unpack(deserialize(after), s)).toEqual(text([one, one]));
    expect(unpack(deserialize(bucket), s)).toEqual(text([one]));
  });

  it('leaves out a field where its column skips, keeps types exactly, and has no meta field without meta', () => {
    const t0 = Date.UTC(2026, 0, 1);
    const times = [0, 1000, 2000, 3000].map((k) => new Date(t0 + k));
    const bucket = {
      _id: new ObjectId(),
      control: { version: 2, min: {}, max: {}, count: 4 },
      data: {
        _id: encode([
          new ObjectId('6567a1b2c3d4e5f6a7b8c900'),
          new ObjectId('6567a1b2c3d4e5f6a7b8c901'),
          new ObjectId('6567a1b2c3d4e5f6a7b8c902'),
          new ObjectId('6567a1b2c3d4e5f6a7b8c903'),
        ]),
        t: encode(times),
        cpu: encode([1.5, undefined, 1.75, 2.25], 2),
        host: encode(['db1', 'db1', undefined, 'db2']),
      },
    };
    const got = unpack(bucket, { timeField: 't', metaField: null });
    const expected = text(
      times.map((t, k) => {
        const d: Document = { t, _id: new ObjectId(`6567a1b2c3d4e5f6a7b8c90${k}`) };
        if (k !== 1) d.cpu = [1.5, null, 1.75, 2.25][k];
        if (k !== 2) d.host = k === 3 ? 'db2' : 'db1';
        return d;
      }),
    );
    expect(got).toEqual(expected);
    expect(got[0]).toContain('"cpu":{"$numberDouble":"1.5"}');
  });

  it('keeps a version 3 bucket in its stored row order, as mongod unpacks it (no sort by time)', () => {
    const times = [3000, 1000, 2000].map((ms) => new Date(ms));
    const bucket = {
      _id: new ObjectId(),
      control: { version: 3, count: 3 },
      data: { t: encode(times), v: encode([3, 1, 2]) },
    };
    expect(unpack(bucket, { timeField: 't', metaField: null })).toEqual(
      text(times.map((t, k) => ({ t, v: [3, 1, 2][k] }))),
    );
  });

  it('unpacks sub-object measurements kept in interleaved mode', () => {
    const ref = Buffer.from(serialize({ x: 1, y: 2 }));
    const pos = Buffer.concat([
      Buffer.from([0xf1]),
      ref,
      control(8, [block(13, [0n, 2n])]),
      control(8, [block(13, [0n, 0n])]),
      Buffer.from([0, 0]),
    ]);
    const bucket = {
      _id: new ObjectId(),
      control: { version: 2, count: 2 },
      meta: { site: 'a' },
      data: { t: encode([new Date(1), new Date(2)]), pos: column(pos) },
    };
    expect(unpack(bucket)).toEqual(
      text([
        { t: new Date(1), m: { site: 'a' }, pos: { x: 1, y: 2 } },
        { t: new Date(2), m: { site: 'a' }, pos: { x: 2, y: 2 } },
      ]),
    );
  });

  it('count 0 and an empty data region unpack to nothing', () => {
    expect(unpack({ _id: 1, control: { version: 2, count: 0 }, data: { t: encode([new Date(1)]) } })).toEqual(
      [],
    );
    expect(unpack({ _id: 1, control: { version: 2 }, data: {} })).toEqual([]);
  });

  it('refuses damaged buckets with typed errors', () => {
    const t = encode([new Date(1), new Date(2)]);
    const cases: [string, Document, RegExp][] = [
      [
        'an uncompressed column',
        { control: { version: 2 }, data: { t, v: { 0: 1, 1: 2 } } },
        /not a BSONColumn/,
      ],
      [
        'a binary of another subtype',
        { control: { version: 2 }, data: { t, v: new Binary(Buffer.from([0]), 0) } },
        /not a BSONColumn/,
      ],
      ['a short column', { control: { version: 2 }, data: { t, v: encode([1]) } }, /fewer values/],
      ['no time column', { control: { version: 2 }, data: { v: encode([1]) } }, /without a t column/],
      ['version 4', { control: { version: 4 }, data: { t } }, /unknown version 4/],
      ['a compressed column in a v1 bucket', { control: { version: 1 }, data: { t } }, /not a document/],
    ];
    for (const [what, bucket, message] of cases) {
      const e = refusal(() => unpack({ _id: 1, ...bucket }));
      expect(e.code, what).toBe('CORRUPT');
      expect(e.message, what).toMatch(message);
    }
    const broken = Buffer.from(encodeColumn([valueOf(new Date(1)), valueOf(new Date(2))]));
    broken[broken.length - 1] = 0x33;
    expect(refusal(() => unpack({ _id: 1, control: { version: 2 }, data: { t: column(broken) } })).code).toBe(
      'INVALID_BSON',
    );
  });

  it('refuses a time column that claims millions of rows after reading a bounded number of them', () => {
    const rle = 15n | (15n << 4n); // 1,920 repeats
    const parts = [literal(valueOf(new Date(1)))];
    for (let k = 0; k < 100; k++)
      parts.push(
        control(
          8,
          Array.from({ length: 16 }, () => rle),
        ),
      );
    parts.push(Buffer.from([0]));
    const bucket = { _id: 1, control: { version: 2 }, data: { t: column(Buffer.concat(parts)) } };
    expect(refusal(() => unpack(bucket)).message).toMatch(
      `more than ${MAX_BUCKET_MEASUREMENTS} measurements`,
    );
  });
});

describe('uncompressed buckets (control.version 1)', () => {
  it('unpack as before: sparse columns, time, meta, the others', () => {
    const bucket = {
      _id: 1,
      control: { version: 1 },
      meta: 'h',
      data: { _id: { 0: 1, 1: 2 }, t: { 0: new Date(1), 1: new Date(2) }, v: { 1: 'x' } },
    };
    expect(unpack(bucket)).toEqual(
      text([
        { t: new Date(1), m: 'h', _id: 1 },
        { t: new Date(2), m: 'h', _id: 2, v: 'x' },
      ]),
    );
  });
});

describe('the meta field against the collection options', () => {
  const withMeta = (version: number): Document => ({
    _id: new ObjectId('6567a1b2c3d4e5f6a7b8c9d0'),
    control: { version, count: 1 },
    meta: { host: 'db1' },
    data:
      version === 1 ? { t: { 0: new Date(1) }, v: { 0: 1 } } : { t: encode([new Date(1)]), v: encode([1]) },
  });

  it('refuses a bucket with meta in a collection without metaField, naming the bucket (mongod: 5369601)', () => {
    for (const version of [1, 2, 3]) {
      const e = refusal(() => unpack(withMeta(version), { timeField: 't', metaField: null }));
      expect(e.code).toBe('CORRUPT');
      expect(e.message).toContain("ObjectId('6567a1b2c3d4e5f6a7b8c9d0')");
      expect(e.message).toMatch(/no metaField.*5369601/);
      expect(e.details).toEqual({ bucket: "ObjectId('6567a1b2c3d4e5f6a7b8c9d0')", mongodCode: 5369601 });
    }
    // The same bucket in a collection with a metaField unpacks, meta under its name.
    expect(unpack(withMeta(2), { timeField: 't', metaField: 'tags' })).toEqual(
      text([{ t: new Date(1), tags: { host: 'db1' }, v: 1 }]),
    );
    // An empty data region has nothing to unpack, and mongod returns before the meta check too.
    expect(unpack({ ...withMeta(2), data: {} }, { timeField: 't', metaField: null })).toEqual([]);
  });

  it('refuses a meta of the deprecated undefined type where there is a metaField (mongod: 5369600)', () => {
    const raw = Buffer.from(serialize({ ...withMeta(2), meta: null }));
    const at = raw.indexOf(Buffer.from('\x0ameta\0', 'latin1'));
    raw[at] = 0x06; // null -> undefined, same (empty) value
    const e = refusal(() => unpackBucket(raw, spec));
    expect(e.code).toBe('CORRUPT');
    expect(e.message).toMatch(/undefined type.*5369600/);
  });
});
