/**
 * Test-only: computes `$v: 2` diffs from a pre-image to a post-image the way
 * mongod's document_diff_calculator does, on ordered documents (Map, so
 * number-like field names keep their place): fields compared in lockstep
 * while their names match (equal: nothing; both documents or both arrays:
 * a sub-diff, or the whole value when `whole` says so; otherwise `u`); from
 * the first name mismatch on, pre-image fields absent from the post-image
 * are deleted (`d`) and every remaining post-image field is (re)inserted
 * (`i`) in order, which is how a reordering is expressed. Arrays compare
 * index by index (`u<i>`, `s<i>`), `l` when the array shrinks.
 */
import { serialize } from 'bson';

export type Value = unknown;
export type Doc = Map<string, Value>;

const bytes = (v: Value) => Buffer.from(serialize(new Map([['v', v]]))).toString('hex');
export const same = (a: Value, b: Value) => bytes(a) === bytes(b);
const isDoc = (v: Value): v is Doc => v instanceof Map;

/** `whole(path)` true: log a changed sub-document or array as a whole `u` instead of a sub-diff. */
export type WholeChoice = () => boolean;

function subDiff(pre: Value, post: Value, whole: WholeChoice): Map<string, Value> | null {
  if (whole()) return null;
  if (isDoc(pre) && isDoc(post)) return objectDiff(pre, post, whole);
  if (Array.isArray(pre) && Array.isArray(post)) return arrayDiff(pre, post, whole);
  return null;
}

export function objectDiff(pre: Doc, post: Doc, whole: WholeChoice): Map<string, Value> {
  const d = new Map<string, Value>();
  const u = new Map<string, Value>();
  const i = new Map<string, Value>();
  const s = new Map<string, Value>();
  const preKeys = [...pre.keys()];
  const postKeys = [...post.keys()];
  let k = 0;
  for (; k < preKeys.length && k < postKeys.length && preKeys[k] === postKeys[k]; k++) {
    const name = preKeys[k]!;
    const a = pre.get(name);
    const b = post.get(name);
    if (same(a, b)) continue;
    const sub = subDiff(a, b, whole);
    if (sub) s.set(`s${name}`, sub);
    else u.set(name, b);
  }
  const rest = new Set(postKeys.slice(k));
  for (const name of preKeys.slice(k)) if (!rest.has(name)) d.set(name, false);
  for (const name of postKeys.slice(k)) i.set(name, post.get(name));
  const out = new Map<string, Value>();
  if (d.size) out.set('d', d);
  if (u.size) out.set('u', u);
  if (i.size) out.set('i', i);
  for (const [name, v] of s) out.set(name, v);
  return out;
}

export function arrayDiff(pre: Value[], post: Value[], whole: WholeChoice): Map<string, Value> {
  const out = new Map<string, Value>([['a', true]]);
  if (post.length < pre.length) out.set('l', post.length);
  for (let k = 0; k < post.length; k++) {
    if (k < pre.length && same(pre[k], post[k])) continue;
    const sub = k < pre.length ? subDiff(pre[k], post[k], whole) : null;
    if (sub) out.set(`s${k}`, sub);
    else out.set(`u${k}`, post[k]);
  }
  return out;
}

/** The `o` of an update entry: `{$v: 2, diff}`. */
export const diffEntry = (pre: Doc, post: Doc, whole: WholeChoice) =>
  new Map<string, Value>([
    ['$v', 2],
    ['diff', objectDiff(pre, post, whole)],
  ]);

export const toBson = (doc: Doc | Map<string, Value>) => Buffer.from(serialize(doc));
