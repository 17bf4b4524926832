/**
 * A time-series collection read as mongod shows it: its measurements
 * unpacked from the buckets of `system.buckets.<name>`, as raw BSON.
 *
 * The bucket format (MongoDB 5.0+): `{_id, control: {version, min, max,
 * count?}, meta?, data: {<field>: {"0": v, "1": v, …}, …}}`. Version 1 keeps
 * each column as a plain document keyed by row number, sparse for fields
 * some measurements lack; a measurement is built as mongod's unpacker
 * builds it: the time field, then the meta field (when the bucket has one),
 * then every other column of `data` in its order that has a value at that
 * row. Version 2 buckets (compressed columns, BSONColumn binaries, the
 * default from 8.0 for closed buckets) are refused with UNSUPPORTED: their
 * documents stay readable through `system.buckets.<name>`.
 */
import { ApiError } from '../errors.js';
import {
  DocBuilder,
  T,
  elements,
  field,
  readNumber,
  readString,
  renamed,
  subDocument,
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

/** The measurements of one bucket, in row order. */
export function unpackBucket(bucket: Buffer, spec: TimeseriesSpec): Buffer[] {
  const control = field(bucket, 'control');
  const data = field(bucket, 'data');
  if (!control || control.type !== T.object || !data || data.type !== T.object)
    throw new ApiError('CORRUPT', 'A time-series bucket without control or data.');
  const ctl = subDocument(bucket, control);
  const version = field(ctl, 'version');
  const v = version ? readNumber(ctl, version) : 0;
  const cols = subDocument(bucket, data);
  const colEls = elements(cols);
  if (v !== 1 || colEls.some((c) => c.type === T.binary))
    throw new ApiError(
      'UNSUPPORTED',
      `Time-series buckets of version ${v} (compressed columns) are not unpacked yet; query system.buckets.<name> to read them.`,
    );
  const timeCol = colEls.find((c) => c.name === spec.timeField);
  if (!timeCol || timeCol.type !== T.object) return [];
  const meta = spec.metaField !== null ? field(bucket, 'meta') : undefined;
  const others: { name: string; doc: Buffer; els: RawElement[]; at: number }[] = [];
  for (const c of colEls) {
    if (c.name === spec.timeField || c.type !== T.object) continue;
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
