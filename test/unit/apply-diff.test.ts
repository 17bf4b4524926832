/**
 * The engine's `$v: 2` applier on raw BSON, case by case against mongod's
 * document_diff_applier.cpp, including re-application to newer pre-images
 * (what replay does to documents that changed while a snapshot read them),
 * plus `$v: 1` modifiers and replacements. Expected documents are compared
 * byte for byte, so types and field order are checked too.
 */
import { Double, Int32, Long, serialize } from 'bson';
import { describe, expect, it } from 'vitest';
import { applyUpdateEntry } from '../../engine/oplog/update-entry.js';
import { toBson } from '../support/diff-calculator.js';

type Pairs = [string, unknown][];
/** Ordered documents: [name, value] pairs (nested arrays of pairs are documents), so "10" stays where it is. */
const doc = (...pairs: Pairs): Map<string, unknown> => new Map(pairs);
const bson = (m: Map<string, unknown> | object) => Buffer.from(serialize(m as object));
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const diff = (d: Map<string, unknown> | object) => bson(doc(['$v', 2], ['diff', d]));
const o2 = bson({ _id: 1 });
const apply = (pre: Map<string, unknown> | object | null, o: Buffer) =>
  hex(applyUpdateEntry(pre ? bson(pre) : null, o, o2));

describe('$v:2 diffs (mongod document_diff_applier)', () => {
  it('u replaces in place, i appends (re-inserting a present field moves it to the end), d deletes; types kept', () => {
    const pre = doc(['_id', 1], ['2024', new Double(2)], ['a', 1], ['10', 'x'], ['b', Long.fromNumber(5)]);
    const o = diff(
      doc(
        ['d', { b: false }],
        ['u', doc(['2024', new Double(3)])],
        ['i', doc(['a', new Int32(7)], ['n', null])],
      ),
    );
    expect(apply(pre, o)).toBe(
      hex(bson(doc(['_id', 1], ['2024', new Double(3)], ['10', 'x'], ['a', new Int32(7)], ['n', null]))),
    );
  });

  it('an update of a missing field is appended, before the inserts', () => {
    expect(apply({ _id: 1 }, diff({ i: { x: 1 }, u: { y: 2 } }))).toBe(hex(bson({ _id: 1, y: 2, x: 1 })));
  });

  it('re-application: i/u inside an s sub-diff whose field is now a scalar set it to null', () => {
    expect(apply({ _id: 1, meta: 5, z: 1 }, diff({ smeta: { u: { v: 2 } } }))).toBe(
      hex(bson({ _id: 1, meta: null, z: 1 })),
    );
    expect(apply({ _id: 1, meta: 'text' }, diff({ smeta: { i: { v: 2 } } }))).toBe(
      hex(bson({ _id: 1, meta: null })),
    );
    // An object sub-diff on an array, and an array sub-diff on an object: null too.
    expect(apply({ _id: 1, meta: [1] }, diff({ smeta: { u: { v: 2 } } }))).toBe(
      hex(bson({ _id: 1, meta: null })),
    );
    expect(apply({ _id: 1, tags: { a: 1 } }, diff({ stags: { a: true, u0: 1 } }))).toBe(
      hex(bson({ _id: 1, tags: null })),
    );
  });

  it('re-application: an s sub-diff for a missing field is ignored', () => {
    expect(apply({ _id: 1, qty: -1 }, diff({ smeta: { u: { v: 9 } }, stags: { a: true, u1: 'x' } }))).toBe(
      hex(bson({ _id: 1, qty: -1 })),
    );
  });

  it('array diffs: u past the end and l longer than the array pad with null; l shorter truncates', () => {
    expect(apply({ _id: 1, a: [1] }, diff({ sa: { a: true, u3: 9 } }))).toBe(
      hex(bson({ _id: 1, a: [1, null, null, 9] })),
    );
    expect(apply({ _id: 1, a: [] }, diff({ sa: { a: true, l: 2 } }))).toBe(
      hex(bson({ _id: 1, a: [null, null] })),
    );
    expect(apply({ _id: 1, a: [1, 2, 3] }, diff({ sa: { a: true, l: 1 } }))).toBe(
      hex(bson({ _id: 1, a: [1] })),
    );
    expect(apply({ _id: 1, a: [1, 2, 3] }, diff({ sa: { a: true, l: 2, u1: 'b' } }))).toBe(
      hex(bson({ _id: 1, a: [1, 'b'] })),
    );
  });

  it('array diffs: s<i> into an element; null when that element is missing or of another type', () => {
    expect(
      apply(
        { _id: 1, a: [{ x: 1 }, [1, 2]] },
        diff({ sa: { a: true, s0: { u: { x: 2 } }, s1: { a: true, l: 1 } } }),
      ),
    ).toBe(hex(bson({ _id: 1, a: [{ x: 2 }, [1]] })));
    expect(
      apply({ _id: 1, a: [5] }, diff({ sa: { a: true, s0: { u: { x: 2 } }, s2: { u: { y: 1 } } } })),
    ).toBe(hex(bson({ _id: 1, a: [null, null, null] })));
  });

  it('the workload case: $set meta.v, then replaceOne without meta, rebuilt from a later snapshot', () => {
    const snapshotDoc = { _id: 1, qty: -1, replaced: true }; // read after both writes
    let d: Buffer = bson(snapshotDoc);
    d = applyUpdateEntry(d, diff({ smeta: { u: { v: 4 } } }), o2);
    d = applyUpdateEntry(d, bson({ _id: 1, qty: -1, replaced: true }), o2);
    expect(hex(d)).toBe(hex(bson(snapshotDoc)));
  });

  it('refuses malformed diffs with a clear error', () => {
    expect(() => apply({ _id: 1 }, diff({ x: { a: 1 } }))).toThrow(/unexpected field "x"/);
    expect(() => apply({ _id: 1 }, diff(doc(['u', { a: 1 }], ['i', { a: 2 }])))).toThrow(
      /duplicate field name in diff: a/,
    );
    expect(() => apply({ _id: 1, a: [] }, diff({ sa: { a: true, uX: 1 } }))).toThrow(/bad array diff key uX/);
    expect(() => apply({ _id: 1, a: [] }, diff({ sa: { a: true, l: 1, u3: 1 } }))).toThrow(
      /beyond new length 1/,
    );
    expect(() => apply({ _id: 1 }, bson({ $v: 3, diff: {} }))).toThrow(/unknown update version/);
  });
});

