/**
 * A reference applier of oplog update entries, written for the tests from
 * mongod's own rules (src/mongo/db/update/document_diff_applier.cpp and the
 * documented $v:1 / replacement forms), independently of engine/oplog. The
 * tests use it to judge what the stand-in logs and what a rebuild produces.
 *
 * Documents are held as an ordered raw representation: fields in their BSON
 * order (so names like "2024" stay where they are, unlike JavaScript object
 * keys), scalar values as their exact BSON bytes (a Double(2.0) stays a
 * double, an Int64 an Int64). Nothing goes through JavaScript numbers.
 *
 * `$v: 2` as mongod applies it, including re-application to a newer
 * pre-image (initial sync and replay over a snapshot taken while writes ran):
 *  - u: replace the field in place; a field the pre-image lacks is appended
 *    (updates first, then inserts, in diff order);
 *  - i: remove the field where it is and append it at the end;
 *  - d: remove the field (absent: nothing);
 *  - s<field>: apply the sub-diff when the pre-image holds the same kind
 *    (object for an object diff, array for one with `a: true`); a scalar or
 *    the other kind becomes null, a missing field stays missing;
 *  - array diffs: `l` truncates or pads with null; u<i> sets index i (null
 *    padding before it); s<i> with no element or the wrong kind gives null.
 */
import { onDemand } from 'bson';

export type RValue = RDoc | RArr | RLeaf;
export interface RDoc {
  kind: 'doc';
  fields: [string, RValue][];
}
export interface RArr {
  kind: 'arr';
  items: RValue[];
}
/** A scalar: its BSON type byte and value bytes, untouched. */
export interface RLeaf {
  kind: 'leaf';
  type: number;
  bytes: Uint8Array;
}

export class ReferenceApplyError extends Error {}

type Element = [type: number, nameOffset: number, nameLength: number, offset: number, length: number];

const NULL: RLeaf = { kind: 'leaf', type: 0x0a, bytes: new Uint8Array(0) };

function parseValue(raw: Uint8Array, type: number, off: number, len: number): RValue {
  const body = raw.subarray(off, off + len);
  if (type === 0x03) return parseDoc(body);
  if (type === 0x04) return { kind: 'arr', items: parseDoc(body).fields.map(([, v]) => v) };
  return { kind: 'leaf', type, bytes: body };
}

/** Parses a BSON document into the ordered representation (no value is decoded). */
export function parseDoc(raw: Uint8Array): RDoc {
  const fields: [string, RValue][] = [];
  for (const [type, nameOff, nameLen, off, len] of onDemand.parseToElements(raw) as Iterable<Element>) {
    const name = Buffer.from(raw.buffer, raw.byteOffset + nameOff, nameLen).toString('utf8');
    fields.push([name, parseValue(raw, type, off, len)]);
  }
  return { kind: 'doc', fields };
}

function typeOf(v: RValue): number {
  return v.kind === 'doc' ? 0x03 : v.kind === 'arr' ? 0x04 : v.type;
}

function encodeValue(v: RValue): Buffer {
  if (v.kind === 'leaf') return Buffer.from(v.bytes);
  if (v.kind === 'doc') return toBson(v);
  return toBson({ kind: 'doc', fields: v.items.map((x, k) => [String(k), x]) });
}

/** Serializes the ordered representation back to BSON. */
export function toBson(doc: RDoc): Buffer {
  const parts: Buffer[] = [];
  for (const [name, v] of doc.fields)
    parts.push(Buffer.from([typeOf(v)]), Buffer.from(`${name}\0`, 'utf8'), encodeValue(v));
  const body = Buffer.concat(parts);
  const out = Buffer.alloc(body.length + 5);
  out.writeInt32LE(out.length, 0);
  body.copy(out, 4);
  return out;
}

const field = (d: RDoc, name: string): RValue | undefined => d.fields.find(([n]) => n === name)?.[1];

/** A numeric scalar (int32, int64, double) as a number, else null. */
function numberOf(v: RValue | undefined): number | null {
  if (v?.kind !== 'leaf') return null;
  const b = Buffer.from(v.bytes);
  if (v.type === 0x10) return b.readInt32LE(0);
  if (v.type === 0x12) return Number(b.readBigInt64LE(0));
  if (v.type === 0x01) return b.readDoubleLE(0);
  return null;
}

function asDoc(v: RValue | undefined, what: string): RDoc {
  if (v?.kind !== 'doc') throw new ReferenceApplyError(`${what} is not a document`);
  return v;
}

