/**
 * Point-in-time views of real mongodump output (the mongo-tools fixtures),
 * imported as sources: the view at `latest` holds what mongorestore's own
 * tests expect after `--oplogReplay`, byte for byte against the tests'
 * reference replay, and answers queries, counts and collection listings.
 */
import { deserialize, type Document } from 'bson';
import { afterEach, describe, expect, it } from 'vitest';
import { dispatch } from '../../engine/api/dispatch.js';
import { getSourceByName } from '../../engine/catalog/sources.js';
import { parseRestorePoint, planRestore } from '../../engine/restore/planner.js';
import { pointView } from '../../engine/views/point-view.js';
import { viewToOfflineState } from '../../engine/views/view-state.js';
import { dumpEnv, type DumpEnv } from '../support/dump-helpers.js';
import { HAVE_FIXTURES, SKIP_FIXTURES_MESSAGE, fixture } from '../support/fixtures.js';
import { referenceRebuild } from '../support/reference-replay.js';
import { call } from '../support/views-helpers.js';

const T = (p: string) => fixture('mongorestore/testdata', p);
let env: DumpEnv;
afterEach(async () => env?.close());

const hexes = (docs: Iterable<Uint8Array>) => [...docs].map((d) => Buffer.from(d).toString('hex')).sort();

/** The view at latest, as an offline state, and the reference replay of the same plan. */
async function viewAndReference(source: string) {
  const row = getSourceByName(env.engine.catalog, source);
  const plan = planRestore(env.engine.catalog, row.id, parseRestorePoint('latest'));
  if (!plan.ok) throw new Error(plan.message);
  const v = await pointView(env.engine, source, 'latest', { kind: 'latest' });
  const store = await env.engine.stores.get(row.repository_id);
  return { view: viewToOfflineState(v.db), ref: await referenceRebuild(store.repo, plan), how: v.how };
}

