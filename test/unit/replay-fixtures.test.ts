/**
 * Real oplogs from real mongods (mongo-tools' test data) through the replay
 * core: index builds, collMod index flags, namespace skipping, vectored
 * inserts, every single-entry command shape. Expected results come from
 * mongorestore's own tests and mongod's rules, compared as raw BSON.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { serialize } from 'bson';
import { describe, expect, it } from 'vitest';
import { HAVE_FIXTURES, SKIP_FIXTURES_MESSAGE, fixture } from '../support/fixtures.js';
import {
  docsHex,
  ejsonToBson,
  hex,
  indexNames,
  indexSpec,
  loadDump,
  readBsonFile,
  readJsonLines,
  replayEntries,
} from '../support/replay-helpers.js';

const testdata = (...p: string[]) => fixture('mongorestore', 'testdata', ...p);
const bytes = (doc: object) => hex(serialize(doc));

describe.skipIf(!HAVE_FIXTURES)(`replay of real oplogs ${HAVE_FIXTURES ? '' : SKIP_FIXTURES_MESSAGE}`, () => {
  it('commit_indexes_build: startIndexBuild + commitIndexBuild create the indexes (a_1, and b_1 with its filter, Double keys kept)', () => {
    const state = replayEntries(readBsonFile(testdata('commit_indexes_build', 'oplog.bson')));
    expect(indexNames(state, 'commit_index.test')).toEqual(['_id_', 'a_1', 'b_1']);
    expect(indexSpec(state, 'commit_index.test', 'b_1')).toBe(
      '{"v":{"$numberInt":"2"},"key":{"b":{"$numberDouble":"1.0"}},"partialFilterExpression":{"a":{"$numberDouble":"1.0"}},"name":"b_1"}',
    );
    expect(state.get('commit_index.test')!.docs.size).toBe(1);
    expect(state.report!.ignoredCommands).toEqual({ startIndexBuild: 2 });
    expect(state.report!.noops).toBe(11);
  });

  it('oplogs/oplog.json: after drops, a dropDatabase and rebuilds, test2.foo ends with f_1 (key {f: 1.0} stays a Double)', () => {
    const state = replayEntries(readJsonLines(testdata('oplogs', 'oplog.json')));
    expect([...state.keys()]).toEqual(['test2.foo']);
    expect(indexNames(state, 'test2.foo')).toEqual(['_id_', 'f_1']);
    expect(indexSpec(state, 'test2.foo', 'f_1')).toBe(
      '{"v":{"$numberInt":"2"},"key":{"f":{"$numberDouble":"1.0"}},"name":"f_1"}',
    );
  });

  it('collMod_indexUniqueness: mongorestore rule, every index ends non-unique (no unique field) with prepareUnique', () => {
    const state = replayEntries(readBsonFile(testdata('oplogs', 'bson', 'collMod_indexUniqueness.bson')));
    const specs = state.get('mongodump_test_db.coll1')!.indexes.map(hex);
    expect(specs).toEqual(
      [
        { v: 2, key: { _id: 1 }, name: '_id_' },
        { v: 2, key: { a: 1 }, name: 'a_1', prepareUnique: true, forceNonUnique: true },
        { v: 2, hidden: true, key: { b: 1 }, name: 'b_1', prepareUnique: true, forceNonUnique: true },
        {
          v: 2,
          key: { c: 1 },
          name: 'c_1',
          expireAfterSeconds: 100000,
          prepareUnique: true,
          forceNonUnique: true,
        },
        {
          v: 2,
          hidden: true,
          key: { d: 1 },
          name: 'd_1',
          expireAfterSeconds: 100000,
          prepareUnique: true,
          forceNonUnique: true,
        },
      ].map(bytes),
    );
  });

  it('collMod with TTL (logged as an Int64, listed as an Int32) and hidden, createIndexes, dropIndexes, drop, dropDatabase on test.foo', () => {
    const create = readBsonFile(testdata('oplogs', 'bson', 'create_index.bson'));
    const mods = readBsonFile(testdata('oplogs', 'bson', 'collMod_with_hidden.bson'));
    let state = replayEntries([...create, ...mods]);
    expect(indexSpec(state, 'test.foo', 'f_1')).toBe(
      '{"v":{"$numberInt":"2"},"key":{"f":{"$numberDouble":"1.0"}},"name":"f_1","expireAfterSeconds":{"$numberInt":"3600"},"hidden":true}',
    );
    state = replayEntries([...create, ...readBsonFile(testdata('oplogs', 'bson', 'drop_index.bson'))]);
    expect(indexNames(state, 'test.foo')).toEqual(['_id_']);
    state = replayEntries([...create, ...readBsonFile(testdata('oplogs', 'bson', 'drop_collection.bson'))]);
    expect(state.has('test.foo')).toBe(false);
    state = replayEntries([...create, ...readBsonFile(testdata('oplogs', 'bson', 'drop_db.bson'))]);
    expect(state.size).toBe(0);
    state = replayEntries(readBsonFile(testdata('oplogs', 'bson', 'commit_index.bson')));
    expect(indexNames(state, 'test.foo')).toEqual(['_id_', 'a_1']);
  });

  it('oplog_partial_skips: config.* is never replayed; the user namespace is', () => {
    const state = replayEntries(readBsonFile(testdata('oplog_partial_skips', 'oplog.bson')));
    expect([...state.keys()].filter((ns) => ns.startsWith('config.'))).toEqual([]);
    expect([...state.keys()]).toEqual(['db3.c1']);
    expect(state.get('db3.c1')!.docs.size).toBe(5);
    expect(Object.keys(state.report!.skipped).every((ns) => ns.startsWith('config.'))).toBe(true);
    expect(state.report!.skipped['config.system.sessions']).toBeGreaterThan(0);
  });

  it('vectored inserts (multiOpType: 1 with lsid/txnNumber) are applied as they come, linked or not', () => {
    let state = replayEntries(readBsonFile(testdata('oplogs', 'bson', 'vectored_insert.bson')));
    expect(docsHex(state, 'mongodump_test_db.coll1')).toEqual(
      [
        { _id: 100, a: 1 },
        { _id: 200, a: 2 },
      ]
        .map(bytes)
        .sort(),
    );
    state = replayEntries(readBsonFile(testdata('oplogs', 'bson', 'linked_vectored_inserts.bson')));
    expect(docsHex(state, 'mongodump_test_db.coll1')).toEqual(
      [300, 400, 500, 600, 700].map((id) => bytes({ _id: id, a: id / 100 })).sort(),
    );
    expect(state.report!.transactions).toEqual({ committed: 0, aborted: [], incomplete: [] });
  });

  it('bypassDocumentValidation: retryable inserts (lsid, txnNumber) are plain writes; create keeps its validator', () => {
    const state = replayEntries(readBsonFile(testdata('oplogs', 'bson', 'bypassDocumentValidation.bson')));
    expect(state.get('mongodump_test_db.coll1')!.docs.size).toBe(3);
    const options = state.get('mongodump_test_db.coll1')!.options;
    expect(hex(options)).toBe(
      bytes({
        validator: {
          $jsonSchema: {
            bsonType: 'object',
            title: 'Test validator',
            properties: { testField: { enum: ['valid'] } },
          },
        },
      }),
    );
  });

  it('replays the oplog.bson of every mongodump --oplog fixture without error', () => {
    const dirs = readdirSync(testdata(), { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name)
      .filter((d) => readdirSync(testdata(d)).includes('oplog.bson'));
    expect(dirs.length).toBeGreaterThanOrEqual(8);
    for (const d of dirs) {
      const entries = readBsonFile(testdata(d, 'oplog.bson'));
      const state = replayEntries(entries);
      expect(state.report!.entries, d).toBe(entries.length);
      expect(
        [...state.keys()].filter((ns) => /^(config|local)\./.test(ns)),
        d,
      ).toEqual([]);
    }
    expect(readBsonFile(testdata('extra_oplog.bson')).length).toBeGreaterThan(0);
    expect(() => replayEntries(readBsonFile(testdata('extra_oplog.bson')))).not.toThrow();
  });

  it('collMod_ttl_index dump + oplog: the TTL index ends with expireAfterSeconds Int32 1000, as mongorestore restores it', () => {
    const dir = testdata('collMod_ttl_index');
    const state = replayEntries(readBsonFile(join(dir, 'oplog.bson')), {}, loadDump(dir));
    expect(indexNames(state, 'mongodump_test_db.coll1')).toEqual(['_id_', 'a_1']);
    expect(indexSpec(state, 'mongodump_test_db.coll1', 'a_1')).toBe(
      '{"v":{"$numberInt":"2"},"key":{"a":{"$numberInt":"1"}},"name":"a_1","expireAfterSeconds":{"$numberInt":"1000"}}',
    );
    expect(state.get('mongodump_test_db.coll1')!.docs.size).toBeGreaterThan(0);
    expect([...state.keys()].filter((ns) => ns.startsWith('admin.'))).toEqual(['admin.system.version']); // from the dump, not replayed
  });

  it('oplogdump: the dump plus its oplog, documents kept byte for byte where the oplog does not touch them', () => {
    const dir = testdata('oplogdump');
    const dump = loadDump(dir);
    const before = new Map([...dump.get('db1.c1')!.docs].map(([k, v]) => [k, hex(v)]));
    const state = replayEntries(readBsonFile(join(dir, 'oplog.bson')), {}, loadDump(dir));
    const after = state.get('db1.c1')!.docs;
    let kept = 0;
    for (const [k, v] of before) if (after.has(k) && hex(after.get(k)!) === v) kept++;
    expect(kept).toBeGreaterThan(0);
    expect(state.report!.entries).toBeGreaterThan(0);
  });

  it('importCollection (mongodump test data) is refused with a clear reason', () => {
    const entries = readBsonFile(fixture('mongodump', 'testdata', 'importCollection.bson'));
    expect(() => replayEntries(entries)).toThrow(/imports collection test\.foo from data files/);
  });

  it('a vectored insert fixture keeps ejson types: Int32 _id', () => {
    expect(hex(ejsonToBson({ _id: { $numberInt: '1' } }))).toBe(bytes({ _id: 1 }));
  });
});
