/**
 * The tests' reference applier and replay (test/support/), which judge the
 * stand-in and the engine: mongod's re-application rules on hand-made cases,
 * exact types and field order, and the real transaction fixtures of
 * mongo-tools replayed to their expected post-images.
 */
import { Double, EJSON, Long, serialize, type Document } from 'bson';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { HAVE_FIXTURES, fixture } from '../support/fixtures.js';
import { applyOplogUpdate, parseDoc, toBson } from '../support/reference-applier.js';
import { ReferenceReplay } from '../support/reference-replay.js';

const doc = (fields: [string, unknown][]) => serialize(new Map(fields));
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const diff = (d: Document) => serialize({ $v: 2, diff: d });

describe('reference applier (mongod document_diff_applier rules)', () => {
  it('re-applies a sub-diff to a field that is now a scalar: the field becomes null for a later entry to rewrite', () => {
    const pre = doc([
      ['_id', 1],
      ['meta', 5],
    ]);
    expect(hex(applyOplogUpdate(pre, diff({ smeta: { u: { v: 2 } } })))).toBe(
      hex(
        doc([
          ['_id', 1],
          ['meta', null],
        ]),
      ),
    );
    expect(hex(applyOplogUpdate(pre, diff({ smeta: { i: { v: 2 } } })))).toBe(
      hex(
        doc([
          ['_id', 1],
          ['meta', null],
        ]),
      ),
    );
  });

  it('ignores a sub-diff for a field the newer pre-image lacks ($set meta.v, then a replacement without meta)', () => {
    const replaced = doc([
      ['_id', 1],
      ['qty', -1],
    ]);
    expect(hex(applyOplogUpdate(replaced, diff({ smeta: { u: { v: 7 } } })))).toBe(hex(replaced));
  });

  it('pads arrays with null, truncates with l, and gives null for an array diff over a non-array or a missing element', () => {
    const pre = doc([
      ['_id', 1],
      ['a', [1, 2]],
      ['b', 'text'],
    ]);
    const out = applyOplogUpdate(pre, diff({ sa: { a: true, u4: 'x' }, sb: { a: true, u0: 1 } }));
    expect(hex(out)).toBe(
      hex(
        doc([
          ['_id', 1],
          ['a', [1, 2, null, null, 'x']],
          ['b', null],
        ]),
      ),
    );
    const cut = applyOplogUpdate(
      doc([
        ['_id', 1],
        ['a', [1, 2, 3]],
      ]),
      diff({ sa: { a: true, l: 1 } }),
    );
    expect(hex(cut)).toBe(
      hex(
        doc([
          ['_id', 1],
          ['a', [1]],
        ]),
      ),
    );
    const grow = applyOplogUpdate(
      doc([
        ['_id', 1],
        ['a', [1]],
      ]),
      diff({ sa: { a: true, l: 3, s2: { u: { z: 1 } } } }),
    );
    expect(hex(grow)).toBe(
      hex(
        doc([
          ['_id', 1],
          ['a', [1, null, null]],
        ]),
      ),
    );
  });

  it('moves an inserted field to the end even when it exists, updates in place, appends updates of missing fields', () => {
    const pre = doc([
      ['_id', 1],
      ['x', 1],
      ['y', 2],
    ]);
    expect(hex(applyOplogUpdate(pre, diff({ u: { y: 3, z: 4 }, i: { x: 9 } })))).toBe(
      hex(
        doc([
          ['_id', 1],
          ['y', 3],
          ['z', 4],
          ['x', 9],
        ]),
      ),
    );
    expect(hex(applyOplogUpdate(pre, diff({ d: { x: false, gone: false } })))).toBe(
      hex(
        doc([
          ['_id', 1],
          ['y', 2],
        ]),
      ),
    );
  });

  it('keeps BSON types and field order, number-like names included', () => {
    const pre = doc([
      ['_id', 1],
      ['price', new Double(2)],
      ['2024', Long.fromNumber(5)],
      ['10', 'ten'],
    ]);
    const out = applyOplogUpdate(pre, diff({ u: { '10': 'TEN' } }));
    expect(parseDoc(out).fields.map(([f]) => f)).toEqual(['_id', 'price', '2024', '10']);
    expect(hex(out)).toBe(
      hex(
        doc([
          ['_id', 1],
          ['price', new Double(2)],
          ['2024', Long.fromNumber(5)],
          ['10', 'TEN'],
        ]),
      ),
    );
    expect(hex(toBson(parseDoc(pre)))).toBe(hex(pre)); // parse + serialize is exact
  });

  it('applies $v:1 $set/$unset and replacements (with _id first)', () => {
    const pre = doc([
      ['_id', 1],
      ['a', { b: 1 }],
      ['c', [1, 2]],
    ]);
    const v1 = applyOplogUpdate(
      pre,
      serialize({ $v: 1, $set: { 'a.x': 2, 'c.3': 9 }, $unset: { 'c.0': 1 } }),
    );
    expect(hex(v1)).toBe(
      hex(
        doc([
          ['_id', 1],
          ['a', { b: 1, x: 2 }],
          ['c', [null, 2, null, 9]],
        ]),
      ),
    );
    expect(
      hex(
        applyOplogUpdate(
          pre,
          doc([
            ['q', 1],
            ['_id', 1],
          ]),
        ),
      ),
    ).toBe(
      hex(
        doc([
          ['_id', 1],
          ['q', 1],
        ]),
      ),
    );
    expect(hex(applyOplogUpdate(pre, doc([['q', 1]])))).toBe(
      hex(
        doc([
          ['_id', 1],
          ['q', 1],
        ]),
      ),
    );
  });
});

interface Case {
  ops: Document[];
  ns: string;
  postimage?: Document[];
}

describe.skipIf(!HAVE_FIXTURES)(
  'reference replay on the real transaction fixtures (skipped without ../shared)',
  () => {
    for (const file of [
      ['mongorestore', 'testdata', 'transactions.json'],
      ['common', 'txn', 'testdata', 'oplog_entries.json'],
    ]) {
      it(`gives every case's postimage in ${file.join('/')}`, () => {
        // One case uses the legacy {$binary: base64, $type} form: the canonical one, same bytes.
        const text = readFileSync(fixture(...file), 'utf8').replace(
          /\{\s*"\$binary"\s*:\s*"([^"]*)"\s*,\s*"\$type"\s*:\s*"([0-9a-fA-F]+)"\s*\}/g,
          '{"$binary":{"base64":"$1","subType":"$2"}}',
        );
        const cases = EJSON.parse(text, { relaxed: false }) as Record<string, Case>;
        let checked = 0;
        for (const [name, c] of Object.entries(cases)) {
          if (!c.postimage) continue;
          const replay = new ReferenceReplay();
          for (const op of c.ops) replay.apply(serialize(op));
          const got = [...(replay.state.get(c.ns)?.docs.values() ?? [])].map(hex).sort();
          expect(got, name).toEqual(c.postimage.map((d) => hex(serialize(d))).sort());
          checked++;
        }
        expect(checked).toBeGreaterThanOrEqual(10);
      });
    }
  },
);
