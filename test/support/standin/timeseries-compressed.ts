/**
 * Compressed time-series buckets, as mongod 8.0 writes them: every column of
 * `data` a BSONColumn binary (subtype 7), `control: {version, min, max,
 * count}`, version 2 while the rows are in time order and 3 once a
 * measurement arrived earlier than the bucket's latest (8.0 keeps insertion
 * order then). Like mongod's bucket catalog, the stand-in keeps the open
 * buckets' measurements in memory and rewrites the columns from them on each
 * insert (a new bucket is an insert on the buckets' namespace, a measurement
 * added is an update of its columns); it reads its own compressed buckets
 * back from that memory, not by decoding them (the columns come from the test
 * encoder, and the engine's decoder is what the tests judge).
 *
 * Simplified: an added measurement is logged as a $v:2 diff that sets the
 * changed columns whole (mongod 8.0 logs binary diffs of them); a
 * sub-document or array value is a BSONColumn literal (mongod encodes those
 * in interleaved mode).
 */
import { Binary, Double, Int32, Long, ObjectId, serialize, type Document } from 'bson';
import { encodeColumn, type Value } from '../bson-column-encoder.js';
import { bsonEqual } from './diff.js';
import { MongoError } from './errors.js';
import { idKey, type Collection, type StoredDoc } from './store.js';
import { decodeBson } from './wire.js';

const MAX_MEASUREMENTS = 1000;

interface OpenBucket {
  id: ObjectId;
  start: Date;
  meta: unknown;
  /** The measurements in insertion order, meta left out, values with their BSON types. */
  rows: Document[];
  /** The bucket's bytes as last written: a bucket changed since by someone else is not ours to read. */
  raw: Buffer;
}

/** The buckets the stand-in wrote, per buckets collection and bucket _id. */
const written = new WeakMap<Collection, Map<string, OpenBucket>>();

function bucketsWritten(buckets: Collection): Map<string, OpenBucket> {
  let m = written.get(buckets);
  if (!m) written.set(buckets, (m = new Map()));
  return m;
}

/** A value's BSON type and bytes (what a column holds). */
function valueOf(v: unknown): Value {
  const doc = Buffer.from(serialize({ v }));
  return { type: doc[4]!, value: doc.subarray(7, doc.length - 1) };
}

function numeric(v: unknown): number | null {
  if (typeof v === 'number') return v;
  if (v instanceof Double || v instanceof Int32) return v.value;
  if (v instanceof Long) return v.toNumber();
  return null;
}

function smaller(a: unknown, b: unknown): boolean {
  if (a instanceof Date && b instanceof Date) return a.getTime() < b.getTime();
  const [x, y] = [numeric(a), numeric(b)];
  if (x !== null && y !== null) return x < y;
  if (typeof a === 'string' && typeof b === 'string') return a < b;
  return false;
}

/** The bucket document for `b`: columns in the order their fields first appeared, with skips where a row lacks one. */
function bucketDoc(b: OpenBucket, timeField: string): Document {
  const names: string[] = [];
  for (const r of b.rows) for (const k of Object.keys(r)) if (!names.includes(k)) names.push(k);
  const min: Document = {};
  const max: Document = {};
  const data: Document = {};
  let sorted = true;
  for (const [k, r] of b.rows.entries())
    if (k > 0 && smaller(r[timeField], b.rows[k - 1]![timeField])) sorted = false;
  for (const name of names) {
    const values = b.rows.map((r) => r[name]);
    for (const v of values) {
      if (v === undefined) continue;
      if (min[name] === undefined || smaller(v, min[name])) min[name] = v;
      if (max[name] === undefined || smaller(max[name], v)) max[name] = v;
    }
    data[name] = new Binary(encodeColumn(values.map((v) => (v === undefined ? null : valueOf(v)))), 7);
  }
  min[timeField] = b.start;
  return {
    _id: b.id,
    control: { version: sorted ? 2 : 3, min, max, count: new Int32(b.rows.length) },
    ...(b.meta === undefined ? {} : { meta: b.meta }),
    data,
  };
}

export interface BucketRules {
  timeField: string;
  /** bucketMaxSpanSeconds and the rounding of a bucket's start, per granularity. */
  span: number;
  round: number;
  insert: (coll: Collection, doc: Document) => void;
  replace: (coll: Collection, pre: StoredDoc, postRaw: Uint8Array) => void;
}

/** Adds one measurement (typed values, meta taken out) to an open compressed bucket, or opens one. */
export function insertCompressed(
  buckets: Collection,
  rules: BucketRules,
  measurement: Document,
  meta: unknown,
): void {
  const time = measurement[rules.timeField] as Date;
  const mine = bucketsWritten(buckets);
  const open = [...mine.values()].find((b) => {
    const start = b.start.getTime();
    return (
      bsonEqual(b.meta, meta) &&
      b.rows.length < MAX_MEASUREMENTS &&
      time.getTime() >= start &&
      time.getTime() < start + rules.span * 1000 &&
      buckets.get(b.id)?.raw !== undefined
    );
  });
  if (!open) {
    const start = new Date(Math.floor(time.getTime() / 1000 / rules.round) * rules.round * 1000);
    // The _id's time part is the bucket's start, the rest unique (as MongoDB makes it).
    const id = Buffer.from(new ObjectId().id);
    id.writeUInt32BE(Math.floor(start.getTime() / 1000), 0);
    const b: OpenBucket = { id: new ObjectId(id), start, meta, rows: [measurement], raw: Buffer.alloc(0) };
    const doc = bucketDoc(b, rules.timeField);
    rules.insert(buckets, doc);
    b.raw = Buffer.from(buckets.get(b.id)!.raw);
    mine.set(idKey(b.id), b);
    return;
  }
  const pre = buckets.get(open.id)!;
  if (!Buffer.from(pre.raw).equals(open.raw)) throw changedBehind(buckets, open.id);
  open.rows.push(measurement);
  const postRaw = Buffer.from(serialize(bucketDoc(open, rules.timeField)));
  rules.replace(buckets, pre, postRaw);
  open.raw = postRaw;
}

const changedBehind = (buckets: Collection, id: unknown) =>
  new MongoError(
    2,
    'BadValue',
    `the stand-in reads only compressed buckets it wrote; ${buckets.ns} bucket ${String(id)} was written by a client`,
  );

/**
 * The measurements of a compressed bucket the stand-in wrote, as mongod unpacks them: the time
 * field, the meta field, then the other columns in data order, in stored row order.
 */
export function unpackCompressed(
  buckets: Collection,
  bucket: StoredDoc,
  timeField: string,
  metaField: string | undefined,
): StoredDoc[] {
  const b = bucketsWritten(buckets).get(idKey(bucket.js._id));
  if (!b || !Buffer.from(bucket.raw).equals(b.raw)) throw changedBehind(buckets, bucket.js._id);
  const names = Object.keys(bucket.js.data as Document).filter((n) => n !== timeField);
  return b.rows.map((r) => {
    const m: Document = { [timeField]: r[timeField] };
    if (metaField !== undefined && b.meta !== undefined) m[metaField] = b.meta;
    for (const n of names) if (r[n] !== undefined) m[n] = r[n];
    const raw = serialize(m);
    return { js: decodeBson(raw), raw };
  });
}

/** Whether a stored bucket is compressed (its control.version 2 or 3). */
export const isCompressed = (bucket: StoredDoc): boolean => {
  const v = (bucket.js.control as Document | undefined)?.version;
  return v === 2 || v === 3;
};
