/**
 * Collations on a view file built directly: the outcomes mongod's own tests
 * assert (jstests/core/collation.js: find, count, distinct and aggregate with
 * a request's collation, with a collection's default one and with "simple"
 * overriding it; the `_id` lookup and an index of other strings), a MongoDB
 * view's collation, which no request may override (OptionNotSupportedOnView),
 * and a collation refused with mongod's reasons.
 */
import { EJSON, type Document } from 'bson';
import { describe, expect, it } from 'vitest';
import type { ViewDb } from '../../engine/catalog/view-store.js';
import { aggregate, count, distinct, find } from '../../engine/views/query.js';
import { parseCollation } from '../../engine/views/query-input.js';
import type { CollationSpec } from '../../engine/views/collation.js';
import { storedCollation } from '../support/stored-collation.js';
import { useViewFile, type TestCollection } from '../support/view-file.js';

const file = useViewFile('mbm-view-collation-');
let db: ViewDb | null = null;

/** A collation as mongod stores it in a collection's options (every field, version included). */
const stored = (locale: string, strength: number) => storedCollation(locale, { strength });

/** A view holding `t.c` (options, indexed fields) with these documents, and MongoDB views if asked. */
function build(
  docs: Document[],
  o: {
    collation?: Document;
    indexed?: string[];
    views?: { name: string; options: TestCollection['view'] }[];
  } = {},
) {
  const colls: Record<string, TestCollection> = {
    't.c': { docs, indexed: o.indexed ?? [], options: o.collation ? { collation: o.collation } : {} },
  };
  for (const v of o.views ?? []) colls[`t.${v.name}`] = { view: v.options };
  db = file.build(colls);
}

const c = (text: string) => parseCollation(text);
const EN2 = c('{"locale": "en_US", "strength": 2}');
const EN = c('{"locale": "en_US"}');
const SIMPLE = c('{"locale": "simple"}');

function docs(
  filter: Document,
  o: { collation?: CollationSpec | null; sort?: Document; projection?: Document; ns?: string } = {},
) {
  return find(db!, o.ns ?? 't.c', {
    filter,
    sort: o.sort,
    projection: o.projection,
    collation: o.collation,
    skip: 0,
    limit: 1000,
    canonical: false,
  });
}
const n = (filter: Document, collation?: CollationSpec | null) =>
  docs(filter, { collation }).documents.length;
const parsed = (r: { documents: string[] }) => r.documents.map((d) => EJSON.parse(d) as Document);

