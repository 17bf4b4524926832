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

/** What a diff does to one field (the kinds of ObjectDiff.kinds). */
const DELETE = 0;
const UPDATE = 1;
const INSERT = 2;
const SUB = 3;
const SUB_ARRAY = 4;
const BINARY = 5;

/**
 * An object diff read into parallel arrays, one slot per field it names: no object, Map or
 * Buffer view per field (replay applies one diff per update, and these were most of its
 * allocations). Slot k: the field name is bytes [nameStart, nameEnd) of srcs[k]; for an update or
 * insert the new element is bytes [elStart, elEnd) of srcs[k] (a diff value is an element already
 * named like the target field), for a sub-diff or a binary change the embedded document is.
 */
interface ObjectDiff {
  kinds: number[];
  srcs: Buffer[];
  nameStart: number[];
  nameEnd: number[];
  elStart: number[];
  elEnd: number[];
  /** Slots appended when not already placed: updates then inserts, in diff order. */
  toAppend: number[];
}

/** An object diff is an array diff when it carries `a: true`. */
function isArrayDiff(diff: Buffer): boolean {
  for (const e of elements(diff)) if (e.name === 'a') return isTruthy(diff, e);
  return false;
}

function section(diff: Buffer, e: RawElement): Buffer {
  if (e.type !== T.object) bad(`diff section "${e.name}" is not a document`);
  return subDocument(diff, e);
}

const sameBytes = (a: Buffer, as: number, ae: number, b: Buffer, bs: number, be: number): boolean => {
  if (ae - as !== be - bs) return false;
  for (let k = 0; k < ae - as; k++) if (a[as + k] !== b[bs + k]) return false;
  return true;
};

/** Slots up to this many are matched against a document's fields by their bytes; more by name. */
const FEW = 16;

// Module-level helpers, not closures: a closure made per diff costs more than the work it does.
function add(d: ObjectDiff, kind: number, src: Buffer, ns: number, ne: number, es: number, ee: number): void {
  d.kinds.push(kind);
  d.srcs.push(src);
  d.nameStart.push(ns);
  d.nameEnd.push(ne);
  d.elStart.push(es);
  d.elEnd.push(ee);
}

const slotName = (d: ObjectDiff, k: number): string =>
  d.srcs[k]!.toString('utf8', d.nameStart[k], d.nameEnd[k]);

function readObjectDiff(diff: Buffer): ObjectDiff {
  const d: ObjectDiff = {
    kinds: [],
    srcs: [],
    nameStart: [],
    nameEnd: [],
    elStart: [],
    elEnd: [],
    toAppend: [],
  };
  const inserts: number[] = [];
  const e = new ElementCursor(diff);
  while (e.next()) {
    const nameLen = e.valueStart - 1 - (e.start + 1);
    const c = diff[e.start + 1];
    if (nameLen === 1 && (c === 0x64 || c === 0x75 || c === 0x69 || c === 0x62)) {
      // d, u, i, b
      const sub = section(diff, e);
      const f = new ElementCursor(sub);
      while (f.next()) {
        const ns = f.start + 1;
        const ne = f.valueStart - 1;
        if (c === 0x64) add(d, DELETE, sub, ns, ne, f.start, f.end);
        else if (c === 0x62) {
          if (f.type !== T.object) bad(`binary diff for ${f.name} is not a document`);
          add(d, BINARY, sub, ns, ne, f.valueStart, f.end);
        } else {
          const slot = d.kinds.length;
          add(d, c === 0x75 ? UPDATE : INSERT, sub, ns, ne, f.start, f.end);
          (c === 0x75 ? d.toAppend : inserts).push(slot);
        }
      }
    } else if (nameLen > 1 && c === 0x73) {
      // s<field>: a sub-diff
      if (e.type !== T.object) bad(`sub-diff ${e.name} is not a document`);
      const array = isArrayDiff(subDocument(diff, e));
      add(d, array ? SUB_ARRAY : SUB, diff, e.start + 2, e.valueStart - 1, e.valueStart, e.end);
    } else {
      bad(`unexpected field "${e.name}" in a $v:2 diff`);
    }
  }
  for (const slot of inserts) d.toAppend.push(slot);
  refuseDuplicates(d);
  return d;
}

