/**
 * `$set` / `$unset` update entries (`$v: 1` or no `$v`), as MongoDB 4.x
 * logged them, applied to raw BSON. These are the only operators mongod
 * ever wrote to the oplog. Dotted paths descend into documents and arrays
 * (numeric components index arrays, padding with null); a missing parent
 * is created as an empty document appended at the end; `$unset` of an array
 * element leaves null, as mongod does. A path through a scalar is refused
 * (mongod refuses it too).
 */
import { ApiError } from '../errors.js';
import {
  DocBuilder,
  T,
  elementBytes,
  elements,
  emptyDocument,
  makeElement,
  nullElement,
  renamed,
  subDocument,
  type RawElement,
} from './bson-raw.js';

function bad(why: string): never {
  throw new ApiError('INVALID_INPUT', `Cannot apply oplog update: ${why}`);
}

interface Value {
  doc: Buffer;
  e: RawElement;
}

const isIndex = (s: string) => /^(0|[1-9][0-9]*)$/.test(s);

/** Sets `parts` inside `doc` (a document, or an array when `array`); returns the new bytes. */
function setIn(doc: Buffer, parts: string[], value: Value, array: boolean, path: string): Buffer {
  const [name, ...rest] = parts as [string, ...string[]];
  if (array && !isIndex(name)) bad(`cannot set ${path}: "${name}" is not an array index`);
  const els = elements(doc);
  const make = (existing: RawElement | undefined): Buffer => {
    if (rest.length === 0) return renamed(value.doc, value.e, name);
    if (!existing) {
      return makeElement(T.object, name, setIn(emptyDocument(), rest, value, false, path));
    }
    if (existing.type === T.object)
      return makeElement(T.object, name, setIn(subDocument(doc, existing), rest, value, false, path));
    if (existing.type === T.array)
      return makeElement(T.array, name, setIn(subDocument(doc, existing), rest, value, true, path));
    bad(`cannot set ${path}: ${name} is not a document or an array`);
  };
  const out = new DocBuilder();
  if (array) {
    const idx = Number(name);
    for (let k = 0; k < Math.max(els.length, idx + 1); k++) {
      const e = els[k];
      if (k === idx) out.append(make(e));
      else if (e) out.append(elementBytes(doc, e));
      else out.append(nullElement(String(k)));
    }
    return out.finish();
  }
  let done = false;
  for (const e of els) {
    if (e.name === name && !done) {
      out.append(make(e));
      done = true;
    } else out.append(elementBytes(doc, e));
  }
  if (!done) out.append(make(undefined));
  return out.finish();
}

/** Removes `parts` from `doc`; null when nothing changes (a missing path is a no-op). */
function unsetIn(doc: Buffer, parts: string[], array: boolean): Buffer | null {
  const [name, ...rest] = parts as [string, ...string[]];
  const els = elements(doc);
  const out = new DocBuilder();
  let changed = false;
  for (const e of els) {
    if (e.name !== name || changed) {
      out.append(elementBytes(doc, e));
      continue;
    }
    if (rest.length === 0) {
      changed = true;
      if (array) out.append(nullElement(name)); // an array keeps its length
      continue;
    }
    const inner =
      e.type === T.object || e.type === T.array
        ? unsetIn(subDocument(doc, e), rest, e.type === T.array)
        : null;
    if (inner) {
      out.append(makeElement(e.type, name, inner));
      changed = true;
    } else out.append(elementBytes(doc, e));
  }
  return changed ? out.finish() : null;
}

/** Applies `{$set: {...}, $unset: {...}}` (with or without `$v: 1`). */
export function applyModifiers(pre: Buffer, o: Buffer): Buffer {
  let doc = pre;
  for (const op of elements(o)) {
    if (op.name === '$v') continue;
    if (op.name !== '$set' && op.name !== '$unset') bad(`unsupported $v:1 operator ${op.name}`);
    if (op.type !== T.object) bad(`${op.name} is not a document`);
    const args = subDocument(o, op);
    for (const f of elements(args)) {
      const parts = f.name.split('.');
      if (parts.some((p) => p === '')) bad(`empty field name in path "${f.name}"`);
      if (op.name === '$set') doc = setIn(doc, parts, { doc: args, e: f }, false, f.name);
      else doc = unsetIn(doc, parts, false) ?? doc;
    }
  }
  return doc;
}
