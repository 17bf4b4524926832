/**
 * A time-series collection read as mongod shows it: its measurements
 * unpacked from the buckets of `system.buckets.<name>`, as raw BSON.
 *
 * The bucket format (MongoDB 5.0+): `{_id, control: {version, min, max,
 * count?}, meta?, data: {<field>: column, …}}`. A measurement is built as
 * mongod's unpacker (bucket_unpacker.cpp) builds it, whatever the version:
 * the time field, then the meta field (when the bucket has one), then every
 * other column of `data` in its order that has a value at that row.
 *
 * Version 1 keeps each column as a plain document keyed by row number,
 * sparse for fields some measurements lack. Versions 2 (compressed, rows
 * sorted by time) and 3 (compressed, rows in insertion order, after an
 * out-of-order insert; 8.0) keep each column as a BSONColumn binary
 * (subtype 7, engine/bson/bson-column.ts) with a skip where a measurement
 * lacks the field. mongod unpacks a version 3 bucket with the version 2
 * unpacker, in stored row order, not sorted by time: so does this.
 */
import { EJSON, deserialize } from 'bson';
import { ApiError } from '../errors.js';
import { BsonColumnReader } from '../bson/bson-column.js';
import {
  DocBuilder,
  T,
  docOf,
  elementBytes,
  elements,
  field,
  makeElement,
  readNumber,
  readString,
  renamed,
  subDocument,
  valueBytes,
  type RawElement,
} from '../oplog/bson-raw.js';

export interface TimeseriesSpec {
  timeField: string;
  metaField: string | null;
}

/** timeField and metaField of a collection's `timeseries` options. */
export function timeseriesSpec(options: Buffer): TimeseriesSpec | null {
  const ts = field(options, 'timeseries');
  if (!ts || ts.type !== T.object) return null;
  const sub = subDocument(options, ts);
  const time = field(sub, 'timeField');
  const meta = field(sub, 'metaField');
  if (!time || time.type !== T.string) return null;
  return {
    timeField: readString(sub, time),
    metaField: meta?.type === T.string ? readString(sub, meta) : null,
  };
}

/**
 * Bounds on what one bucket may unpack to. mongod closes a bucket at
 * timeseriesBucketMaxCount (default 1000) measurements; a compressed column
 * can claim far more than it stores (a run-length block is 1,920 values in
 * 8 bytes), so a bucket beyond these is refused as damaged rather than
 * unpacked without bound.
 */
export const MAX_BUCKET_MEASUREMENTS = 100_000;
export const MAX_BUCKET_BYTES = 256 * 1024 * 1024;

/** The measurements of one bucket, in row order. */
export function unpackBucket(bucket: Buffer, spec: TimeseriesSpec): Buffer[] {
  const control = field(bucket, 'control');
  const data = field(bucket, 'data');
  if (!control || control.type !== T.object || !data || data.type !== T.object)
    throw new ApiError('CORRUPT', 'A time-series bucket without control or data.');
  const ctl = subDocument(bucket, control);
  const version = field(ctl, 'version');
  const v = version && isNumber(version.type) ? readNumber(ctl, version) : 0;
  const cols = subDocument(bucket, data);
  const colEls = elements(cols);
  if (colEls.length === 0) return []; // an empty data region: nothing to unpack
  const timeCol = colEls.find((c) => c.name === spec.timeField);
  if (!timeCol)
    throw new ApiError('CORRUPT', `A time-series bucket without a ${spec.timeField} column in its data.`);
  const meta = metaOf(bucket, spec);
  if (v === 1) return unpackV1(cols, colEls, timeCol, bucket, meta, spec);
  if (v === 2 || v === 3) {
    const count = field(ctl, 'count');
    // control.count only says whether there is anything; the time column drives the rows (as in mongod).
    if (count && isNumber(count.type) && readNumber(ctl, count) <= 0) return [];
    return unpackCompressed(cols, colEls, timeCol, bucket, meta, spec);
  }
  throw new ApiError('CORRUPT', `A time-series bucket of unknown version ${v} (mongod knows 1, 2 and 3).`);
}

const BSON_UNDEFINED = 0x06; // the deprecated BSON type

/**
 * The bucket's `meta` element, checked as mongod's unpacker checks it: a collection without a
 * metaField has no meta in its buckets (mongod refuses one with 5369601, so a bucket with one was
 * not written by mongod for this collection, or its options were lost), and a meta of the
 * deprecated undefined type is refused where there is one (5369600).
 */