/** A diff naming one field twice is refused (mongod 4728000). */
function refuseDuplicates(d: ObjectDiff): void {
  const n = d.kinds.length;
  if (n <= FEW) {
    for (let a = 1; a < n; a++)
      for (let b = 0; b < a; b++)
        if (sameBytes(d.srcs[a]!, d.nameStart[a]!, d.nameEnd[a]!, d.srcs[b]!, d.nameStart[b]!, d.nameEnd[b]!))
          bad(`duplicate field name in diff: ${slotName(d, a)}`);
    return;
  }
  const seen = new Set<string>();
  for (let k = 0; k < n; k++) {
    const s = slotName(d, k);
    if (seen.has(s)) bad(`duplicate field name in diff: ${s}`);
    seen.add(s);
  }
}

/** Applies an object diff to a document (or sub-document); returns the new document. */
export function applyObjectDiff(pre: Buffer, diff: Buffer): Buffer {
  const d = readObjectDiff(diff);
  const { kinds, srcs, nameStart, nameEnd, elStart, elEnd } = d;
  const n = kinds.length;
  const out = new DocBuilder();
  let placed: boolean[] | null = null;
  let binaries = 0;
  for (let k = 0; k < n; k++) if (kinds[k] === BINARY) binaries++;
  const byName = n > FEW ? new Map<string, number>() : null;
  if (byName) for (let k = 0; k < n; k++) byName.set(slotName(d, k), k);
  // Unchanged fields are copied as contiguous runs of the pre-image.
  let runStart = -1;
  let runEnd = -1;
  const e = new ElementCursor(pre);
  while (e.next()) {
    let slot = -1;
    if (byName) slot = byName.get(e.name) ?? -1;
    else {
      const ns = e.start + 1;
      const ne = e.valueStart - 1;
      for (let k = 0; k < n && slot < 0; k++)
        if (sameBytes(pre, ns, ne, srcs[k]!, nameStart[k]!, nameEnd[k]!)) slot = k;
    }
    if (slot < 0) {
      if (runStart < 0) runStart = e.start;
      runEnd = e.end;
      continue;
    }
    if (runStart >= 0) out.appendRange(pre, runStart, runEnd);
    runStart = -1;
    const src = srcs[slot]!;
    switch (kinds[slot]) {
      case DELETE:
      case INSERT: // the pre-image's version goes; the new one is appended at the end
        break;
      case UPDATE:
        out.appendRange(src, elStart[slot]!, elEnd[slot]!);
        (placed ??= new Array<boolean>(n).fill(false))[slot] = true;
        break;
      case SUB:
      case SUB_ARRAY:
        appendSubDiff(out, pre, e, src.subarray(elStart[slot], elEnd[slot]), kinds[slot] === SUB_ARRAY);
        break;
      case BINARY:
        out.append(applyBinaryDiff(pre, e, src.subarray(elStart[slot], elEnd[slot])));
        binaries--;
        break;
    }
  }
  if (runStart >= 0) out.appendRange(pre, runStart, runEnd);
  for (const slot of d.toAppend)
    if (!placed?.[slot]) out.appendRange(srcs[slot]!, elStart[slot]!, elEnd[slot]!);
  // A sub-diff for a field the pre-image lacks is ignored (mongod: a later entry writes the
  // field). A binary diff only ever extends an existing column, so a missing one is refused.
  if (binaries > 0) {
    const have = new Set(elements(pre).map((f) => f.name));
    let missing = '?';
    for (let k = 0; k < n && missing === '?'; k++) {
      const name = slotName(d, k);
      if (kinds[k] === BINARY && !have.has(name)) missing = name;
    }
    bad(`binary diff for ${missing}, which is not binary data`);
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
