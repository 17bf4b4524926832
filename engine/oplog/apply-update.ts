/**
 * Applies the `o` of an oplog update entry to a document, as a secondary or
 * mongorestore does:
 *  - `{$v: 2, diff}` (MongoDB 5.0+): `u` updates fields, `i` inserts fields
 *    (appended), `d` deletes fields, `s<field>` holds a nested diff; a nested
 *    diff with `a: true` is an array diff (`u<index>`, `s<index>`, `l` new length);
 *    `b` holds binary (BSONColumn) appends of time-series buckets (MongoDB 8.0);
 *  - `$set` / `$unset` with `$v: 1` or no `$v` (MongoDB 4.x);
 *  - a replacement (a whole document without `$v` or operators).
 * Documents are plain objects as deserialized by `bson`; the input is not mutated.
 */
import { Binary } from 'bson';
import { ApiError } from '../errors.js';

type Doc = Record<string, unknown>;

/** A plain (sub)document, as opposed to arrays and BSON values (ObjectId, Date, Binary…). */
export const isPlainObject = (v: unknown): v is Doc =>
  typeof v === 'object' &&
  v !== null &&
  !Array.isArray(v) &&
  (v as { _bsontype?: unknown })._bsontype === undefined &&
  !(v instanceof Date) &&
  !(v instanceof RegExp) &&
  !ArrayBuffer.isView(v);

function bad(why: string): never {
  throw new ApiError('INVALID_INPUT', `Cannot apply oplog update: ${why}`);
}

function applyObjectDiff(target: Doc, diff: Doc): Doc {
  const out: Doc = { ...target };
  const del = diff.d as Doc | undefined;
  if (del) for (const k of Object.keys(del)) delete out[k];
  const upd = diff.u as Doc | undefined;
  if (upd) for (const [k, v] of Object.entries(upd)) out[k] = v;
  for (const [key, sub] of Object.entries(diff)) {
    if (key.length < 2 || key[0] !== 's') continue;
    const field = key.slice(1);
    out[field] = applySubDiff(out[field], sub as Doc, field);
  }
  const bin = diff.b as Doc | undefined;
  if (bin) for (const [k, change] of Object.entries(bin)) out[k] = applyBinaryDiff(out[k], change as Doc, k);
  const ins = diff.i as Doc | undefined;
  if (ins) {
    for (const [k, v] of Object.entries(ins)) {
      delete out[k]; // inserted fields go to the end
      out[k] = v;
    }
  }
  return out;
}

/**
 * A `b` (binary) section, which MongoDB 8.0 logs for time-series buckets:
 * `{o: offset, d: bytes}` keeps the existing BSONColumn up to `o` and
 * appends `d` (a column only grows; its tail is re-encoded from `o`).
 */
function applyBinaryDiff(value: unknown, change: Doc, path: string): Binary {
  if (!(value instanceof Binary)) bad(`binary diff for ${path}, which is not binary data`);
  const offset = Number(change.o);
  const data = change.d;
  if (!Number.isInteger(offset) || offset < 0 || offset > value.length())
    bad(`binary diff offset ${String(change.o)} outside ${path} (${value.length()} bytes)`);
  if (!(data instanceof Binary)) bad(`binary diff for ${path} without data`);
  const bytes = new Uint8Array(offset + data.length());
  bytes.set(value.buffer.subarray(0, offset), 0);
  bytes.set(data.buffer.subarray(0, data.length()), offset);
  return new Binary(bytes, value.sub_type);
}

function applySubDiff(value: unknown, sub: Doc, path: string): unknown {
  if (sub.a === true) {
    if (!Array.isArray(value)) bad(`array diff for ${path}, which is not an array`);
    return applyArrayDiff(value, sub, path);
  }
  if (!isPlainObject(value)) bad(`object diff for ${path}, which is not an object`);
  return applyObjectDiff(value, sub);
}

function applyArrayDiff(arr: unknown[], diff: Doc, path: string): unknown[] {
  const out = [...arr];
  // `l` is the new length: it truncates (appends are logged as u<index> past the end).
  const newLength = diff.l === undefined ? null : Number(diff.l);
  if (newLength !== null && (!Number.isInteger(newLength) || newLength < 0))
    bad(`bad array length at ${path}`);
  if (newLength !== null && newLength < out.length) out.length = newLength;
  for (const [key, v] of Object.entries(diff)) {
    if (key === 'a' || key === 'l') continue;
    const idx = Number(key.slice(1));
    if (!Number.isInteger(idx) || idx < 0) bad(`bad array diff key ${key} at ${path}`);
    if (key[0] === 'u') {
      while (out.length < idx) out.push(null); // MongoDB pads with null
      out[idx] = v;
    } else if (key[0] === 's') out[idx] = applySubDiff(out[idx], v as Doc, `${path}.${idx}`);
    else bad(`bad array diff key ${key} at ${path}`);
  }
  if (newLength !== null) while (out.length < newLength) out.push(null);
  return out;
}

function setPath(doc: Doc, path: string, value: unknown): void {
  const parts = path.split('.');
  let cur: Doc | unknown[] = doc;
  for (let k = 0; k < parts.length - 1; k++) {
    const p = parts[k]!;
    const next = (cur as Doc)[p];
    if (next === undefined || next === null) (cur as Doc)[p] = {};
    else if (Array.isArray(next)) (cur as Doc)[p] = [...next];
    else if (isPlainObject(next)) (cur as Doc)[p] = { ...next };
    else bad(`cannot set ${path}: ${parts.slice(0, k + 1).join('.')} is not a document`);
    cur = (cur as Doc)[p] as Doc;
  }
  (cur as Doc)[parts[parts.length - 1]!] = value;
}

function unsetPath(doc: Doc, path: string): void {
  const parts = path.split('.');
  let cur: unknown = doc;
  for (let k = 0; k < parts.length - 1; k++) {
    const p = parts[k]!;
    const next = (cur as Doc)?.[p];
    if (next === undefined || next === null || typeof next !== 'object') return;
    (cur as Doc)[p] = Array.isArray(next) ? [...next] : { ...(next as Doc) };
    cur = (cur as Doc)[p];
  }
  const last = parts[parts.length - 1]!;
  if (Array.isArray(cur))
    (cur as unknown[])[Number(last)] = null; // $unset on an array element leaves null
  else delete (cur as Doc)[last];
}

export function applyUpdate(doc: Doc, o: Doc): Doc {
  const v = o.$v === undefined ? undefined : Number(o.$v);
  if (v === 2) {
    if (!isPlainObject(o.diff)) bad('$v: 2 without a diff');
    return applyObjectDiff(doc, o.diff);
  }
  const ops = Object.keys(o).filter((k) => k.startsWith('$') && k !== '$v');
  if (v === 1 || ops.length > 0) {
    const out: Doc = { ...doc };
    for (const op of ops) {
      const fields = o[op] as Doc;
      if (op === '$set') for (const [p, val] of Object.entries(fields)) setPath(out, p, val);
      else if (op === '$unset') for (const p of Object.keys(fields)) unsetPath(out, p);
      else bad(`unsupported $v:1 operator ${op}`);
    }
    return out;
  }
  // Replacement: the new document, keeping _id first.
  const { _id, ...rest } = o;
  return { _id: _id ?? doc._id, ...rest };
}