describe('collation given with the query', () => {
  it('finds strings equal by it, on _id and other fields, indexed or not', () => {
    build([{ _id: 1, str: 'foo' }, { _id: 2, str: 'bar' }, { _id: 'foo' }], { indexed: ['str'] });
    expect(n({ _id: 'FOO' })).toBe(0);
    expect(n({ _id: 'FOO' }, EN)).toBe(0);
    expect(n({ _id: 'FOO' }, EN2)).toBe(1);
    expect(n({ str: 'FOO' })).toBe(0);
    expect(n({ str: 'FOO' }, EN)).toBe(0);
    expect(n({ str: 'FOO' }, EN2)).toBe(1);
    // The key tables hold the bytes: a string under a collation is matched by a scan...
    expect(docs({ str: 'FOO' }, { collation: EN2 }).plan.index).toBeNull();
    // ...and other values still through the keys.
    expect(docs({ _id: 2 }, { collation: EN2 }).plan).toEqual({ index: '_id_', documentsExamined: 1 });
    expect(docs({ str: 'foo' }).plan.index).toBe('str_1');
  });

  it('$ne, $in, ranges and $expr compare by it', () => {
    build([
      { _id: 1, str: 'foo' },
      { _id: 2, str: 'bar' },
    ]);
    expect(n({ str: { $ne: 'FOO' } }, EN2)).toBe(1);
    expect(n({ str: { $in: ['FOO', 'BAR'] } }, EN2)).toBe(2);
    expect(n({ str: { $gte: 'BAR', $lt: 'FOO' } }, EN2)).toBe(1);
    expect(n({ $expr: { $eq: ['$str', 'FOO'] } }, EN2)).toBe(1);
    expect(n({ $expr: { $eq: ['$str', 'FOO'] } })).toBe(0);
  });

  it("sorts by it, whatever the index's order (a, A, b, B at strength 3)", () => {
    build(
      [{ a: 'A' }, { a: 'B' }, { a: 'b' }, { a: 'a' }].map((d, k) => ({ _id: k, ...d })),
      {
        indexed: ['a'],
      },
    );
    const sorted = docs({ a: { $exists: true } }, { collation: EN, sort: { a: 1 }, projection: { _id: 0 } });
    expect(parsed(sorted)).toEqual([{ a: 'a' }, { a: 'A' }, { a: 'b' }, { a: 'B' }]);
    // Without it, the bytes: upper case first.
    expect(parsed(docs({}, { sort: { a: 1 }, projection: { _id: 0 } }))).toEqual([
      { a: 'A' },
      { a: 'B' },
      { a: 'a' },
      { a: 'b' },
    ]);
  });

  it('numeric ordering sorts digits as numbers', () => {
    build(['10', '9', '2', '100'].map((s, k) => ({ _id: k, s })));
    const sorted = docs(
      {},
      { collation: c('{"locale": "en", "numericOrdering": true}'), sort: { s: 1 }, projection: { _id: 0 } },
    );
    expect(parsed(sorted).map((d) => d.s)).toEqual(['2', '9', '10', '100']);
  });

  it('counts, distincts and aggregates by it', () => {
    build([
      { _id: 1, str: 'foo' },
      { _id: 2, str: 'FOO' },
    ]);
    expect(count(db!, 't.c', { str: 'FOO' })).toBe(1);
    expect(count(db!, 't.c', { str: 'Foo' }, EN)).toBe(0);
    expect(count(db!, 't.c', { str: 'fOo' }, EN2)).toBe(2);
    const values = distinct(db!, 't.c', 'str', {}, false, EN2);
    expect(values).toHaveLength(1);
    expect((JSON.parse(values[0]!) as string).toLowerCase()).toBe('foo');
    expect(distinct(db!, 't.c', 'str', {}, false, c('{"locale": "en_US", "strength": 3}'))).toHaveLength(2);
    expect(distinct(db!, 't.c', '_id', { str: 'foo' }, false, EN2)).toHaveLength(2);
    expect(aggregate(db!, 't.c', [{ $match: { str: 'fOO' } }], 10, false, EN2).documents).toHaveLength(2);
    expect(aggregate(db!, 't.c', [{ $match: { str: 'fOO' } }], 10, false).documents).toHaveLength(0);
    // Keys equal by the collation are one group.
    const groups = aggregate(db!, 't.c', [{ $group: { _id: '$str', n: { $sum: 1 } } }], 10, false, EN2);
    expect(groups.documents.map((d) => (EJSON.parse(d) as Document).n)).toEqual([2]);
    expect(
      aggregate(db!, 't.c', [{ $group: { _id: '$str', n: { $sum: 1 } } }], 10, false).documents,
    ).toHaveLength(2);
    const set = aggregate(db!, 't.c', [{ $group: { _id: null, s: { $addToSet: '$str' } } }], 10, false, EN2);
    expect((EJSON.parse(set.documents[0]!) as { s: string[] }).s).toHaveLength(1);
  });
});

