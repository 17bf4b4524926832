/**
 * Computes the `$v: 2` oplog diff of an update the way MongoDB 5.0+ logs it:
 * `d` (removed fields, value false), `u` (changed fields), `i` (new fields,
 * appended), `s<field>` (nested object diff), and array diffs `{a: true, l,
 * u<i>, s<i>}`. Works on the ordered raw representation (exact BSON types and
 * field order). Returns null when a diff cannot express the change (fields
 * reordered): MongoDB logs a full replacement then.
 */
import { serialize } from 'bson';
import { toBson, type RArr, type RDoc, type RValue } from '../reference-applier.js';

/** BSON-exact equality (type and value) of two values, as the server compares for "changed". */
export function bsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  try {
    return Buffer.from(serialize({ v: a })).equals(Buffer.from(serialize({ v: b })));
  } catch {
    return false;
  }
}

function sameValue(a: RValue, b: RValue): boolean {
  if (a.kind !== b.kind) return false;
  if (a.kind === 'leaf')
    return (
      a.type === (b as typeof a).type &&
      Buffer.from(a.bytes).equals(b.kind === 'leaf' ? b.bytes : Buffer.alloc(0))
    );
  if (a.kind === 'doc') {
    const f = (b as RDoc).fields;
    return (
      a.fields.length === f.length && a.fields.every(([n, v], k) => f[k]![0] === n && sameValue(v, f[k]![1]))
    );
  }
  const items = (b as RArr).items;
  return a.items.length === items.length && a.items.every((v, k) => sameValue(v, items[k]!));
}

const FALSE: RValue = { kind: 'leaf', type: 0x08, bytes: new Uint8Array([0]) };
const TRUE: RValue = { kind: 'leaf', type: 0x08, bytes: new Uint8Array([1]) };
const int32 = (n: number): RValue => {
  const b = Buffer.alloc(4);
  b.writeInt32LE(n);
  return { kind: 'leaf', type: 0x10, bytes: b };
};

function objectDiff(pre: RDoc, post: RDoc): RDoc | null {
  const preNames = pre.fields.map(([n]) => n);
  const postNames = post.fields.map(([n]) => n);
  const inPost = new Set(postNames);
  const inPre = new Set(preNames);
  // Kept fields must stay in the same relative order, new ones must come after them.
  const kept = preNames.filter((k) => inPost.has(k));
  const postKept = postNames.filter((k) => inPre.has(k));
  if (kept.join('\u0000') !== postKept.join('\u0000')) return null;
  const firstNew = postNames.findIndex((k) => !inPre.has(k));
  if (firstNew >= 0 && postNames.slice(firstNew).some((k) => inPre.has(k))) return null;

  const postValue = new Map(post.fields);
  const d: [string, RValue][] = [];
  const u: [string, RValue][] = [];
  const subs: [string, RValue][] = [];
  for (const [k, v] of pre.fields) {
    const after = postValue.get(k);
    if (after === undefined) {
      d.push([k, FALSE]);
      continue;
    }
    const change = valueChange(v, after);
    if (change?.sub) subs.push([`s${k}`, change.sub]);
    else if (change) u.push([k, after]);
  }
  const i = post.fields.filter(([k]) => !inPre.has(k));
  const fields: [string, RValue][] = [];
  if (d.length) fields.push(['d', { kind: 'doc', fields: d }]);
  if (u.length) fields.push(['u', { kind: 'doc', fields: u }]);
  if (i.length) fields.push(['i', { kind: 'doc', fields: i }]);
  fields.push(...subs);
  return { kind: 'doc', fields };
}

/**
 * How one value changed: null when equal, a nested diff (`s…`) when both are
 * documents or both arrays and a diff can express it, else a plain update (`u…`).
 */
function valueChange(a: RValue, b: RValue): { sub: RDoc | null } | null {
  if (sameValue(a, b)) return null;
  if (a.kind === 'doc' && b.kind === 'doc') return { sub: objectDiff(a, b) };
  if (a.kind === 'arr' && b.kind === 'arr') return { sub: arrayDiff(a, b) };
  return { sub: null };
}

function arrayDiff(pre: RArr, post: RArr): RDoc {
  const fields: [string, RValue][] = [['a', TRUE]];
  if (post.items.length < pre.items.length) fields.push(['l', int32(post.items.length)]);
  for (let k = 0; k < post.items.length; k++) {
    if (k >= pre.items.length) {
      fields.push([`u${k}`, post.items[k]!]);
      continue;
    }
    const change = valueChange(pre.items[k]!, post.items[k]!);
    if (change?.sub) fields.push([`s${k}`, change.sub]);
    else if (change) fields.push([`u${k}`, post.items[k]!]);
  }
  return { kind: 'doc', fields };
}

/** The raw `o` of the oplog entry: `{$v: 2, diff}`, or the whole new document when no diff fits. */
export function updateOplogObject(pre: RDoc, post: RDoc): Uint8Array {
  const diff = objectDiff(pre, post);
  if (!diff) return toBson(post);
  return toBson({
    kind: 'doc',
    fields: [
      ['$v', int32(2)],
      ['diff', diff],
    ],
  });
}