function metaOf(bucket: Buffer, spec: TimeseriesSpec): RawElement | undefined {
  const meta = field(bucket, 'meta');
  if (!meta) return undefined;
  if (spec.metaField === null)
    throw new ApiError(
      'CORRUPT',
      `The time-series bucket ${bucketName(bucket)} has a meta field, but its collection's time-series ` +
        `options have no metaField (mongod refuses it too, error 5369601).`,
      { bucket: bucketName(bucket), mongodCode: 5369601 },
    );
  if (meta.type === BSON_UNDEFINED)
    throw new ApiError(
      'CORRUPT',
      `The time-series bucket ${bucketName(bucket)} has a meta of the deprecated undefined type ` +
        `(mongod refuses it too, error 5369600).`,
      { bucket: bucketName(bucket), mongodCode: 5369600 },
    );
  return meta;
}

/** A bucket's `_id` as Extended JSON text (an ObjectId as `ObjectId('…')`), for messages. */
function bucketName(bucket: Buffer): string {
  const id = field(bucket, '_id');
  if (!id) return '(without _id)';
  const v = (deserialize(docOf(elementBytes(bucket, id))) as { _id: unknown })._id;
  const oid = v as { _bsontype?: string; toHexString?: () => string };
  return oid?._bsontype === 'ObjectId' ? `ObjectId('${oid.toHexString!()}')` : EJSON.stringify(v);
}

const isNumber = (t: number) => t === T.double || t === T.int32 || t === T.int64;

function unpackV1(
  cols: Buffer,
  colEls: RawElement[],
  timeCol: RawElement,
  bucket: Buffer,
  meta: RawElement | undefined,
  spec: TimeseriesSpec,
): Buffer[] {
  if (colEls.some((c) => c.type !== T.object))
    throw new ApiError('CORRUPT', 'A version 1 time-series bucket with a column that is not a document.');
  const others: { name: string; doc: Buffer; els: RawElement[]; at: number }[] = [];
  for (const c of colEls) {
    if (c.name === spec.timeField) continue;
    const doc = subDocument(cols, c);
    others.push({ name: c.name, doc, els: elements(doc), at: 0 });
  }
  const timeDoc = subDocument(cols, timeCol);
  const out: Buffer[] = [];
  for (const t of elements(timeDoc)) {
    const b = new DocBuilder();
    b.append(renamed(timeDoc, t, spec.timeField));
    if (meta) b.append(renamed(bucket, meta, spec.metaField!));
    for (const col of others) {
      const e = col.els[col.at];
      if (e && e.name === t.name) {
        b.append(renamed(col.doc, e, col.name));
        col.at++;
      }
    }
    out.push(b.finish());
  }
  return out;
}

/** A compressed column's reader; the column must be a binary of subtype 7. */
function columnReader(cols: Buffer, c: RawElement): BsonColumnReader {
  const value = valueBytes(cols, c);
  if (c.type !== T.binary || value[4] !== 7)
    throw new ApiError(
      'CORRUPT',
      `A compressed time-series bucket whose ${c.name} column is not a BSONColumn binary.`,
    );
  return new BsonColumnReader(value.subarray(5));
}

function unpackCompressed(
  cols: Buffer,
  colEls: RawElement[],
  timeCol: RawElement,
  bucket: Buffer,
  meta: RawElement | undefined,
  spec: TimeseriesSpec,
): Buffer[] {
  const time = columnReader(cols, timeCol);
  const others = colEls
    .filter((c) => c !== timeCol)
    .map((c) => ({ name: c.name, reader: columnReader(cols, c) }));
  const metaEl = meta ? renamed(bucket, meta, spec.metaField!) : null;
  const out: Buffer[] = [];
  let bytes = 0;
  for (let t = time.next(); t !== undefined; t = time.next()) {
    if (out.length >= MAX_BUCKET_MEASUREMENTS)
      throw new ApiError(
        'CORRUPT',
        `A time-series bucket claims more than ${MAX_BUCKET_MEASUREMENTS} measurements.`,
      );
    const b = new DocBuilder();
    if (t !== null) b.append(makeElement(t.type, spec.timeField, t.value));
    if (metaEl) b.append(metaEl);
    for (const col of others) {
      const v = col.reader.next();
      if (v === undefined)
        throw new ApiError(
          'CORRUPT',
          `A time-series bucket whose ${col.name} column has fewer values than its time column.`,
        );
      if (v !== null) b.append(makeElement(v.type, col.name, v.value));
    }
    const m = b.finish();
    bytes += m.length;
    if (bytes > MAX_BUCKET_BYTES)
      throw new ApiError('CORRUPT', `A time-series bucket unpacks to more than ${MAX_BUCKET_BYTES} bytes.`);
    out.push(m);
  }
  return out;
}