describe("a collection's default collation", () => {
  const three = [
    { _id: 1, str: 'foo' },
    { _id: 2, str: 'FOO' },
    { _id: 3, str: 'bar' },
  ];

  it('applies when the query gives none, stored as mongod stores it', () => {
    build(three, { collation: stored('en_US', 2) });
    expect(n({ str: { $in: ['foo', 'bar'] } })).toBe(3);
    expect(n({ str: 'foo' })).toBe(2);
    expect(n({ str: { $ne: 'foo' } })).toBe(1);
    expect(parsed(docs({}, { projection: { _id: 0, str: 1 }, sort: { str: 1 } }))).toEqual([
      { str: 'bar' },
      { str: 'foo' },
      { str: 'FOO' },
    ]);
    expect(count(db!, 't.c', { str: 'FOO' })).toBe(2);
    expect(distinct(db!, 't.c', 'str', {}, false)).toHaveLength(2);
    expect(distinct(db!, 't.c', '_id', { str: 'foo' }, false)).toHaveLength(2);
    expect(aggregate(db!, 't.c', [{ $match: { str: 'FOO' } }], 10, false).documents).toHaveLength(2);
  });

  it('applies to the _id lookup and to $expr', () => {
    build([{ _id: 'foo' }, { _id: 'A', a: 'A' }, { _id: 'B', a: 'B' }], { collation: stored('en_US', 2) });
    expect(n({ _id: 'FOO' })).toBe(1);
    expect(n({ $expr: { $eq: ['$a', 'a'] } })).toBe(1);
  });

  it('gives way to "simple" or another collation given with the query', () => {
    build(three, { collation: stored('en_US', 2) });
    expect(n({ str: { $in: ['foo', 'bar'] } }, SIMPLE)).toBe(2);
    expect(n({ str: 'foo' }, SIMPLE)).toBe(1);
    expect(parsed(docs({}, { projection: { _id: 0, str: 1 }, sort: { str: 1 }, collation: SIMPLE }))).toEqual(
      [{ str: 'FOO' }, { str: 'bar' }, { str: 'foo' }],
    );
    expect(count(db!, 't.c', { str: 'FOO' }, SIMPLE)).toBe(1);
    expect(distinct(db!, 't.c', 'str', {}, false, SIMPLE)).toHaveLength(3);
    expect(aggregate(db!, 't.c', [{ $match: { str: 'FOO' } }], 10, false, SIMPLE).documents).toHaveLength(1);
  });

  it('a strength-3 collection still finds both cases under a strength-2 query', () => {
    build([{ _id: 'foo' }, { _id: 'FOO' }], { collation: stored('en_US', 3) });
    expect(n({ _id: 'foo' })).toBe(1);
    expect(n({ _id: 'foo' }, EN2)).toBe(2);
  });

  it('one this engine cannot apply is refused with a way round it', () => {
    build(three, { collation: { locale: 'en_US', strength: 9 } });
    expect(() => n({ str: 'foo' })).toThrow(expect.objectContaining({ code: 'UNSUPPORTED' }));
    expect(n({ str: 'foo' }, SIMPLE)).toBe(1);
  });
});

describe("a MongoDB view's collation", () => {
  it('is the one its queries use, and no other is accepted', () => {
    build(
      [
        { _id: 1, str: 'foo' },
        { _id: 2, str: 'FOO' },
      ],
      {
        views: [
          { name: 'ci', options: { viewOn: 'c', pipeline: [], collation: stored('en_US', 2) } },
          { name: 'plain', options: { viewOn: 'c', pipeline: [] } },
        ],
      },
    );
    expect(n({ str: 'foo' }, undefined)).toBe(1);
    expect(docs({ str: 'foo' }, { ns: 't.ci' }).documents).toHaveLength(2);
    expect(docs({ str: 'foo' }, { ns: 't.ci', collation: EN2 }).documents).toHaveLength(2);
    expect(() => docs({ str: 'foo' }, { ns: 't.ci', collation: EN })).toThrow(
      expect.objectContaining({ code: 'INVALID_INPUT', message: expect.stringMatching(/own collation/) }),
    );
    expect(() => docs({ str: 'foo' }, { ns: 't.plain', collation: EN2 })).toThrow(
      expect.objectContaining({ code: 'INVALID_INPUT' }),
    );
    expect(docs({ str: 'foo' }, { ns: 't.plain', collation: SIMPLE }).documents).toHaveLength(1);
  });
});

describe('a collation given badly', () => {
  it.each([
    ['[1]', /JSON object/],
    ['{"strength": 2}', /locale/],
    ['{"locale": "en", "strength": 6}', /strength/],
    ['{"locale": "en", "strength": 2.5}', /strength/],
    ['{"locale": "en", "caseFirst": "up"}', /caseFirst/],
    ['{"locale": "en", "numericOrdering": 1}', /numericOrdering/],
    ['{"locale": "en", "colour": "red"}', /unknown collation field: colour/],
    ['{"locale": "simple", "strength": 2}', /no other collation field/],
    ['{"locale": "xx_NOT_A_LOCALE_AT_ALL"}', /not one this engine's ICU knows/],
    ['{"locale": ', /not valid Extended JSON/],
  ])('%s is refused', (text, message) => {
    expect(() => parseCollation(text)).toThrow(
      expect.objectContaining({ code: 'INVALID_INPUT', message: expect.stringMatching(message) }),
    );
  });

  it('"simple" is the byte order, and a locale with keywords is taken', () => {
    expect(parseCollation('{"locale": "simple"}')).toBeNull();
    expect(parseCollation(undefined)).toBeUndefined();
    expect(parseCollation('{"locale": "de@collation=phonebook", "strength": 1}')).toMatchObject({
      locale: 'de@collation=phonebook',
    });
  });
});
