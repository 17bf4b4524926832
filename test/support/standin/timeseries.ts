/**
 * Time-series collections as MongoDB 5.0-7.x store them: the collection the
 * user sees holds nothing; measurements live in `system.buckets.<name>` as
 * uncompressed (version 1) buckets, and every write is logged on the
 * buckets' namespace (a new bucket is an insert, a measurement added to an
 * open bucket is a $v:2 update). Reads of the user's collection unpack the
 * buckets. Simplified: buckets close at 1000 measurements or when a
 * measurement falls outside the bucket's span. With the `timeseriesBuckets:
 * 'compressed'` option buckets are written as mongod 8.0 writes them
 * (timeseries-compressed.ts).
 */
import { ObjectId, serialize, type Document } from 'bson';
import type { Ctx } from './context.js';
import { encodeUpdated, insertOne, replaceStored } from './commands-crud.js';
import { bsonEqual } from './diff.js';
import { MongoError } from './errors.js';
import type { Collection, StoredDoc } from './store.js';
import { insertCompressed, isCompressed, unpackCompressed } from './timeseries-compressed.js';
import { decodeTyped } from './typed-values.js';
import { decodeBson } from './wire.js';

const MAX_MEASUREMENTS = 1000;
/** bucketMaxSpanSeconds and rounding per granularity, as MongoDB documents them. */
const SPAN: Record<string, { span: number; round: number }> = {
  seconds: { span: 3600, round: 60 },
  minutes: { span: 86_400, round: 3600 },
  hours: { span: 2_592_000, round: 86_400 },
};

interface TsOptions {
  timeField: string;
  metaField?: string;
  granularity?: string;
}

const bucketsOf = (ctx: Ctx, ts: Collection) => ctx.ensureColl(`system.buckets.${ts.name}`, ts.db);

/** A number's value whatever its BSON type (the measurements keep their types: Int32, Double, Long). */
function numeric(v: unknown): number | null {
  if (typeof v === 'number') return v;
  const t = (v as { _bsontype?: string } | null)?._bsontype;
  if (t === 'Int32' || t === 'Double') return Number((v as { value: number }).value);
  if (t === 'Long') return (v as { toNumber(): number }).toNumber();
  return null;
}

function smaller(a: unknown, b: unknown): boolean {
  if (a instanceof Date && b instanceof Date) return a.getTime() < b.getTime();
  const x = numeric(a);
  const y = numeric(b);
  if (x !== null && y !== null) return x < y;
  if (typeof a === 'string' && typeof b === 'string') return a < b;
  return false;
}

export function insertMeasurement(ctx: Ctx, ts: Collection, input: Document, raw?: Uint8Array): void {
  const opts = ts.options.timeseries as TsOptions;
  const time = input[opts.timeField];
  if (!(time instanceof Date))
    throw new MongoError(
      2,
      'BadValue',
      `'${opts.timeField}' must be present and contain a valid BSON UTC datetime value`,
    );
  const { span, round } = SPAN[opts.granularity ?? 'seconds'] ?? SPAN.seconds!;
  if (ctx.server.compressedBuckets) {
    // The client's types kept (a double 5.0 stays a double in its column).
    const typed = decodeTyped(raw ?? serialize(input));
    const m: Document = { _id: typed._id ?? new ObjectId(), ...typed };
    const meta = opts.metaField === undefined ? undefined : m[opts.metaField];
    if (opts.metaField !== undefined) delete m[opts.metaField];
    insertCompressed(
      bucketsOf(ctx, ts),
      {
        timeField: opts.timeField,
        span,
        round,
        insert: (c, doc) => insertOne(ctx, c, doc, serialize(doc)),
        replace: (c, pre, postRaw) => replaceStored(ctx, c, pre, postRaw),
      },
      m,
      meta,
    );
    return;
  }
  // The client's types kept (mongod stores a double 5.0 as a double, not as the int32 5).
  const measurement: Document = { _id: input._id ?? new ObjectId(), ...decodeTyped(raw ?? serialize(input)) };
  const meta = opts.metaField === undefined ? undefined : measurement[opts.metaField];
  if (opts.metaField !== undefined) delete measurement[opts.metaField];
  const buckets = bucketsOf(ctx, ts);

  const open = buckets.all().find((b) => {
    if (isCompressed(b)) return false;
    const c = b.js.control as { min: Document };
    const start = (c.min[opts.timeField] as Date).getTime();
    return (
      bsonEqual(decodeTyped(b.raw).meta, meta) &&
      Object.keys((b.js.data as Document)[opts.timeField] as Document).length < MAX_MEASUREMENTS &&
      time.getTime() >= start &&
      time.getTime() < start + span * 1000
    );
  });
  if (!open) {
    const start = new Date(Math.floor(time.getTime() / 1000 / round) * round * 1000);
    const min: Document = {};
    const max: Document = {};
    const data: Document = {};
    for (const [k, v] of Object.entries(measurement)) {
      min[k] = k === opts.timeField ? start : v;
      max[k] = v;
      data[k] = { '0': v };
    }
    // The _id's time part is the bucket's start, the rest unique (as MongoDB makes it).
    const id = Buffer.from(new ObjectId().id);
    id.writeUInt32BE(Math.floor(start.getTime() / 1000), 0);
    insertOne(ctx, buckets, {
      _id: new ObjectId(id),
      control: { version: 1, min, max },
      ...(meta === undefined ? {} : { meta }),
      data,
    });
    return;
  }
  const post = decodeTyped(open.raw); // a deep copy that keeps BSON values and their types what they are
  const control = post.control as { min: Document; max: Document };
  const data = post.data as Record<string, Document>;
  const n = String(Object.keys(data[opts.timeField]!).length);
  for (const [k, v] of Object.entries(measurement)) {
    (data[k] ??= {})[n] = v;
    if (control.min[k] === undefined || smaller(v, control.min[k])) control.min[k] = v;
    if (control.max[k] === undefined || smaller(control.max[k], v)) control.max[k] = v;
  }
  replaceStored(ctx, buckets, open, encodeUpdated(open.raw, post));
}

/** The measurements, as a find on the time-series collection returns them. */
export function unpackMeasurements(ctx: Ctx, ts: Collection): StoredDoc[] {
  const opts = ts.options.timeseries as TsOptions;
  const buckets = ctx.coll(`system.buckets.${ts.name}`, ts.db)?.all() ?? [];
  const out: StoredDoc[] = [];
  const bucketsColl = ctx.coll(`system.buckets.${ts.name}`, ts.db);
  for (const b of buckets) {
    if (isCompressed(b)) {
      out.push(...unpackCompressed(bucketsColl!, b, opts.timeField, opts.metaField));
      continue;
    }
    // As mongod's BucketUnpackerV1: the time field, the meta field, then the other columns in data order.
    const typed = decodeTyped(b.raw);
    const data = typed.data as Record<string, Document>;
    const others = Object.keys(data).filter((f) => f !== opts.timeField);
    for (const n of Object.keys(data[opts.timeField] ?? {})) {
      const m: Document = { [opts.timeField]: data[opts.timeField]![n] };
      if (opts.metaField !== undefined && typed.meta !== undefined) m[opts.metaField] = typed.meta;
      for (const field of others) if (data[field]![n] !== undefined) m[field] = data[field]![n];
      const raw = serialize(m);
      out.push({ js: decodeBson(raw), raw });
    }
  }
  return out;
}
