/**
 * Capture's one walk of an oplog entry (oplog/entry-summary.ts): its ts is
 * exactly readEntryTs's (the same value, the same INVALID_BSON on a damaged
 * or truncated entry, never another kind of error), and its summary is a
 * claim the incident finder acts on without parsing: whenever it says "well
 * formed", parseOplogEntry reads that entry with the same op, ts and
 * fromMigrate. Checked on mongod's shapes (factory and hand-built: retryable
 * writes, migrations, transactions, commands), on the real entries in
 * ../shared/fixtures, and on thousands of truncated and bit-flipped copies.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { Binary, Long, Timestamp, UUID, serialize, type Document } from 'bson';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../engine/errors.js';
import {
  EntrySummary,
  SUMMARY_FROM_MIGRATE,
  SUMMARY_OP,
  SUMMARY_OP_MASK,
  SUMMARY_WELL_FORMED,
  summarizeEntry,
} from '../../engine/oplog/entry-summary.js';
import { parseOplogEntry } from '../../engine/oplog/oplog-entry.js';
import { readEntryTs, splitBsonDocuments } from '../../engine/repo/bson-entries.js';
import { HAVE_FIXTURES, SKIP_FIXTURES_MESSAGE, fixture } from '../support/fixtures.js';
import { OplogFactory } from '../support/oplog-factory.js';

const OP_CODES: Record<string, number> = {
  i: SUMMARY_OP.insert,
  u: SUMMARY_OP.update,
  d: SUMMARY_OP.delete,
  c: SUMMARY_OP.command,
  n: SUMMARY_OP.noop,
};

const summarize = (e: Uint8Array): EntrySummary => {
  const s = new EntrySummary();
  summarizeEntry(e, s);
  return s;
};

/** What a call gave: its value, or its error's class, code and message. */
function outcome<V>(f: () => V): { value: V } | { error: string } {
  try {
    return { value: f() };
  } catch (err) {
    if (!(err instanceof ApiError)) return { error: `not an ApiError: ${String(err)}` };
    return { error: `${err.code}: ${err.message}` };
  }
}

/** The summary's promise, checked against the full parse: true when it claimed "well formed". */
function checkAgainstParse(e: Uint8Array): boolean {
  const ts = outcome(() => readEntryTs(e));
  const got = outcome(() => {
    const s = summarize(e);
    return { ts: { i: s.i, t: s.t }, summary: s.summary };
  });
  if ('error' in ts) {
    expect(got).toEqual(ts); // the same INVALID_BSON, word for word
    return false;
  }
  expect('value' in got && got.value.ts).toEqual(ts.value);
  const { summary } = (got as { value: { summary: number } }).value;
  if (!(summary & SUMMARY_WELL_FORMED)) {
    expect(summary).toBe(0);
    return false;
  }
  const parsed = parseOplogEntry(e); // must not throw: the finder acts on the claim alone
  expect(parsed.ts).toEqual(ts.value);
  expect(summary & SUMMARY_OP_MASK).toBe(OP_CODES[parsed.op] ?? SUMMARY_OP.other);
  expect(Boolean(summary & SUMMARY_FROM_MIGRATE)).toBe(parsed.fromMigrate);
  return true;
}

const at = (k: number) => new Timestamp({ t: 1_700_000_000 + k, i: 1 + (k % 7) });
const entry = (k: number, fields: Document) =>
  serialize({ ts: at(k), t: Long.fromNumber(1), v: Long.fromNumber(2), wall: new Date(), ...fields });
const lsid = { id: new UUID(), uid: new Binary(Buffer.alloc(32, 7)) };

