import { Binary, serialize } from 'bson';
import { describe, expect, it } from 'vitest';
import { applyUpdateEntry } from '../../engine/oplog/update-entry.js';
import { decodeExact } from '../support/replay-helpers.js';

/** MongoDB 8.0 time-series bucket updates carry BSONColumn appends in a `b` section of the $v:2 diff. */
describe('$v:2 binary (BSONColumn) diffs of time-series buckets', () => {
  const column = (...bytes: number[]) => new Binary(Uint8Array.from(bytes), 7);
  const raw = (o: object) => Buffer.from(serialize(o));
  const o2 = raw({ _id: 1 });

  it('keeps the column up to the offset and appends the new bytes, inside nested diffs too', () => {
    const bucket = raw({
      _id: 1,
      control: { version: 2, count: 2 },
      data: { t: column(1, 2, 3, 0), v: column(9, 9, 0) },
    });
    const before = Buffer.from(bucket);
    const out = decodeExact(
      applyUpdateEntry(
        bucket,
        raw({
          $v: 2,
          diff: {
            scontrol: { u: { count: 3 } },
            sdata: { b: { t: { o: 3, d: new Binary(Uint8Array.from([4, 5, 0])) } } },
          },
        }),
        o2,
      ),
    );
    expect(Number(out.control.count)).toBe(3);
    const data = out.data as { t: Binary; v: Binary };
    expect([...data.t.buffer]).toEqual([1, 2, 3, 4, 5, 0]);
    expect(data.t.sub_type).toBe(7); // keeps the column subtype, not the diff's
    expect([...data.v.buffer]).toEqual([9, 9, 0]); // untouched
    expect(bucket.equals(before)).toBe(true); // input not mutated
  });

  it('refuses a binary diff on a field that is not binary data, or an offset past its end', () => {
    const b = (o: number) => raw({ $v: 2, diff: { b: { a: { o, d: column(1) } } } });
    expect(() => applyUpdateEntry(raw({ _id: 1, a: 'text' }), b(0), o2)).toThrow(/not binary data/);
    expect(() => applyUpdateEntry(raw({ _id: 1 }), b(0), o2)).toThrow(/not binary data/);
    expect(() => applyUpdateEntry(raw({ _id: 1, a: column(1, 0) }), b(5), o2)).toThrow(/offset 5 outside a/);
  });
});