describe.skipIf(!HAVE_FIXTURES)(
  `views of mongodump fixtures at latest ${HAVE_FIXTURES ? '' : SKIP_FIXTURES_MESSAGE}`,
  () => {
    for (const name of [
      'oplogdump',
      'dump_with_noop_in_oplog',
      'oplog_partial_skips',
      'duplicate_index_key_with_oplog',
    ]) {
      it(`${name}/: every document of the view equals the reference replay byte for byte`, async () => {
        env = await dumpEnv();
        await env.importDump({ source: 'imp', dir: T(name) });
        const { view, ref } = await viewAndReference('imp');
        const user = (ns: string) => !ns.startsWith('config.') && !ns.startsWith('admin.');
        expect([...view.keys()].filter(user).sort()).toEqual([...ref.keys()].filter(user).sort());
        for (const [ns, c] of ref)
          if (user(ns)) expect(hexes(view.get(ns)!.docs.values()), ns).toEqual(hexes(c.docs.values()));
      });
    }

    it("oplogdump/: db1.c1 has 10 documents after the oplog (mongorestore's oplog_test.go), found by _id through the view's index", async () => {
      env = await dumpEnv();
      await env.importDump({ source: 'od', dir: T('oplogdump') });
      const count = await dispatch(env.engine, 'query.count', {
        source: 'od',
        at: 'latest',
        ns: 'db1.c1',
        count: true,
      });
      expect(count).toMatchObject({ ok: true, result: { count: 10, view: { how: 'built' } } });
      const all = await call(env.engine, 'query.find', {
        source: 'od',
        at: 'latest',
        ns: 'db1.c1',
        limit: 100,
      });
      expect(all.documents).toHaveLength(10);
      expect(all.view.how).toBe('reused');
      const first = JSON.parse(all.documents[0]!) as { _id: unknown };
      const one = await dispatch(env.engine, 'query.find', {
        source: 'od',
        at: 'latest',
        ns: 'db1.c1',
        filter: JSON.stringify({ _id: first._id }),
      });
      expect(one).toMatchObject({
        ok: true,
        result: { documents: [all.documents[0]], plan: { index: '_id_', documentsExamined: 1 } },
      });
      const list = await call(env.engine, 'collections.list', { source: 'od', at: 'latest' });
      expect(list.databases.find((d) => d.name === 'db1')).toEqual({
        name: 'db1',
        collections: [
          {
            name: 'c1',
            type: 'collection',
            count: 10,
            options: {},
            indexes: [{ v: 2, key: { _id: 1 }, name: '_id_', ns: 'db1.c1' }],
          },
        ],
      });
    });

    for (const [name, ns] of [
      ['create_indexes', 'create_indexes.test'],
      ['commit_indexes_build', 'commit_index.test'],
    ] as const) {
      it(`${name}/: the view at latest lists the 3 indexes mongorestore's test asserts, b_1 with its partial filter, and equals the reference replay`, async () => {
        env = await dumpEnv();
        await env.importDump({ source: 'ci', dir: T(name) });
        const { view, ref } = await viewAndReference('ci');
        expect(hexes(view.get(ns)!.docs.values())).toEqual(hexes(ref.get(ns)!.docs.values()));
        // The indexes the oplog's commands built, with their types as logged (the dump's _id index
        // keeps the `ns` its metadata gives it, which the reference replay does not model).
        const specs = (l: Document[]) => l.map(({ ns: _ns, ...spec }) => spec);
        expect(specs(view.get(ns)!.indexes.map((b) => deserialize(b, { promoteValues: false })))).toEqual(
          specs(ref.get(ns)!.indexes),
        );
        const list = await call(env.engine, 'collections.list', { source: 'ci', at: 'latest' });
        const [db, coll] = [ns.split('.')[0], ns.split('.')[1]];
        const c = list.databases.find((d) => d.name === db)!.collections.find((x) => x.name === coll)!;
        expect(c.indexes.map((i) => i.name)).toEqual(['_id_', 'a_1', 'b_1']);
        expect(c.indexes[2]).toMatchObject({ key: { b: 1 }, partialFilterExpression: { a: 1 } });
      });
    }

    it('keeps views within the cache settings: the least recently used beyond viewCacheMaxBytes, unused ones beyond viewMaxAgeDays', async () => {
      env = await dumpEnv();
      const names = ['a', 'b', 'c', 'd'];
      for (const n of names) await env.importDump({ source: n, dir: T('oplogdump') });
      const count = (source: string) =>
        call(env.engine, 'query.count', { source, at: 'latest', ns: 'db1.c1', count: true });
      for (const n of names.slice(0, 3)) await count(n);
      const three = await call(env.engine, 'view.list', {});
      expect(three.map((v) => v.source)).toEqual(['c', 'b', 'a']); // newest use first
      // Room for about two views: building a fourth evicts the least recently used ones.
      const size = Math.max(...three.map((v) => v.bytes));
      await call(env.engine, 'settings.set', { viewCacheMaxBytes: size * 2 + 1 });
      await count('d');
      expect((await call(env.engine, 'view.list', {})).map((v) => v.source)).toEqual(['d', 'c']);
      // Unused for longer than the age limit: only the view just built stays.
      await call(env.engine, 'settings.set', { viewCacheMaxBytes: 20 * 1024 ** 3, viewMaxAgeDays: 0 });
      expect(await count('a')).toMatchObject({ count: 10, view: { how: 'built' } });
      expect((await call(env.engine, 'view.list', {})).map((v) => v.source)).toEqual(['a']);
    });

    it('dump_with_noop_in_oplog/: test.data holds {a: 1} only, as mongorestore asserts', async () => {
      env = await dumpEnv();
      await env.importDump({ source: 'noop', dir: T('dump_with_noop_in_oplog') });
      const { view } = await viewAndReference('noop');
      expect([...view.get('test.data')!.docs.values()].map((d) => deserialize(d).a)).toEqual([1]);
      const r = await dispatch(env.engine, 'query.find', {
        source: 'noop',
        at: 'latest',
        ns: 'test.data',
        filter: '{"a": 1}',
      });
      expect(r).toMatchObject({ ok: true, result: { documents: [expect.stringContaining('"a":1')] } });
    });
  },
);