/** mongod's shapes beyond the factory's plain CRUD. */
const SHAPES: Uint8Array[] = [
  // A retryable insert: session, txnNumber, stmtId and prevOpTime, as drivers' retryWrites log it.
  entry(1, {
    lsid,
    txnNumber: Long.fromNumber(3),
    op: 'i',
    ns: 'shop.orders',
    ui: new UUID(),
    o: { _id: 1 },
    stmtId: 0,
    prevOpTime: { ts: new Timestamp({ t: 0, i: 0 }), t: Long.fromNumber(-1) },
  }),
  entry(2, { op: 'i', ns: 'shop.orders', o: { _id: 2 }, fromMigrate: true }),
  entry(3, { op: 'd', ns: 'shop.orders', o: { _id: 3 }, fromMigrate: false }),
  entry(4, { op: 'n', ns: '', o: { msg: 'periodic noop' } }),
  entry(5, { op: 'c', ns: 'shop.$cmd', o: { drop: 'orders' }, o2: { numRecords: 12 } }),
  entry(6, {
    lsid,
    txnNumber: Long.fromNumber(4),
    op: 'c',
    ns: 'admin.$cmd',
    o: { applyOps: [{ op: 'd', ns: 'shop.orders', o: { _id: 4 } }] },
    prevOpTime: { ts: new Timestamp({ t: 0, i: 0 }), t: Long.fromNumber(-1) },
  }),
  entry(7, { op: 'i', ns: 'shop.orders', o: { _id: 5 }, multiOpType: 1 }),
  entry(8, { op: 'km', ns: 'admin.$cmd', o: {} }),
];

