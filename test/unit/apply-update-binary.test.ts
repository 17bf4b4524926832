import { Binary } from 'bson';
import { describe, expect, it } from 'vitest';
import { applyUpdate } from '../../engine/oplog/apply-update.js';

/** MongoDB 8.0 time-series bucket updates carry BSONColumn appends in a `b` section of the $v:2 diff. */
describe('applyUpdate: binary (BSONColumn) diffs of time-series buckets', () => {
  const column = (...bytes: number[]) => new Binary(Uint8Array.from(bytes), 7);

  it('keeps the column up to the offset and appends the new bytes, inside nested diffs too', () => {
    const bucket = {
      _id: 1,
      control: { version: 2, count: 2 },
      data: { t: column(1, 2, 3, 0), v: column(9, 9, 0) },
    };
    const out = applyUpdate(bucket, {
      $v: 2,
      diff: {
        scontrol: { u: { count: 3 } },
        sdata: { b: { t: { o: 3, d: new Binary(Uint8Array.from([4, 5, 0])) } } },
      },
    });
    expect(out.control).toEqual({ version: 2, count: 3 });
    const data = out.data as { t: Binary; v: Binary };
    expect([...data.t.buffer]).toEqual([1, 2, 3, 4, 5, 0]);
    expect(data.t.sub_type).toBe(7); // keeps the column subtype, not the diff's
    expect([...data.v.buffer]).toEqual([9, 9, 0]); // untouched
    expect([...(bucket.data.t as Binary).buffer]).toEqual([1, 2, 3, 0]); // input not mutated
  });

  it('refuses a binary diff on a field that is not binary data, or an offset past its end', () => {
    expect(() => applyUpdate({ a: 'text' }, { $v: 2, diff: { b: { a: { o: 0, d: column(1) } } } })).toThrow(
      /not binary data/,
    );
    expect(() =>
      applyUpdate({ a: column(1, 0) }, { $v: 2, diff: { b: { a: { o: 5, d: column(1) } } } }),
    ).toThrow(/offset 5 outside a/);
  });
});
