/**
 * The raw BSON scanner under real and broken input (bsondump's test data):
 * every type is walked and rebuilt byte for byte; garbled documents give
 * INVALID_BSON, never a crash or a read past the end.
 */
import { readFileSync } from 'node:fs';
import { deserialize } from 'bson';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../engine/errors.js';
import { DocBuilder, T, elementBytes, elements, field, subDocument } from '../../engine/oplog/bson-raw.js';
import { HAVE_FIXTURES, SKIP_FIXTURES_MESSAGE, fixture } from '../support/fixtures.js';

/** Rebuilds a document element by element, recursing into documents and arrays. */
function rebuild(doc: Buffer): Buffer {
  const out = new DocBuilder();
  for (const e of elements(doc)) {
    if (e.type === T.object || e.type === T.array)
      out.appendWithValue(doc, e, e.type, rebuild(subDocument(doc, e)));
    else out.append(elementBytes(doc, e));
  }
  return out.finish();
}

/** Documents of a concatenated .bson file, by their length prefixes (no validation). */
function* docs(buf: Buffer) {
  let off = 0;
  while (off + 4 <= buf.length) {
    const len = buf.readInt32LE(off);
    if (len < 5) return;
    yield buf.subarray(off, Math.min(buf.length, off + len));
    off += len;
  }
}

describe.skipIf(!HAVE_FIXTURES)(`raw BSON scanning ${HAVE_FIXTURES ? '' : SKIP_FIXTURES_MESSAGE}`, () => {
  it('walks every BSON type of all_types.bson and rebuilds each document byte for byte', () => {
    const file = readFileSync(fixture('bsondump', 'testdata', 'all_types.bson'));
    let n = 0;
    for (const d of docs(file)) {
      expect(rebuild(d).equals(d)).toBe(true);
      expect(elements(d).map((e) => e.name)).toEqual(Object.keys(deserialize(d)));
      n++;
    }
    expect(n).toBeGreaterThan(0);
  });

  it.each(['bad_cstring', 'bad_type', 'broken_array', 'partial_file', 'random_bytes', 'invalid_field_name'])(
    '%s.bson: INVALID_BSON or a clean walk, never another error',
    (name) => {
      const file = readFileSync(fixture('bsondump', 'testdata', `${name}.bson`));
      let refused = 0;
      for (const d of docs(file)) {
        try {
          rebuild(d);
        } catch (err) {
          expect(err).toBeInstanceOf(ApiError);
          expect((err as ApiError).code).toBe('INVALID_BSON');
          refused++;
        }
      }
      // bsondump --objcheck accepts broken_array.bson (odd array keys, sound bytes) and invalid_field_name.bson.
      if (name !== 'invalid_field_name' && name !== 'broken_array') expect(refused).toBeGreaterThan(0);
    },
  );
});

describe('raw BSON helpers', () => {
  it('field() finds a field by name (ASCII compared as bytes, others decoded) and stops there', () => {
    const d = Buffer.from([
      ...[0, 0, 0, 0],
      ...[0x10, 0x61, 0, 1, 0, 0, 0], // a: 1
      ...[0x10, 0xc3, 0xa9, 0, 2, 0, 0, 0], // é: 2
      0,
    ]);
    d.writeInt32LE(d.length, 0);
    expect(field(d, 'a')?.valueStart).toBe(7);
    expect(d.readInt32LE(field(d, 'é')!.valueStart)).toBe(2);
    expect(field(d, 'b')).toBeUndefined();
    const cut = Buffer.from(d);
    cut.writeInt32LE(cut.length + 3, 0); // claims more bytes than it has
    expect(() => field(cut, 'b')).toThrow(ApiError);
  });
});