const isArrayDiff = (d: RDoc) => field(d, 'a') !== undefined;

type Mod =
  { t: 'delete' } | { t: 'update'; v: RValue } | { t: 'insert'; v: RValue } | { t: 'sub'; diff: RDoc };

function applyObjectDiff(pre: RDoc, diff: RDoc): RDoc {
  const mods = new Map<string, Mod>();
  const toInsert: [string, RValue][] = [];
  const add = (name: string, m: Mod) => {
    if (mods.has(name)) throw new ReferenceApplyError(`duplicate field name in diff: ${name}`);
    mods.set(name, m);
  };
  for (const [name, v] of diff.fields) {
    if (name === 'd') for (const [f] of asDoc(v, 'd').fields) add(f, { t: 'delete' });
  }
  for (const [name, v] of diff.fields) {
    if (name !== 'u') continue;
    for (const [f, nv] of asDoc(v, 'u').fields) {
      add(f, { t: 'update', v: nv });
      toInsert.push([f, nv]);
    }
  }
  for (const [name, v] of diff.fields) {
    if (name !== 'i') continue;
    for (const [f, nv] of asDoc(v, 'i').fields) {
      add(f, { t: 'insert', v: nv });
      toInsert.push([f, nv]);
    }
  }
  for (const [name, v] of diff.fields) {
    if (name.length > 1 && name[0] === 's') add(name.slice(1), { t: 'sub', diff: asDoc(v, name) });
    else if (name === 'b')
      throw new ReferenceApplyError('binary (b) diffs are not modelled by the reference');
    else if (!['d', 'u', 'i'].includes(name)) throw new ReferenceApplyError(`unknown diff section ${name}`);
  }
  const out: [string, RValue][] = [];
  const placed = new Set<string>();
  for (const [name, v] of pre.fields) {
    const m = mods.get(name);
    if (!m) out.push([name, v]);
    else if (m.t === 'update') {
      out.push([name, m.v]);
      placed.add(name);
    } else if (m.t === 'sub') {
      if (v.kind === 'doc' && !isArrayDiff(m.diff)) out.push([name, applyObjectDiff(v, m.diff)]);
      else if (v.kind === 'arr' && isArrayDiff(m.diff)) out.push([name, applyArrayDiff(v, m.diff)]);
      else out.push([name, NULL]); // a later entry rewrites it (re-application)
    }
    // delete: dropped; insert: dropped here, appended below
  }
  for (const [name, v] of toInsert) if (!placed.has(name)) out.push([name, v]);
  return { kind: 'doc', fields: out };
}

function applyArrayDiff(pre: RArr, diff: RDoc): RArr {
  const l = field(diff, 'l');
  const resize = l === undefined ? null : numberOf(l);
  if (l !== undefined && (resize === null || !Number.isInteger(resize) || resize < 0))
    throw new ReferenceApplyError('bad array diff length');
  const mods: { idx: number; m: { t: 'update'; v: RValue } | { t: 'sub'; diff: RDoc } }[] = [];
  for (const [name, v] of diff.fields) {
    if (name === 'a' || name === 'l') continue;
    const idx = Number(name.slice(1));
    if (!/^[us]\d+$/.test(name)) throw new ReferenceApplyError(`bad array diff key ${name}`);
    mods.push({ idx, m: name[0] === 'u' ? { t: 'update', v } : { t: 'sub', diff: asDoc(v, name) } });
  }
  const items: RValue[] = [];
  const apply = (preValue: RValue | undefined, m: (typeof mods)[number]['m']): RValue => {
    if (m.t === 'update') return m.v;
    if (preValue?.kind === 'arr' && isArrayDiff(m.diff)) return applyArrayDiff(preValue, m.diff);
    if (preValue?.kind === 'doc' && !isArrayDiff(m.diff)) return applyObjectDiff(preValue, m.diff);
    return NULL;
  };
  let next = 0;
  let idx = 0;
  for (; idx < pre.items.length && (resize === null || idx < resize); idx++) {
    if (next < mods.length && mods[next]!.idx === idx) items.push(apply(pre.items[idx], mods[next++]!.m));
    else items.push(pre.items[idx]!);
  }
  for (; (resize !== null && idx < resize) || next < mods.length; idx++) {
    if (next < mods.length && mods[next]!.idx === idx) items.push(apply(undefined, mods[next++]!.m));
    else items.push(NULL);
  }
  return { kind: 'arr', items };
}

