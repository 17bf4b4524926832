/**
 * Transactions as real mongods log them (mongo-tools' own test data): every
 * case replayed through the replay core must end in the case's `postimage`,
 * compared byte for byte as raw BSON. Aborted and never-committed
 * transactions are dropped and reported.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { HAVE_FIXTURES, SKIP_FIXTURES_MESSAGE, fixture } from '../support/fixtures.js';
import { docsHex, ejsonToBson, hex, replayEntries } from '../support/replay-helpers.js';

interface Case {
  ops: unknown[];
  ns: string;
  postimage?: unknown[];
}

const FILES = [
  ['mongorestore/testdata/transactions.json', ['mongorestore', 'testdata', 'transactions.json']],
  ['common/txn/testdata/oplog_entries.json', ['common', 'txn', 'testdata', 'oplog_entries.json']],
] as const;

/** What the report must say for the cases that are not applied. */
const DROPPED: Record<string, 'aborted' | 'incomplete'> = {
  'small, prepared, aborted': 'aborted',
  'large, prepared, aborted': 'aborted',
  'large, unprepared, incomplete': 'incomplete',
  'small, prepared, incomplete': 'incomplete',
};

for (const [label, path] of FILES) {
  describe.skipIf(!HAVE_FIXTURES)(`replay: ${label} ${HAVE_FIXTURES ? '' : SKIP_FIXTURES_MESSAGE}`, () => {
    const cases = HAVE_FIXTURES
      ? (JSON.parse(readFileSync(fixture(...path), 'utf8')) as Record<string, Case>)
      : {};
    for (const [name, c] of Object.entries(cases)) {
      it(name, () => {
        const state = replayEntries(c.ops.map(ejsonToBson));
        const report = state.report!;
        if (c.postimage) {
          expect(docsHex(state, c.ns)).toEqual(c.postimage.map((d) => hex(ejsonToBson(d))).sort());
        } else {
          // "not transaction with multiOpType": a vectored insert with lsid/txnNumber is applied at once.
          expect(docsHex(state, 'test.foo')).toEqual(
            [
              { _id: 4, x: -20, y: 4 },
              { _id: 5, x: -30, y: 11 },
            ]
              .map((d) => hex(ejsonToBson(d)))
              .sort(),
          );
        }
        const dropped = DROPPED[name];
        expect(report.transactions.aborted.length).toBe(dropped === 'aborted' ? 1 : 0);
        expect(report.transactions.incomplete.length).toBe(dropped === 'incomplete' ? 1 : 0);
        if (dropped) expect(report.transactions.committed).toBe(0);
      });
    }
  });
}
