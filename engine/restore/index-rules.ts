/**
 * A collection's index specifications (raw BSON) changed by replayed
 * commands, with mongorestore's index catalog rules (common/idx in
 * mongo-tools):
 *  - an index is replaced by one created under the same name;
 *  - dropIndexes by name, by key pattern, or `*` (every index but `_id`);
 *  - collMod's `index` finds its index by `name` or `keyPattern` (not both)
 *    and sets `expireAfterSeconds`, `hidden`, `prepareUnique` as given;
 *    `unique: true` removes `forceNonUnique`, `forceNonUnique: true`
 *    removes `unique`, and the flag itself is kept. So the sequence
 *    prepareUnique, unique, forceNonUnique leaves a non-unique index with
 *    `prepareUnique: true`, `forceNonUnique: true` and no `unique` field,
 *    which is the spec mongorestore creates. Other options are refused.
 * Field order of the specs is kept; new fields are appended. Specs are kept
 * as listIndexes shows them: `expireAfterSeconds` is a 32-bit integer there
 * (stable API; mongod 7.3+ also truncates a fractional value before storing
 * it), whatever type the oplog entry carried (collMod logs an Int64).
 */
import { ApiError } from '../errors.js';
import {
  T,
  bytesEqual,
  elementBytes,
  elements,
  makeElement,
  readNumber,
  readString,
  subDocument,
  withField,
  withoutFields,
} from '../oplog/bson-raw.js';

export function indexName(spec: Buffer): string | null {
  const e = elements(spec).find((x) => x.name === 'name');
  return e && e.type === T.string ? readString(spec, e) : null;
}

function keyPattern(spec: Buffer, field = 'key'): Buffer | null {
  const e = elements(spec).find((x) => x.name === field);
  return e && e.type === T.object ? subDocument(spec, e) : null;
}

/** `{_id: 1}` (any numeric 1), the index every collection has. */
function isIdIndex(spec: Buffer): boolean {
  const key = keyPattern(spec);
  if (!key) return false;
  const els = elements(key);
  return els.length === 1 && els[0]!.name === '_id';
}

/** `expireAfterSeconds` as listIndexes reports it: Int32, truncated. */
function asListed(spec: Buffer): Buffer {
  const e = elements(spec).find((x) => x.name === 'expireAfterSeconds');
  if (!e || e.type === T.int32 || !(e.type === T.double || e.type === T.int64)) return spec;
  const value = Buffer.alloc(4);
  value.writeInt32LE(Math.trunc(readNumber(spec, e)) | 0, 0);
  return withField(spec, 'expireAfterSeconds', makeElement(T.int32, 'expireAfterSeconds', value));
}

export function createIndexes(indexes: Buffer[], created: Buffer[]): Buffer[] {
  let out = indexes;
  for (const spec of created.map(asListed)) {
    const name = indexName(spec);
    const at = out.findIndex((i) => indexName(i) === name);
    out = at >= 0 ? out.map((i, k) => (k === at ? spec : i)) : [...out, spec];
  }
  return out;
}

export function dropIndexes(indexes: Buffer[], which: string | Buffer): Buffer[] {
  if (which === '*') return indexes.filter(isIdIndex);
  if (typeof which === 'string') return indexes.filter((i) => indexName(i) !== which);
  return indexes.filter((i) => {
    const key = keyPattern(i);
    return !key || !bytesEqual(key, which);
  });
}

function refuse(why: string): never {
  throw new ApiError('CORRUPT', `collMod index change: ${why}`);
}

const SET_AS_GIVEN = new Set(['expireAfterSeconds', 'hidden', 'prepareUnique']);

/** Applies collMod's `index` document; an index that is not there (re-application) is left alone. */
export function modifyIndex(indexes: Buffer[], mod: Buffer): Buffer[] {
  const els = elements(mod);
  const nameEl = els.find((e) => e.name === 'name');
  const keyEl = els.find((e) => e.name === 'keyPattern');
  if (nameEl && keyEl) refuse('both an index name and a keyPattern');
  if (!nameEl && !keyEl) refuse('neither an index name nor a keyPattern');
  const at = nameEl
    ? indexes.findIndex((i) => indexName(i) === readString(mod, nameEl))
    : indexes.findIndex((i) => {
        const key = keyPattern(i);
        return key !== null && keyEl!.type === T.object && bytesEqual(key, subDocument(mod, keyEl!));
      });
  if (at < 0) return indexes;
  let spec = indexes[at]!;
  for (const e of els) {
    if (e.name === 'name' || e.name === 'keyPattern') continue;
    if (e.name === 'unique' || e.name === 'forceNonUnique') {
      if (e.type !== T.bool) refuse(`"${e.name}" is not a boolean`);
      const on = mod[e.valueStart] === 1;
      if (on) spec = withoutFields(spec, new Set([e.name === 'unique' ? 'forceNonUnique' : 'unique']));
    } else if (!SET_AS_GIVEN.has(e.name)) {
      refuse(`unknown index option "${e.name}"`);
    }
    spec = withField(spec, e.name, elementBytes(mod, e));
  }
  spec = asListed(spec);
  return indexes.map((i, k) => (k === at ? spec : i));
}