/** Field names in the order mongod's update operators process them: numeric names numerically. */
function compareComponent(a: string, b: string): number {
  const na = /^\d+$/.test(a);
  const nb = /^\d+$/.test(b);
  if (na && nb) return Number(a) - Number(b);
  return a < b ? -1 : a > b ? 1 : 0;
}

function comparePaths(a: string, b: string): number {
  const pa = a.split('.');
  const pb = b.split('.');
  for (let k = 0; k < Math.min(pa.length, pb.length); k++) {
    const c = compareComponent(pa[k]!, pb[k]!);
    if (c) return c;
  }
  return pa.length - pb.length;
}

function setPath(container: RDoc | RArr, parts: string[], value: RValue, path: string): void {
  const [head, ...rest] = parts as [string, ...string[]];
  if (container.kind === 'arr') {
    if (!/^\d+$/.test(head)) throw new ReferenceApplyError(`cannot set ${path}: ${head} is not an index`);
    const idx = Number(head);
    while (container.items.length < idx) container.items.push(NULL);
    if (rest.length === 0) {
      container.items[idx] = value;
      return;
    }
    let child = container.items[idx];
    if (child === undefined || (child.kind === 'leaf' && child.type === 0x0a)) {
      child = { kind: 'doc', fields: [] };
      container.items[idx] = child;
    }
    if (child.kind === 'leaf') throw new ReferenceApplyError(`cannot set ${path}: a scalar is in the way`);
    setPath(child, rest, value, path);
    return;
  }
  const at = container.fields.findIndex(([n]) => n === head);
  if (rest.length === 0) {
    if (at >= 0) container.fields[at] = [head, value];
    else container.fields.push([head, value]);
    return;
  }
  let child = at >= 0 ? container.fields[at]![1] : undefined;
  if (child === undefined) {
    child = { kind: 'doc', fields: [] };
    container.fields.push([head, child]);
  }
  if (child.kind === 'leaf') throw new ReferenceApplyError(`cannot set ${path}: a scalar is in the way`);
  setPath(child, rest, value, path);
}

function unsetPath(container: RDoc | RArr, parts: string[]): void {
  const [head, ...rest] = parts as [string, ...string[]];
  if (container.kind === 'arr') {
    const idx = Number(head);
    if (!Number.isInteger(idx) || idx >= container.items.length) return;
    if (rest.length === 0)
      container.items[idx] = NULL; // $unset of an element leaves null
    else {
      const child = container.items[idx]!;
      if (child.kind !== 'leaf') unsetPath(child, rest);
    }
    return;
  }
  const at = container.fields.findIndex(([n]) => n === head);
  if (at < 0) return;
  if (rest.length === 0) container.fields.splice(at, 1);
  else {
    const child = container.fields[at]![1];
    if (child.kind !== 'leaf') unsetPath(child, rest);
  }
}

const clone = <T extends RValue>(v: T): T =>
  (v.kind === 'doc'
    ? { kind: 'doc', fields: v.fields.map(([n, x]) => [n, clone(x)]) }
    : v.kind === 'arr'
      ? { kind: 'arr', items: v.items.map(clone) }
      : v) as T;

/** Applies the `o` of an update entry (`$v: 2` diff, `$v: 1` / 4.x modifiers, or a replacement). */
export function applyUpdateDoc(pre: RDoc, o: RDoc): RDoc {
  const v = numberOf(field(o, '$v'));
  if (v === 2) return applyObjectDiff(pre, asDoc(field(o, 'diff'), '$v:2 diff'));
  const operators = o.fields.filter(([n]) => n.startsWith('$') && n !== '$v');
  if (v === 1 || operators.length) {
    const out = clone(pre);
    for (const [op, spec] of operators) {
      const paths = [...asDoc(spec, op).fields].sort(([a], [b]) => comparePaths(a, b));
      if (op === '$set') for (const [p, val] of paths) setPath(out, p.split('.'), val, p);
      else if (op === '$unset') for (const [p] of paths) unsetPath(out, p.split('.'));
      else throw new ReferenceApplyError(`unsupported $v:1 operator ${op}`);
    }
    return out;
  }
  // A replacement: the whole new document, _id first (taken from the pre-image when absent).
  const id = field(o, '_id') ?? field(pre, '_id');
  const rest = o.fields.filter(([n]) => n !== '_id');
  return { kind: 'doc', fields: id ? [['_id', id], ...rest] : rest };
}

/** Raw in, raw out: the post-image bytes of `pre` after the update entry's `o`. */
export function applyOplogUpdate(pre: Uint8Array, o: Uint8Array): Buffer {
  return toBson(applyUpdateDoc(parseDoc(pre), parseDoc(o)));
}
