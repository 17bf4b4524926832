/**
 * `$v: 2` update diffs (MongoDB 5.0+) applied to raw BSON, following
 * mongod's own applier (src/mongo/db/update/document_diff_applier.cpp) in
 * every case, including re-application to a newer pre-image (a document a
 * snapshot read after the entry was written), where mongod converges
 * instead of failing:
 *
 * - object diff: `d` deletes, `u` replaces a field in place (or appends it
 *   when absent), `i` (re)inserts a field at the end, `s<field>` holds a
 *   sub-diff; updates are appended before inserts, in diff order;
 * - a sub-diff whose field is missing is ignored; one whose field has
 *   another type (an object diff on a scalar or an array, an array diff on
 *   a non-array) sets the field to null, which a later entry overwrites;
 * - array diff (`a: true`): `l` is the new length (shorter: truncate,
 *   longer: pad with null), `u<i>` sets an index (padding with null),
 *   `s<i>` a sub-diff of an element (null when that element is missing or
 *   of the wrong type);
 * - `b` (MongoDB 8.0 time-series buckets): BSONColumn binary appends.
 *
 * Diff values are BSON elements already named like the target field, so
 * they are copied byte for byte: types and field order survive.
 */
import { ApiError } from '../errors.js';
import {
  DocBuilder,
  ElementCursor,
  T,
  elementBytes,
  elements,
  isTruthy,
  makeElement,
  nullElement,
  readNumber,
  renamed,
  subDocument,
  type RawElement,
} from './bson-raw.js';

function bad(why: string): never {
  throw new ApiError('INVALID_INPUT', `Cannot apply oplog update: ${why}`);
}

type FieldMod =
  | { kind: 'delete' }
  | { kind: 'update'; element: Buffer }
  | { kind: 'insert'; element: Buffer }
  | { kind: 'sub'; diff: Buffer; array: boolean }
  | { kind: 'binary'; change: Buffer };

interface ObjectDiff {
  mods: Map<string, FieldMod>;
  /** Updates then inserts, in diff order: what is appended when not already placed. */
  toAppend: { name: string; element: Buffer }[];
}

/** An object diff is an array diff when it carries `a: true`. */
function isArrayDiff(diff: Buffer): boolean {
  for (const e of elements(diff)) if (e.name === 'a') return isTruthy(diff, e);
  return false;
}

function put(mods: Map<string, FieldMod>, name: string, mod: FieldMod): void {
  if (mods.has(name)) bad(`duplicate field name in diff: ${name}`); // mongod 4728000
  mods.set(name, mod);
}

function section(diff: Buffer, e: RawElement): Buffer {
  if (e.type !== T.object) bad(`diff section "${e.name}" is not a document`);
  return subDocument(diff, e);
}

function readObjectDiff(diff: Buffer): ObjectDiff {
  const mods = new Map<string, FieldMod>();
  const updates: { name: string; element: Buffer }[] = [];
  const inserts: { name: string; element: Buffer }[] = [];
  for (const e of elements(diff)) {
    if (e.name === 'd') {
      for (const f of elements(section(diff, e))) put(mods, f.name, { kind: 'delete' });
    } else if (e.name === 'u' || e.name === 'i') {
      const sub = section(diff, e);
      const list = e.name === 'u' ? updates : inserts;
      for (const f of elements(sub)) {
        const element = elementBytes(sub, f);
        put(mods, f.name, e.name === 'u' ? { kind: 'update', element } : { kind: 'insert', element });
        list.push({ name: f.name, element });
      }
    } else if (e.name === 'b') {
      const sub = section(diff, e);
      for (const f of elements(sub)) {
        if (f.type !== T.object) bad(`binary diff for ${f.name} is not a document`);
        put(mods, f.name, { kind: 'binary', change: subDocument(sub, f) });
      }
    } else if (e.name.length > 1 && e.name[0] === 's') {
      if (e.type !== T.object) bad(`sub-diff ${e.name} is not a document`);
      const sub = subDocument(diff, e);
      put(mods, e.name.slice(1), { kind: 'sub', diff: sub, array: isArrayDiff(sub) });
    } else {
      bad(`unexpected field "${e.name}" in a $v:2 diff`);
    }
  }
  for (const f of inserts) updates.push(f);
  return { mods, toAppend: updates };
}

