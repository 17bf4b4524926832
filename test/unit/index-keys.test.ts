/**
 * The keys a view's key table holds for a dotted path, against the keys
 * mongod's key generator makes (btree_key_generator.cpp, as documented for
 * multikey indexes): every value reached, arrays entered at every level of
 * the path, and the null key wherever the path stops short inside an array
 * (a document without the field, an element that is no document, an empty
 * array on the way), so that `{"a.b": null}` can be looked up.
 */
import { serialize, type Document } from 'bson';
import { describe, expect, it } from 'vitest';
import { elements } from '../../engine/oplog/bson-raw.js';
import { NULL_KEY, keyOf, keysAt } from '../../engine/views/index-keys.js';

const key = (v: unknown) => {
  const doc = Buffer.from(serialize({ v }));
  return keyOf(doc, elements(doc)[0]!).toString('hex');
};
const NULL = NULL_KEY.toString('hex');
const keys = (d: Document, path: string) =>
  keysAt(Buffer.from(serialize(d)), path)
    .map((k) => k.toString('hex'))
    .sort();
const want = (...ks: string[]) => [...new Set(ks)].sort();

describe('keys of a dotted path', () => {
  it.each([
    ['a value', { a: { b: 1 } }, 'a.b', [key(1)]],
    ['missing', { a: { c: 1 } }, 'a.b', [NULL]],
    ['an array of documents, one without the field', { a: [{ b: 1 }, {}] }, 'a.b', [key(1), NULL]],
    ['an element that is no document', { a: [1, { b: 2 }] }, 'a.b', [key(2), NULL]],
    ['an empty array on the way', { a: [] }, 'a.b', [NULL]],
    [
      'arrays at two levels',
      { a: [{ b: [{ c: 1 }, { c: 3 }] }, { b: { c: 2 } }] },
      'a.b.c',
      [key(1), key(2), key(3)],
    ],
    ['arrays at two levels, one document short', { a: { b: [{ c: 3 }, { d: 1 }] } }, 'a.b.c', [key(3), NULL]],
    ['an array at the end', { a: { b: [1, 2, 2] } }, 'a.b', [key(1), key(2)]],
    ['an empty array at the end', { a: { b: [] } }, 'a.b', [NULL]],
    ['a position', { a: [{ b: 5 }, { b: 6 }] }, 'a.1.b', [key(6)]],
    ['a position past the end', { a: [{ b: 5 }] }, 'a.3.b', [NULL]],
  ])('%s', (_, doc, path, expected) => {
    expect(keys(doc, path)).toEqual(want(...expected));
  });
});
