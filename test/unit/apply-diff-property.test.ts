/**
 * Re-application converges (property): random ordered documents S0 and
 * random changes S0 -> S1 -> ... -> Sn, each logged as mongod would (a
 * `$v: 2` diff Dk, or the whole new document); then for every k and every
 * j >= k - 1, applying Dk..Dn to Sj gives Sn byte for byte. This is what
 * replay does to every document that changed while a snapshot read it
 * (the snapshot holds some Sj, the oplog from the snapshot's start holds
 * Dk..Dn).
 */
import { Binary, Decimal128, Double, Int32, Long } from 'bson';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyUpdateEntry } from '../../engine/oplog/update-entry.js';
import { diffEntry, toBson, type Doc, type Value } from '../support/diff-calculator.js';

const NAMES = ['a', 'b', 'c', 'meta', '10', '2024', '0', 'tags', 'x'];

const scalar: fc.Arbitrary<Value> = fc.oneof(
  fc.integer({ min: -5, max: 5 }).map((n) => new Int32(n)),
  fc.integer({ min: -5, max: 5 }).map((n) => new Double(n)), // whole-number doubles stay doubles
  fc.double({ noNaN: true, min: -10, max: 10 }).map((n) => new Double(n)),
  fc.integer({ min: -5, max: 5 }).map((n) => Long.fromNumber(n)),
  fc.constantFrom(Decimal128.fromString('1.10'), Decimal128.fromString('-0')),
  fc.constantFrom('s', 'text', ''),
  fc.boolean(),
  fc.constant(null),
  fc.constantFrom(new Date(0), new Date(1_700_000_000_000)),
  fc.constantFrom(new Binary(Buffer.from([1, 2]), 0), new Binary(Buffer.alloc(16, 7), 4)),
);

const value: fc.Arbitrary<Value> = fc.letrec<{ v: Value; doc: Doc; arr: Value[] }>((tie) => ({
  v: fc.oneof({ depthSize: 'small', withCrossShrink: true }, scalar, tie('doc'), tie('arr')),
  doc: fc
    .uniqueArray(fc.tuple(fc.constantFrom(...NAMES), tie('v')), { selector: (t) => t[0], maxLength: 4 })
    .map((kv) => new Map(kv)),
  arr: fc.array(tie('v'), { maxLength: 4 }),
})).v;

const topDoc = fc
  .uniqueArray(fc.tuple(fc.constantFrom(...NAMES), value), { selector: (t) => t[0], maxLength: 6 })
  .map((kv) => new Map<string, Value>([['_id', new Int32(1)], ...kv]));

/** One random change of a value (recursively), driven by a list of random choices. */
function mutate(v: Value, r: () => number): Value {
  const pick = r();
  if (v instanceof Map && pick < 0.7) return mutateDoc(v, r);
  if (Array.isArray(v) && pick < 0.7) {
    const a = [...v];
    const what = r();
    if (what < 0.3) a.push(new Int32(Math.floor(r() * 9)));
    else if (what < 0.5) a.length = Math.floor(r() * a.length);
    else if (a.length) {
      const k = Math.floor(r() * a.length);
      a[k] = mutate(a[k], r);
    }
    return a;
  }
  const options: Value[] = [
    new Int32(Math.floor(r() * 9)),
    new Double(Math.floor(r() * 3)),
    'changed',
    null,
    new Map<string, Value>([['v', new Int32(Math.floor(r() * 3))]]),
    [new Int32(1), new Map<string, Value>([['b', true]])],
  ];
  return options[Math.floor(r() * options.length)];
}

function mutateDoc(doc: Doc, r: () => number, top = false): Doc {
  const out = new Map(doc);
  const keys = [...out.keys()].filter((k) => !top || k !== '_id');
  const n = 1 + Math.floor(r() * 3);
  for (let k = 0; k < n; k++) {
    const what = r();
    const name = keys.length ? keys[Math.floor(r() * keys.length)]! : 'a';
    if (what < 0.35 && out.has(name)) out.set(name, mutate(out.get(name), r));
    else if (what < 0.5 && out.has(name)) out.delete(name);
    else if (what < 0.6 && out.has(name)) {
      const v = out.get(name); // moved to the end: a reordering
      out.delete(name);
      out.set(name, v);
    } else out.set(NAMES[Math.floor(r() * NAMES.length)]!, mutate(null, r));
  }
  return out;
}

/** mulberry32: a small seeded PRNG with uniform output in [0, 1). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('re-applying $v:2 diffs and replacements to newer pre-images', () => {
  it('Dk..Dn applied to any Sj (j >= k-1) gives Sn, byte for byte', () => {
    fc.assert(
      fc.property(
        topDoc,
        fc.integer({ min: 1, max: 2 ** 31 - 1 }),
        fc.integer({ min: 1, max: 8 }),
        (s0, seed, n) => {
          const r = prng(seed); // uniform choices (fast-check's numbers lean to their bounds)
          const states: Doc[] = [s0];
          const entries: Buffer[] = [];
          for (let k = 1; k <= n; k++) {
            const prev = states[k - 1]!;
            const next = mutateDoc(prev, r, true);
            states.push(next);
            // mongod logs a diff, or the whole document (replaceOne, or a diff larger than the document).
            entries.push(r() < 0.2 ? toBson(next) : toBson(diffEntry(prev, next, () => r() < 0.25)));
          }
          const o2 = toBson(new Map([['_id', new Int32(1)]]));
          const expected = toBson(states[n]!).toString('hex');
          for (let k = 1; k <= n; k++) {
            for (let j = k - 1; j <= n; j++) {
              let doc: Buffer = toBson(states[j]!);
              for (let m = k; m <= n; m++) doc = applyUpdateEntry(doc, entries[m - 1]!, o2);
              expect(doc.toString('hex'), `D${k}..D${n} on S${j}`).toBe(expected);
            }
          }
        },
      ),
      { numRuns: 400 },
    );
  });
});