/** Applies an object diff to a document (or sub-document); returns the new document. */
export function applyObjectDiff(pre: Buffer, diff: Buffer): Buffer {
  const { mods, toAppend } = readObjectDiff(diff);
  const out = new DocBuilder();
  let placed: Set<string> | null = null;
  let binaries = 0;
  // A diff touches a few fields: their names compared as bytes spare decoding every field name.
  const few = mods.size <= 8;
  const names: Uint8Array[] = [];
  const byIndex: FieldMod[] = [];
  for (const [name, mod] of mods) {
    if (mod.kind === 'binary') binaries++;
    if (few) {
      names.push(Buffer.from(name, 'utf8'));
      byIndex.push(mod);
    }
  }
  // Unchanged fields are copied as contiguous runs of the pre-image.
  let runStart = -1;
  let runEnd = -1;
  const e = new ElementCursor(pre);
  while (e.next()) {
    let mod: FieldMod | undefined;
    if (few) {
      for (let k = 0; k < names.length; k++) if (e.nameIs(names[k]!)) mod = byIndex[k];
    } else mod = mods.get(e.name);
    if (!mod) {
      if (runStart < 0) runStart = e.start;
      runEnd = e.end;
      continue;
    }
    if (runStart >= 0) out.appendRange(pre, runStart, runEnd);
    runStart = -1;
    switch (mod.kind) {
      case 'delete':
      case 'insert': // the pre-image's version goes; the new one is appended at the end
        break;
      case 'update':
        out.append(mod.element);
        (placed ??= new Set()).add(e.name);
        break;
      case 'sub':
        appendSubDiff(out, pre, e, mod.diff, mod.array);
        break;
      case 'binary':
        out.append(applyBinaryDiff(pre, e, mod.change));
        binaries--;
        break;
    }
  }
  if (runStart >= 0) out.appendRange(pre, runStart, runEnd);
  for (const f of toAppend) if (!placed?.has(f.name)) out.append(f.element);
  // A sub-diff for a field the pre-image lacks is ignored (mongod: a later entry writes the
  // field). A binary diff only ever extends an existing column, so a missing one is refused.
  if (binaries > 0) {
    const have = new Set(elements(pre).map((e) => e.name));
    const missing = [...mods].find(([name, mod]) => mod.kind === 'binary' && !have.has(name));
    bad(`binary diff for ${missing?.[0] ?? '?'}, which is not binary data`);
  }
  return out.finish();
}

/** Appends element `e` of `doc` with the sub-diff applied, or null when the types do not match. */
function appendSubDiff(out: DocBuilder, doc: Buffer, e: RawElement, diff: Buffer, array: boolean): void {
  if (array && e.type === T.array)
    out.appendWithValue(doc, e, T.array, applyArrayDiff(subDocument(doc, e), diff));
  else if (!array && e.type === T.object)
    out.appendWithValue(doc, e, T.object, applyObjectDiff(subDocument(doc, e), diff));
  else out.append(nullElement(e.name)); // re-application onto a newer value of another type
}

type ArrayMod =
  | { index: number; kind: 'update'; doc: Buffer; e: RawElement }
  | { index: number; kind: 'sub'; diff: Buffer; array: boolean };

