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

function smaller(a: unknown, b: unknown): boolean {
  if (a instanceof Date && b instanceof Date) return a.getTime() < b.getTime();
  if (typeof a === typeof b && (typeof a === 'number' || typeof a === 'string'))
    return (a as number) < (b as number);
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
  const measurement: Document = { _id: input._id ?? new ObjectId(), ...input };
  const meta = opts.metaField === undefined ? undefined : measurement[opts.metaField];
  if (opts.metaField !== undefined) delete measurement[opts.metaField];
  const buckets = bucketsOf(ctx, ts);

  const open = buckets.all().find((b) => {
    if (isCompressed(b)) return false;
    const c = b.js.control as { min: Document };
    const start = (c.min[opts.timeField] as Date).getTime();
    return (
      bsonEqual(b.js.meta, meta) &&
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
  const post = decodeBson(open.raw); // a deep copy that keeps BSON values what they are
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
    const data = b.js.data as Record<string, Document>;
    for (const n of Object.keys(data[opts.timeField] ?? {})) {
      const js: Document = {};
      for (const [field, column] of Object.entries(data)) if (column[n] !== undefined) js[field] = column[n];
      if (opts.metaField !== undefined && b.js.meta !== undefined) js[opts.metaField] = b.js.meta;
      out.push({ js, raw: serialize(js) });
    }
  }
  return out;
}
