/**
 * Computes the `$v: 2` oplog diff of an update the way MongoDB 5.0+ logs it:
 * `u` (changed fields), `i` (new fields, appended), `d` (removed fields, value
 * false), `s<field>` (nested object diff), and array diffs `{a: true, u<i>,
 * s<i>, l}`. Returns null when a diff cannot express the change (fields
 * reordered): MongoDB logs a full replacement then.
 */
import { serialize } from 'bson';
import { isPlainObject } from '../../../engine/oplog/apply-update.js';

type Doc = Record<string, unknown>;

/** BSON-exact equality (type and value), as the server compares for "changed". */
export function bsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  try {
    return Buffer.from(serialize({ v: a })).equals(Buffer.from(serialize({ v: b })));
  } catch {
    return false;
  }
}

function objectDiff(pre: Doc, post: Doc): Doc | null {
  const preKeys = Object.keys(pre);
  const postKeys = Object.keys(post);
  const kept = preKeys.filter((k) => k in post);
  // Kept fields must stay in the same relative order, new ones must come after them.
  const postKept = postKeys.filter((k) => k in pre);
  if (kept.join('\u0000') !== postKept.join('\u0000')) return null;
  const firstNew = postKeys.findIndex((k) => !(k in pre));
  if (firstNew >= 0 && postKeys.slice(firstNew).some((k) => k in pre)) return null;

  const diff: Doc = {};
  const d: Doc = {};
  const u: Doc = {};
  const i: Doc = {};
  const subs: Doc = {};
  for (const k of preKeys) {
    if (!(k in post)) {
      d[k] = false;
      continue;
    }
    const change = valueChange(pre[k], post[k]);
    if (change?.sub) subs[`s${k}`] = change.sub;
    else if (change) u[k] = post[k];
  }
  for (const k of postKeys) if (!(k in pre)) i[k] = post[k];
  if (Object.keys(d).length) diff.d = d;
  if (Object.keys(u).length) diff.u = u;
  if (Object.keys(i).length) diff.i = i;
  Object.assign(diff, subs);
  return diff;
}

/**
 * How one value changed: null when equal, a nested diff (`s…`) when both are
 * documents or both arrays and a diff can express it, else a plain update (`u…`).
 */
function valueChange(a: unknown, b: unknown): { sub: Doc | null } | null {
  if (bsonEqual(a, b)) return null;
  if (isPlainObject(a) && isPlainObject(b)) return { sub: objectDiff(a, b) };
  if (Array.isArray(a) && Array.isArray(b)) return { sub: arrayDiff(a, b) };
  return { sub: null };
}

function arrayDiff(pre: unknown[], post: unknown[]): Doc {
  const diff: Doc = { a: true };
  if (post.length < pre.length) diff.l = post.length;
  for (let k = 0; k < post.length; k++) {
    if (k >= pre.length) {
      diff[`u${k}`] = post[k];
      continue;
    }
    const change = valueChange(pre[k], post[k]);
    if (change?.sub) diff[`s${k}`] = change.sub;
    else if (change) diff[`u${k}`] = post[k];
  }
  return diff;
}

/** The `o` of the oplog entry: `{$v: 2, diff}`, or the whole new document when no diff fits. */
export function updateOplogObject(pre: Doc, post: Doc): Doc {
  const diff = objectDiff(pre, post);
  return diff ? { $v: 2, diff } : post;
}