function readArrayDiff(diff: Buffer): { newSize: number | null; mods: ArrayMod[] } {
  let newSize: number | null = null;
  const mods: ArrayMod[] = [];
  for (const e of elements(diff)) {
    if (e.name === 'a') continue;
    if (e.name === 'l') {
      newSize = readNumber(diff, e);
      if (!Number.isInteger(newSize) || newSize < 0) bad(`bad array length ${newSize}`);
      continue;
    }
    const index = /^[us](0|[1-9][0-9]*)$/.test(e.name) ? Number(e.name.slice(1)) : NaN;
    if (!Number.isSafeInteger(index)) bad(`bad array diff key ${e.name}`);
    if (e.name[0] === 'u') mods.push({ index, kind: 'update', doc: diff, e });
    else {
      if (e.type !== T.object) bad(`array sub-diff ${e.name} is not a document`);
      const sub = subDocument(diff, e);
      mods.push({ index, kind: 'sub', diff: sub, array: isArrayDiff(sub) });
    }
  }
  mods.sort((a, b) => a.index - b.index);
  for (let k = 1; k < mods.length; k++)
    if (mods[k]!.index === mods[k - 1]!.index) bad(`array diff modifies index ${mods[k]!.index} twice`);
  return { newSize, mods };
}

/** Applies an array diff to a BSON array (a document keyed "0", "1"…); returns the new array. */
export function applyArrayDiff(pre: Buffer, diff: Buffer): Buffer {
  const { newSize, mods } = readArrayDiff(diff);
  let items = elements(pre);
  // mongod rebuilds arrays keyed 0, 1, 2…: an array stored with other keys is renamed first.
  if (items.some((item, k) => item.name !== String(k))) {
    const canonical = new DocBuilder();
    items.forEach((item, k) => canonical.append(renamed(pre, item, String(k))));
    pre = canonical.finish();
    items = elements(pre);
  }
  const out = new DocBuilder();
  let m = 0;
  let idx = 0;
  for (; idx < items.length && (newSize === null || idx < newSize); idx++) {
    const item = items[idx]!;
    if (m < mods.length && mods[m]!.index === idx) appendArrayMod(out, pre, idx, item, mods[m++]!);
    else out.append(elementBytes(pre, item));
  }
  // The pre-image was shorter than the diff expects: pad with null.
  for (; (newSize !== null && idx < newSize) || m < mods.length; idx++) {
    if (m < mods.length && mods[m]!.index === idx) appendArrayMod(out, pre, idx, undefined, mods[m++]!);
    else out.append(nullElement(String(idx)));
  }
  if (newSize !== null && idx !== newSize)
    bad(`array diff modifies index ${idx - 1} beyond new length ${newSize}`);
  return out.finish();
}

function appendArrayMod(
  out: DocBuilder,
  pre: Buffer,
  idx: number,
  item: RawElement | undefined,
  mod: ArrayMod,
): void {
  if (mod.kind === 'update') out.append(renamed(mod.doc, mod.e, String(idx)));
  // A sub-diff for an element that is missing or of another type: null (a later entry rewrites it).
  else if (!item) out.append(nullElement(String(idx)));
  else appendSubDiff(out, pre, item, mod.diff, mod.array);
}

/**
 * `b` section (MongoDB 8.0 time-series buckets): `{o: offset, d: bytes}`
 * keeps the existing BSONColumn up to `o` and appends `d` (a column only
 * grows; its tail is re-encoded from `o`). The column keeps its subtype.
 */
function applyBinaryDiff(doc: Buffer, e: RawElement, change: Buffer): Buffer {
  if (e.type !== T.binary) bad(`binary diff for ${e.name}, which is not binary data`);
  let offset: number | null = null;
  let data: Buffer | null = null;
  for (const f of elements(change)) {
    if (f.name === 'o') offset = readNumber(change, f);
    else if (f.name === 'd' && f.type === T.binary) data = change.subarray(f.valueStart + 5, f.end);
  }
  const len = doc.readInt32LE(e.valueStart);
  const subtype = doc[e.valueStart + 4]!;
  if (offset === null || !Number.isInteger(offset) || offset < 0 || offset > len)
    bad(`binary diff offset ${String(offset)} outside ${e.name} (${len} bytes)`);
  if (!data) bad(`binary diff for ${e.name} without data`);
  const value = Buffer.allocUnsafe(5 + offset + data.length);
  value.writeInt32LE(offset + data.length, 0);
  value[4] = subtype;
  doc.copy(value, 5, e.valueStart + 5, e.valueStart + 5 + offset);
  data.copy(value, 5 + offset);
  return makeElement(T.binary, e.name, value);
}