describe('capture’s entry summary', () => {
  it('reads ts as readEntryTs does and summarizes mongod’s shapes as parseOplogEntry reads them', () => {
    const f = new OplogFactory({ start: { t: 1_700_000_000, i: 1 } });
    const all = [...f.mixed(300), ...SHAPES];
    for (const e of all) expect(checkAgainstParse(e)).toBe(true);
    const codes = all.map((e) => summarize(e).summary);
    expect(codes).toContain(SUMMARY_WELL_FORMED | SUMMARY_OP.insert);
    expect(summarize(SHAPES[0]!).summary).toBe(SUMMARY_WELL_FORMED | SUMMARY_OP.insert); // retryable
    expect(summarize(SHAPES[1]!).summary).toBe(
      SUMMARY_WELL_FORMED | SUMMARY_FROM_MIGRATE | SUMMARY_OP.insert,
    );
    expect(summarize(SHAPES[2]!).summary).toBe(SUMMARY_WELL_FORMED | SUMMARY_OP.delete);
    expect(summarize(SHAPES[3]!).summary).toBe(SUMMARY_WELL_FORMED | SUMMARY_OP.noop);
    expect(summarize(SHAPES[4]!).summary).toBe(SUMMARY_WELL_FORMED | SUMMARY_OP.command);
    expect(summarize(SHAPES[7]!).summary).toBe(SUMMARY_WELL_FORMED | SUMMARY_OP.other);
  });

  it.skipIf(!HAVE_FIXTURES)(
    'agrees with the full parse on the real oplog entries of ../shared/fixtures',
    () => {
      const dir = fixture('mongorestore', 'testdata', 'oplogs', 'bson');
      const files = [
        ...readdirSync(dir).map((n) => `${dir}/${n}`),
        fixture('mongorestore', 'testdata', 'oplog_partial_skips', 'oplog.bson'),
        fixture('mongorestore', 'testdata', 'dump_with_noop_in_oplog', 'oplog.bson'),
      ];
      let n = 0;
      for (const file of files)
        for (const e of splitBsonDocuments(readFileSync(file), file)) {
          expect(checkAgainstParse(e)).toBe(true);
          n++;
        }
      expect(n).toBeGreaterThan(20);
    },
  );
  if (!HAVE_FIXTURES) it.skip(SKIP_FIXTURES_MESSAGE, () => undefined);

  it('a truncated or bit-flipped entry: the same INVALID_BSON as readEntryTs, or a summary the parse bears out', () => {
    let claimed = 0;
    let refused = 0;
    let seed = 7;
    const rand = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
    for (const base of [SHAPES[0]!, SHAPES[5]!, new OplogFactory({ start: { t: 1, i: 1 } }).insert()]) {
      const b = Buffer.from(base);
      // Cut anywhere: the length prefix then claims more than there is.
      for (let len = 0; len < b.length; len++) {
        const cut = b.subarray(0, len);
        if (checkAgainstParse(cut)) claimed++;
        else refused++;
      }
      // One byte changed anywhere, many times over (lengths, types, names, values).
      for (let k = 0; k < 1500; k++) {
        const d = Buffer.from(b);
        const pos = Math.floor(rand() * d.length);
        d[pos] = d[pos]! ^ (1 << Math.floor(rand() * 8));
        if (checkAgainstParse(d)) claimed++;
        else refused++;
      }
    }
    expect(refused).toBeGreaterThan(100);
    expect(claimed).toBeGreaterThan(100); // a flip inside a value leaves the entry readable
  });

  it('leaves to the full parse what it would refuse or read differently', () => {
    const base = { op: 'i', ns: 'shop.orders', o: { _id: 1 } };
    const cases: [string, Uint8Array][] = [
      ['op not a string', entry(1, { ...base, op: 1 })],
      ['empty op', entry(1, { ...base, op: '' })],
      ['no op', entry(1, { ns: 'shop.orders', o: { _id: 1 } })],
      ['o not a document', entry(1, { ...base, o: 'x' })],
      ['ns not a string', entry(1, { ...base, ns: 5 })],
      ['txnNumber not a number', entry(1, { ...base, txnNumber: 'x' })],
      ['multiOpType not a number', entry(1, { ...base, multiOpType: 'x' })],
      ['prevOpTime not a document', entry(1, { ...base, prevOpTime: 5 })],
      ['prevOpTime.ts not a Timestamp', entry(1, { ...base, prevOpTime: { ts: 5 } })],
    ];
    for (const [why, e] of cases) {
      expect(summarize(e).summary, why).toBe(0);
      expect(() => parseOplogEntry(e), why).toThrow(ApiError);
    }
    // Two ts: capture reads the first, the parse the last; the scan is left to the parse.
    const twoTs = Buffer.concat([
      serialize({ ts: at(1), ...base }).subarray(0, -1),
      serialize({ ts: at(2) }).subarray(4),
    ]);
    twoTs.writeInt32LE(twoTs.length, 0);
    expect(summarize(twoTs)).toMatchObject({ t: at(1).high, i: at(1).low, summary: 0 });
    // The last op counts, as the parse reads it; the first fromMigrate counts.
    const twoOps = Buffer.concat([
      serialize({ ts: at(1), op: 'd', ns: 'a.b', o: {}, fromMigrate: true }).subarray(0, -1),
      serialize({ op: 'i', fromMigrate: false }).subarray(4),
    ]);
    twoOps.writeInt32LE(twoOps.length, 0);
    expect(summarize(twoOps).summary).toBe(SUMMARY_WELL_FORMED | SUMMARY_FROM_MIGRATE | SUMMARY_OP.insert);
    expect(checkAgainstParse(twoOps)).toBe(true);
    // A garbled prevOpTime inside an entry whose outline is whole: no error for capture, no claim.
    const garbled = Buffer.from(entry(1, { ...base, prevOpTime: { ts: at(0), t: Long.fromNumber(1) } }));
    const p = garbled.indexOf(Buffer.from('prevOpTime\0'));
    garbled[p + 'prevOpTime\0'.length + 4] = 0x77; // the first element's type: unknown
    expect(summarize(garbled).summary).toBe(0);
    expect(() => parseOplogEntry(garbled)).toThrow(ApiError);
    // ts missing or not a Timestamp: capture's error, as before.
    expect(() => summarize(serialize(base))).toThrow('oplog entry has no "ts" field.');
    expect(() => summarize(serialize({ ts: 5, ...base }))).toThrow('"ts" is not a BSON Timestamp');
  });
});
