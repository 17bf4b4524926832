/** The stand-in's capped oplog: under its caps, newest entries kept, oldest dropped in chunks as mongod's truncate markers do. */
import { describe, expect, it } from 'vitest';
import { Oplog } from '../support/standin/oplog.js';

const fill = (oplog: Oplog, n: number) => {
  for (let k = 0; k < n; k++) oplog.append({ op: 'i', ns: 'a.b', o: { _id: k, pad: 'x'.repeat(100) } });
};

describe('stand-in oplog cap', () => {
  it('keeps at most maxEntries, drops a chunk at a time, and keeps the newest', () => {
    const oplog = new Oplog(6400);
    fill(oplog, 20_000);
    expect(oplog.entries.length).toBeLessThanOrEqual(6400);
    expect(oplog.entries.length).toBeGreaterThanOrEqual(6400 - 100);
    expect((oplog.entries.at(-1)!.js.o as { _id: number })._id).toBe(19_999);
    // Strictly increasing, no hole: what was dropped is a prefix.
    const ids = oplog.entries.map((e) => (e.js.o as { _id: number })._id);
    expect(ids).toEqual(Array.from({ length: ids.length }, (_, k) => 20_000 - ids.length + k));
  });

  it('keeps small caps exact, and a byte cap under its size', () => {
    const small = new Oplog(20);
    fill(small, 50);
    expect(small.entries.length).toBe(20);
    const bytes = new Oplog(1_000_000, 64 * 1024);
    fill(bytes, 2000);
    const held = bytes.entries.reduce((n, e) => n + e.raw.byteLength, 0);
    expect(held).toBeLessThanOrEqual(64 * 1024);
    expect(held).toBeGreaterThan(60 * 1024);
  });
});