describe('$v:1 modifiers and replacements', () => {
  it('$set replaces in place, creates missing parents at the end, indexes arrays (null padding)', () => {
    const o = bson({ $v: 1, $set: { b: new Double(2), 'm.x.y': 1, 'arr.3': 'z' } });
    expect(apply({ _id: 1, b: 1, arr: ['a'] }, o)).toBe(
      hex(bson({ _id: 1, b: new Double(2), arr: ['a', null, null, 'z'], m: { x: { y: 1 } } })),
    );
    expect(() => apply({ _id: 1, b: 1 }, bson({ $set: { 'b.c': 1 } }))).toThrow(
      /b is not a document or an array/,
    );
  });

  it('$unset removes, leaves null in an array, ignores a missing path', () => {
    expect(
      apply(
        { _id: 1, a: 1, arr: [1, 2], m: { x: 1 } },
        bson({ $unset: { a: true, 'arr.0': true, 'q.r': true, 'm.x': 1 } }),
      ),
    ).toBe(hex(bson({ _id: 1, arr: [null, 2], m: {} })));
  });

  it('a replacement is the whole new document, _id first; a missing document is upserted', () => {
    expect(apply({ _id: 1, a: 1 }, bson(doc(['10', 1], ['_id', 1], ['b', 2])))).toBe(
      hex(bson(doc(['_id', 1], ['10', 1], ['b', 2]))),
    );
    expect(apply(null, bson({ a: 1 }))).toBe(hex(bson({ _id: 1, a: 1 })));
    expect(apply(null, diff({ u: { x: 1 } }))).toBe(hex(bson({ _id: 1, x: 1 })));
    expect(apply(null, bson({ $set: { x: 1 } }))).toBe(hex(bson({ _id: 1, x: 1 })));
  });

  it('keeps number-like field names where they are (a JavaScript object would move them first)', () => {
    const pre = toBson(doc(['_id', 1], ['name', 'n'], ['2024', 1], ['10', 2]));
    const out = applyUpdateEntry(pre, diff({ u: { name: 'm' } }), o2);
    expect(hex(out)).toBe(hex(toBson(doc(['_id', 1], ['name', 'm'], ['2024', 1], ['10', 2]))));
  });
});
