/**
 * The field order of an inclusion projection's output, as mongod makes it
 * (projection_node.cpp, ProjectionNode::applyToDocument): first the fields
 * it keeps, in the order the input document has them
 * (applyProjections walks the input), then the fields it computes, in the
 * order the projection names them (applyExpressions; a computed field
 * inside a kept sub-document goes at the end of that sub-document). mingo
 * sorts the projection's paths by name instead, so `{z: {$add: …}, c: "x",
 * a: 1}` came out as `{_id, a, c, z}` where mongod gives `{_id, a, z, c}`.
 * An exclusion projection keeps the input's order in both.
 */
import { isPlainObject } from './lookup-plan.js';

type Node = 'keep' | 'computed' | Tree;
type Tree = Map<string, Node>;

/** The projection as a tree of its paths (dotted paths split), or null when it excludes. */
export function projectionTree(spec: Record<string, unknown>): Tree | null {
  const root: Tree = new Map();
  let includes = false;
  const add = (tree: Tree, path: string[], v: unknown): void => {
    const [head, ...rest] = path as [string, ...string[]];
    if (rest.length) {
      let sub = tree.get(head);
      if (!(sub instanceof Map)) tree.set(head, (sub = new Map()));
      add(sub, rest, v);
      return;
    }
    const node = nodeOf(v);
    if (node === null) return; // an exclusion (of `_id`, in an inclusion projection)
    includes = true;
    tree.set(head, node);
  };
  const nodeOf = (v: unknown): Node | null => {
    if (typeof v === 'number' || typeof v === 'boolean') return v ? 'keep' : null;
    if (isPlainObject(v)) {
      const keys = Object.keys(v);
      if (keys.length === 0 || keys[0]!.startsWith('$')) return 'computed';
      const sub: Tree = new Map();
      for (const [k, x] of Object.entries(v)) add(sub, k.split('.'), x);
      return sub;
    }
    return 'computed';
  };
  for (const [k, v] of Object.entries(spec)) add(root, k.split('.'), v);
  return includes ? root : null;
}

/** `out` (the projection of `input`) with its fields in mongod's order. */
export function inMongodOrder(out: unknown, input: unknown, tree: Tree): unknown {
  if (Array.isArray(out)) {
    // An inclusion drops an array's other elements: the output's are its documents and arrays.
    const kept = Array.isArray(input) ? input.filter((x) => isPlainObject(x) || Array.isArray(x)) : [];
    return out.map((x, i) => inMongodOrder(x, kept[i], tree));
  }
  if (!isPlainObject(out)) return out;
  const from = isPlainObject(input) ? input : {};
  const order: string[] = [];
  const taken = new Set<string>();
  const take = (k: string) => {
    if (k in out && !taken.has(k)) {
      taken.add(k);
      order.push(k);
    }
  };
  // Kept fields and sub-documents that are in the input, in its order; `_id` is kept unless excluded.
  for (const k of Object.keys(from)) {
    const node = tree.get(k);
    if (node === 'keep' || node instanceof Map || (k === '_id' && node === undefined)) take(k);
  }
  for (const k of tree.keys()) take(k);
  for (const k of Object.keys(out)) take(k);
  const res: Record<string, unknown> = {};
  for (const k of order) {
    const node = tree.get(k);
    res[k] = node instanceof Map ? inMongodOrder(out[k], from[k], node) : out[k];
  }
  return res;
}
