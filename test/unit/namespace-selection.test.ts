/** Include / exclude / rename of namespaces, for collections and oplog entries (incl. applyOps) alike. */
import { deserialize, Double, Long, serialize, Timestamp } from 'bson';
import { describe, expect, it } from 'vitest';
import { NamespaceFilter } from '../../engine/oplog/namespace-selection.js';

const ts = new Timestamp({ t: 1_700_000_000, i: 1 });
const e = (o: Record<string, unknown>) => serialize({ ts, v: 2, ...o });
const back = (raw: Uint8Array | null) => (raw ? deserialize(raw) : null);

describe('NamespaceFilter', () => {
  it('keeps everything byte for byte without rules', () => {
    const f = new NamespaceFilter();
    const raw = e({ op: 'i', ns: 'shop.orders', o: { _id: 1 } });
    expect(f.identity).toBe(true);
    expect(f.entry(raw)).toBe(raw);
  });

  it('includes and excludes with * wildcards, as mongorestore --nsInclude/--nsExclude', () => {
    const f = new NamespaceFilter({ include: ['shop.*'], exclude: ['shop.tmp_*'] });
    expect(f.keeps('shop.orders')).toBe(true);
    expect(f.keeps('shop.tmp_1')).toBe(false);
    expect(f.keeps('hr.people')).toBe(false);
    expect(f.entry(e({ op: 'i', ns: 'hr.people', o: { _id: 1 } }))).toBeNull();
    expect(f.entry(e({ op: 'c', ns: 'shop.$cmd', o: { drop: 'tmp_1' } }))).toBeNull();
    expect(back(f.entry(e({ op: 'c', ns: 'shop.$cmd', o: { create: 'orders' } })))!.o).toEqual({
      create: 'orders',
    });
    expect(f.entry(e({ op: 'c', ns: 'hr.$cmd', o: { dropDatabase: 1 } }))).toBeNull();
    expect(f.entry(e({ op: 'n', ns: '', o: { msg: 'noop' } }))).not.toBeNull();
  });

  it('renames collections, commands and the operations inside a transaction consistently', () => {
    const f = new NamespaceFilter({ rename: ['shop.$c$=archive.$c$'], exclude: ['shop.secret'] });
    expect(f.rename('shop.orders')).toBe('archive.orders');
    expect(back(f.entry(e({ op: 'u', ns: 'shop.orders', o: { $v: 2, diff: {} }, o2: { _id: 1 } })))!.ns).toBe(
      'archive.orders',
    );
    const idx = back(
      f.entry(e({ op: 'c', ns: 'shop.$cmd', o: { createIndexes: 'orders', name: 'a_1', key: { a: 1 } } })),
    )!;
    expect([idx.ns, idx.o.createIndexes]).toEqual(['archive.$cmd', 'orders']);
    const ren = back(
      f.entry(e({ op: 'c', ns: 'shop.$cmd', o: { renameCollection: 'shop.a', to: 'shop.b' } })),
    )!;
    expect(ren.o).toMatchObject({ renameCollection: 'archive.a', to: 'archive.b' });
    const txn = back(
      f.entry(
        e({
          op: 'c',
          ns: 'admin.$cmd',
          o: {
            applyOps: [
              { op: 'i', ns: 'shop.orders', o: { _id: 1 } },
              { op: 'i', ns: 'shop.secret', o: { _id: 2 } },
            ],
          },
        }),
      ),
    )!;
    expect(txn.ns).toBe('admin.$cmd');
    expect(txn.o.applyOps).toEqual([{ op: 'i', ns: 'archive.orders', o: { _id: 1 } }]);
    // A transaction left with nothing is dropped; a link of a multi-entry chain is kept (the commit refers to it).
    const only = e({
      op: 'c',
      ns: 'admin.$cmd',
      o: { applyOps: [{ op: 'i', ns: 'shop.secret', o: { _id: 2 } }] },
    });
    expect(f.entry(only)).toBeNull();
    const link = e({
      op: 'c',
      ns: 'admin.$cmd',
      o: { applyOps: [{ op: 'i', ns: 'shop.secret', o: { _id: 2 } }], partialTxn: true },
    });
    expect(back(f.entry(link))!.o.applyOps).toEqual([]);
  });

  it('a renamed entry keeps every other byte: field order (number-like names too) and types of o and o2', () => {
    const f = new NamespaceFilter({ rename: ['shop.$c$=archive.$c$'], exclude: ['shop.secret'] });
    // Maps keep the order sent; a JavaScript object would put "2024" and "10" first.
    const doc = new Map<string, unknown>([
      ['_id', 7],
      ['qty', -1],
      ['2024', new Double(1)],
      ['10', Long.fromNumber(10)],
    ]);
    const original = e({ op: 'u', ns: 'shop.orders', o: doc, o2: { _id: 7 } });
    const out = f.entry(original)!;
    const expected = e({ op: 'u', ns: 'archive.orders', o: doc, o2: { _id: 7 } });
    expect(Buffer.from(out).equals(Buffer.from(expected))).toBe(true);
    // Inside a transaction, with one operation dropped: the kept one's bytes are the same as sent.
    const txn = (ops: unknown[]) => e({ op: 'c', ns: 'admin.$cmd', o: { applyOps: ops }, lsid: { id: 1 } });
    const got = f.entry(
      txn([
        { op: 'i', ns: 'shop.secret', o: { _id: 1 } },
        { op: 'i', ns: 'shop.orders', o: doc },
      ]),
    )!;
    expect(Buffer.from(got).equals(Buffer.from(txn([{ op: 'i', ns: 'archive.orders', o: doc }])))).toBe(true);
  });

  it('refuses malformed rules with a typed error', () => {
    expect(() => new NamespaceFilter({ rename: ['nothing'] })).toThrow(/FROM=TO/);
    expect(() => new NamespaceFilter({ rename: ['a.b=c.$x$'] })).toThrow(/not a variable/);
    expect(() => new NamespaceFilter({ include: ['justdb'] })).toThrow(/db.collection/);
    // mongorestore refuses these too (mongo-tools mongorestore/ns/ns_test.go, "with invalid replacements").
    expect(() => new NamespaceFilter({ rename: ['$db$.user$db$=test.user-$db$'] })).toThrow(/more than once/);
    expect(() => new NamespaceFilter({ rename: ['$db$.us$er$table$=test.user$table$_$db$'] })).toThrow(
      /odd number/,
    );
    // A star in TO with none in FROM would merge every match into one collection literally named "*".
    expect(() => new NamespaceFilter({ rename: ['shop.orders=shop_staging.*'] })).toThrow(
      /numbers of \* wildcards/,
    );
    expect(() => new NamespaceFilter({ rename: ['shop.*=shop_staging.orders'] })).toThrow(
      /numbers of \* wildcards/,
    );
    expect(() => new NamespaceFilter({ include: ['*.user$'] })).toThrow(/"\$" is not allowed/);
    for (const bad of [['nothing'], ['shop.orders=x.*']]) {
      try {
        new NamespaceFilter({ rename: bad });
        expect.unreachable();
      } catch (err) {
        expect((err as { code?: string }).code).toBe('INVALID_INPUT');
      }
    }
  });

  it("renames by mongorestore's --nsFrom/--nsTo rules: stars carried over in order, $vars$ reordered, escapes", () => {
    // The issue's own example: shop.* -> shop_staging.*
    const staging = new NamespaceFilter({ rename: ['shop.*=shop_staging.*'] });
    expect(staging.rename('shop.orders')).toBe('shop_staging.orders');
    expect(staging.rename('shop.carts.archive')).toBe('shop_staging.carts.archive');
    expect(staging.rename('crm.orders')).toBe('crm.orders');
    // Cases of mongo-tools mongorestore/ns/ns_test.go (TestReplacer), retyped.
    const all = new NamespaceFilter({ rename: ['*.*=*_test.*'] });
    expect(all.rename('stuff.user')).toBe('stuff_test.user');
    expect(all.rename('prod.turbo.encabulators')).toBe('prod_test.turbo.encabulators');
    const mixed = new NamespaceFilter({
      rename: ['$db$.user$$=test.user$$_$db$', 'pr\\*d\\\\.*=st\\*g\\\\ing.*'],
    });
    expect(mixed.rename('stuff.user')).toBe('test.user_stuff');
    expect(mixed.rename('stuff.users')).toBe('test.users_stuff');
    expect(mixed.rename('pr*d\\.users')).toBe('st*g\\ing.users');
    expect(mixed.rename('pr*d\\.turbo.encabulators')).toBe('st*g\\ing.turbo.encabulators');
    const odd = new NamespaceFilter({ rename: ['$:)*$.us(?:2)er$?$=test.us(?:2)er$?$_$:)*$'] });
    expect(odd.rename('stuff.us(?:2)er')).toBe('test.us(?:2)er_stuff');
    expect(odd.rename('stuff.us(?:2)ers')).toBe('test.us(?:2)ers_stuff');
    const reorder = new NamespaceFilter({ rename: ['data.$prefix$_$customer$=$customer$.$prefix$'] });
    expect(reorder.rename('data.acme_orders')).toBe('orders.acme');
    // When several rules match, the one given last wins (mongorestore builds its renamer in reverse).
    const both = new NamespaceFilter({ rename: ['shop.*=a.*', 'shop.orders=b.orders'] });
    expect(both.rename('shop.orders')).toBe('b.orders');
    expect(both.rename('shop.carts')).toBe('a.carts');
  });

  it('include and exclude read \\* as a literal star (mongo-tools TestMatcher)', () => {
    const f = new NamespaceFilter({ include: ['*.user*', 'pr\\*d\\.*'] });
    expect(f.keeps('stuff.user')).toBe(true);
    expect(f.keeps('pr*d.users')).toBe(true);
    expect(f.keeps('pr*d.turbo.encabulators')).toBe(true);
    expect(f.keeps('prod.magic')).toBe(false);
    expect(f.keeps('st*ging.turbo.encabulators')).toBe(false);
    expect(new NamespaceFilter({ include: ['*.*'] }).keeps('stuff')).toBe(false);
  });
});
