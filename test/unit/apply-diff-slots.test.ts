/**
 * The `$v: 2` applier's diff reader (engine/oplog/apply-diff.ts) holds a
 * diff's fields as byte ranges and matches them against a document's field
 * names by their bytes, up to 16 fields, and by decoded name beyond: both
 * give what the tests' reference applier (written from mongod's rules) gives,
 * byte for byte, and damaged diffs are refused with typed errors.
 */
import { Binary, Int32, serialize, type Document } from 'bson';
import { describe, expect, it } from 'vitest';
import { applyUpdateEntry } from '../../engine/oplog/update-entry.js';
import { applyOplogUpdate } from '../support/reference-applier.js';

const bson = (d: Document) => Buffer.from(serialize(d));
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const o2 = bson({ _id: 1 });

/** A document of n fields f0..f(n-1) (with _id first) and a diff touching all of them. */
function wide(n: number): { pre: Buffer; o: Buffer } {
  const pre: Document = { _id: 1 };
  for (let k = 0; k < n; k++) pre[`f${k}`] = k % 3 === 0 ? { x: k } : new Int32(k);
  const u: Document = {};
  const i: Document = {};
  const d: Document = {};
  const diff: Document = {};
  for (let k = 0; k < n; k++) {
    if (k % 3 === 0) diff[`sf${k}`] = { u: { x: -k }, i: { y: 'new' } };
    else if (k % 3 === 1) u[`f${k}`] = `u${k}`;
    else if (k % 6 === 2) i[`f${k}`] = [k];
    else d[`f${k}`] = false;
  }
  u.added = 'appended'; // not in the document: appended, before the inserts
  return { pre: bson(pre), o: bson({ $v: 2, diff: { d, u, i, ...diff } }) };
}

describe('$v:2 diffs read as byte ranges', () => {
  for (const n of [3, 15, 16, 17, 40]) {
    it(`a diff of ${n + 1} fields gives the reference applier's document`, () => {
      const { pre, o } = wide(n);
      expect(hex(applyUpdateEntry(pre, o, o2))).toBe(hex(applyOplogUpdate(pre, o)));
    });
  }

  it('names that differ only in a later byte, or in length, are not taken for each other', () => {
    const pre = bson({ _id: 1, ab: 1, abc: 2, abd: 3, a: 4 });
    const o = bson({ $v: 2, diff: { u: { abc: 20, a: 40 }, d: { abd: false } } });
    expect(hex(applyUpdateEntry(pre, o, o2))).toBe(hex(bson({ _id: 1, ab: 1, abc: 20, a: 40 })));
    expect(hex(applyUpdateEntry(pre, o, o2))).toBe(hex(applyOplogUpdate(pre, o)));
  });

  it('non-ASCII field names match by their UTF-8 bytes', () => {
    const pre = bson({ _id: 1, 'prix€': 1, größe: { v: 1 } });
    const o = bson({ $v: 2, diff: { u: { 'prix€': 2 }, sgröße: { u: { v: 2 } } } });
    expect(hex(applyUpdateEntry(pre, o, o2))).toBe(hex(bson({ _id: 1, 'prix€': 2, größe: { v: 2 } })));
  });

  it('a field named twice is refused, with few fields and with many', () => {
    const few = bson({ $v: 2, diff: { u: { a: 1 }, d: { a: false } } });
    expect(() => applyUpdateEntry(bson({ _id: 1 }), few, o2)).toThrow(
      expect.objectContaining({
        code: 'INVALID_INPUT',
        message: expect.stringMatching(/duplicate field name in diff: a/),
      }),
    );
    const u: Document = {};
    for (let k = 0; k < 20; k++) u[`f${k}`] = k;
    const many = bson({ $v: 2, diff: { u, i: { f7: 'again' } } });
    expect(() => applyUpdateEntry(bson({ _id: 1 }), many, o2)).toThrow(/duplicate field name in diff: f7/);
  });

  it('damaged diffs are refused with typed errors, never applied in part', () => {
    const pre = bson({ _id: 1, a: 1, bin: new Binary(Buffer.from([1, 2])) });
    const cases: [Document, RegExp][] = [
      [{ u: 5 }, /diff section "u" is not a document/],
      [{ sa: 1 }, /sub-diff sa is not a document/],
      [{ b: { bin: 1 } }, /binary diff for bin is not a document/],
      [
        { b: { nope: { o: 0, d: new Binary(Buffer.from([3])) } } },
        /binary diff for nope, which is not binary data/,
      ],
      [{ q: {} }, /unexpected field "q"/],
    ];
    for (const [diff, message] of cases)
      expect(() => applyUpdateEntry(pre, bson({ $v: 2, diff }), o2), JSON.stringify(diff)).toThrow(
        expect.objectContaining({ code: 'INVALID_INPUT', message: expect.stringMatching(message) }),
      );
    // A section whose own length runs past the diff: INVALID_BSON.
    const o = bson({ $v: 2, diff: { u: { a: 2 } } });
    const at = o.indexOf(Buffer.from('u\0', 'latin1')) + 2; // the section's length prefix
    o.writeInt32LE(o.readInt32LE(at) + 40, at);
    expect(() => applyUpdateEntry(pre, o, o2)).toThrow(expect.objectContaining({ code: 'INVALID_BSON' }));
  });
});
