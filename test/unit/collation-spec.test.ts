/**
 * A collation spec as mongod reads it: the fields a collation leaves out take the locale's own
 * defaults, and what mongod refuses is refused, with mongod's words. Sources, cited per test:
 * mongodb/mongo src/mongo/db/query/collation/collator_factory_icu.cpp (makeFromBSON,
 * validateLocaleID, parseToCollationSpec, validateCollationSpec) and its unit test
 * collator_factory_icu_test.cpp, jstests/core/collation.js, and the docs page "Collation Locales
 * and Default Parameters" (https://www.mongodb.com/docs/manual/reference/collation-locales-defaults/).
 */
import { EJSON } from 'bson';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../engine/errors.js';
import {
  checkCollation,
  collatorOf,
  sameCollation,
  type CollationSpec,
} from '../../engine/views/collation.js';
import { find } from '../../engine/views/query.js';
import { parseCollation } from '../../engine/views/query-input.js';
import { storedCollation } from '../support/stored-collation.js';
import { useViewFile } from '../support/view-file.js';

const file = useViewFile('mbm-collation-spec-');

const stored = storedCollation;

/** checkCollation refuses `spec` with INVALID_INPUT, its message matching `message`. */
function refused(spec: unknown, message: RegExp | string) {
  let error: unknown;
  try {
    checkCollation(spec);
  } catch (err) {
    error = err;
  }
  expect(error).toBeInstanceOf(ApiError);
  expect(error).toMatchObject({ code: 'INVALID_INPUT', details: { field: 'collation' } });
  expect((error as Error).message).toMatch(message);
}

describe("a field left out takes the locale's default (collator_factory_icu.cpp parseToCollationSpec)", () => {
  it('fr_CA is backwards: jstests/core/collation.js stores {locale: "fr_CA"} with backwards: true', () => {
    expect(sameCollation({ locale: 'fr_CA' }, stored('fr_CA', { backwards: true }))).toBe(true);
    expect(sameCollation({ locale: 'fr_CA' }, stored('fr_CA'))).toBe(false);
    expect(sameCollation({ locale: 'fr_CA' }, { locale: 'fr_CA', backwards: false })).toBe(false);
    // collator_factory_icu_test.cpp DefaultsSetSuccessfully: en_US has root's defaults.
    expect(sameCollation({ locale: 'en_US' }, stored('en_US'))).toBe(true);
    expect(sameCollation({ locale: 'fr' }, stored('fr'))).toBe(true);
  });

  it('da and mt are caseFirst "upper" (docs: Collation Default Parameters; ICU da.txt, mt.txt)', () => {
    expect(sameCollation({ locale: 'da' }, stored('da', { caseFirst: 'upper' }))).toBe(true);
    expect(sameCollation({ locale: 'mt' }, stored('mt', { caseFirst: 'upper' }))).toBe(true);
    expect(sameCollation({ locale: 'da' }, { locale: 'da', caseFirst: 'off' })).toBe(false);
    // da's search type sets [caseFirst off] again, and imports root's [normalization on].
    expect(
      sameCollation(
        { locale: 'da@collation=search' },
        stored('da@collation=search', { normalization: true }),
      ),
    ).toBe(true);
  });

  it('th is alternate "shifted", and th, hi, vi... normalization true (docs table; ICU th.txt, hi.txt)', () => {
    expect(sameCollation({ locale: 'th' }, stored('th', { alternate: 'shifted', normalization: true }))).toBe(
      true,
    );
    expect(sameCollation({ locale: 'hi' }, stored('hi', { normalization: true }))).toBe(true);
    expect(sameCollation({ locale: 'vi' }, stored('vi', { normalization: true }))).toBe(true);
    expect(sameCollation({ locale: 'de@collation=search' }, stored('de@collation=search'))).toBe(false);
  });

  it('collatorOf applies the default caseFirst: da sorts upper case first, unless told otherwise', () => {
    const sorted = (spec: CollationSpec) => ['a', 'A', 'b', 'B'].sort(collatorOf(spec));
    expect(sorted({ locale: 'da' })).toEqual(['A', 'a', 'B', 'b']);
    expect(sorted({ locale: 'da', caseFirst: 'off' })).toEqual(['a', 'A', 'b', 'B']);
    expect(sorted({ locale: 'en' })).toEqual(['a', 'A', 'b', 'B']);
  });

  it("collatorOf applies th's alternate shifted: punctuation is ignored (ICU th.txt [alternate shifted])", () => {
    expect(collatorOf({ locale: 'th' })!('a-b', 'ab')).toBe(0);
    expect(collatorOf({ locale: 'en', alternate: 'shifted' })!('a-b', 'ab')).toBe(0);
    expect(collatorOf({ locale: 'en' })!('a-b', 'ab')).not.toBe(0);
  });

  it('a find with {locale: "da"} sorts A before a', () => {
    const db = file.build({
      't.c': {
        docs: [
          { _id: 1, x: 'a' },
          { _id: 2, x: 'A' },
        ],
      },
    });
    const r = find(db, 't.c', {
      filter: {},
      sort: { x: 1 },
      projection: { _id: 0 },
      skip: 0,
      limit: 10,
      canonical: false,
      collation: parseCollation('{"locale": "da"}'),
    });
    expect(r.documents.map((d) => EJSON.parse(d))).toEqual([{ x: 'A' }, { x: 'a' }]);
  });

  it('a view mongod stored from {locale: "fr_CA"} takes {locale: "fr_CA"} (jstests/core/views/views_collation.js)', () => {
    const db = file.build({
      't.c': { docs: [{ _id: 1 }] },
      't.frView': { view: { viewOn: 'c', pipeline: [], collation: stored('fr_CA', { backwards: true }) } },
    });
    const q = (collation: string) =>
      find(db, 't.frView', {
        filter: {},
        skip: 0,
        limit: 10,
        canonical: false,
        collation: parseCollation(collation),
      });
    expect(q('{"locale": "fr_CA"}').documents).toHaveLength(1);
    expect(() => q('{"locale": "fr_CA", "backwards": false}')).toThrow(
      expect.objectContaining({ code: 'INVALID_INPUT', message: expect.stringMatching(/own collation/) }),
    );
  });
});

describe('what mongod refuses is refused', () => {
  it('an empty locale (validateLocaleID; collator_factory_icu_test.cpp LocaleEmptyStringDisallowed)', () => {
    refused({ locale: '' }, "Field 'locale' cannot be the empty string in: ");
  });

  it('a locale with a null byte (parseLocaleID; LocaleStringCannotContainNullByte)', () => {
    refused({ locale: 'en_US\0' }, "Field 'locale' cannot contain null byte");
  });

  it('"simple" with any other field, version included (makeFromBSON; SimpleLocaleWithOtherFieldsFailsToParse)', () => {
    refused({ locale: 'simple', version: '57.1' }, /no other fields should be present in: /);
    refused({ locale: 'simple', caseLevel: true }, /no other fields should be present in: /);
    expect(checkCollation({ locale: 'simple' })).toBeNull();
  });

  it('a version other than ICU\'s 57.1 (parseToCollationSpec; jstests/core/collation.js "unknownVersion")', () => {
    refused(
      { locale: 'en', version: 'unknownVersion' },
      /^collation: Requested collation version unknownVersion but the only available collator version was 57\.1\. .*IncompatibleCollationVersion/,
    );
    refused({ locale: 'en', version: '58.2' }, /only available collator version was 57\.1/);
    expect(checkCollation({ locale: 'en_US', version: '57.1' })).toEqual({
      locale: 'en_US',
      version: '57.1',
    });
  });

  it("backwards with strength 1, the locale's default included (validateCollationSpec)", () => {
    refused(
      { locale: 'en', strength: 1, backwards: true },
      "'backwards' is invalid with 'strength' of 1 in: ",
    );
    // fr_CA's backwards is true unless given: mongod validates the spec with it filled in.
    refused({ locale: 'fr_CA', strength: 1 }, "'backwards' is invalid with 'strength' of 1");
    expect(checkCollation({ locale: 'fr_CA', strength: 1, backwards: false })).toBeTruthy();
    expect(checkCollation({ locale: 'en', strength: 2, backwards: true })).toBeTruthy();
  });

  it("caseFirst upper or lower at strength 1 or 2 without caseLevel, the locale's default included (validateCollationSpec)", () => {
    const message = "'caseFirst' is invalid unless 'caseLevel' is on or 'strength' is greater than 2 in: ";
    refused({ locale: 'en', strength: 2, caseFirst: 'upper' }, message);
    refused({ locale: 'en', strength: 1, caseFirst: 'lower' }, message);
    refused({ locale: 'da', strength: 2 }, message);
    expect(checkCollation({ locale: 'en', strength: 2, caseFirst: 'upper', caseLevel: true })).toBeTruthy();
    expect(checkCollation({ locale: 'en', strength: 1, caseFirst: 'off' })).toBeTruthy();
    expect(checkCollation({ locale: 'en', strength: 3, caseFirst: 'lower' })).toBeTruthy();
    expect(checkCollation({ locale: 'da', strength: 2, caseFirst: 'off' })).toBeTruthy();
  });

  // validateLocaleID: the id must be the one ICU names the collator's locale by, which the message
  // suggests; collator_factory_icu_test.cpp: LocaleWithLowercaseCountryCodeDisallwed,
  // LocaleWithHyphenSeparatingLanguageAndCountryDisallowed, LocaleWithUpperCaseScriptCodeDisallowed,
  // LocaleWithUpperCaseLanguageCodeDisallowed, LocaleWithLowercaseCountryCodeAndVariantDisallowed,
  // LocaleWithUnrecognizedTwoLetterCountryCodeDisallowed, USLocaleWithCollationPhonebookDisallowed,
  // LocaleKeywordStringWith{Excess Trailing,Excess Leading}SemicolonDisallowed,
  // LocaleWithKeywordStringWithoutAValueDisallowed, TaiwanLocaleWithCollationStrokeDisallowed;
  // PyMongo's Collation docs: "en_US is valid, but en_us and en-US are not".
  it.each([
    ['en_us', 'en_US'],
    ['en-US', 'en_US'],
    ['EN', 'en'],
    ['en_uS', 'en_US'],
    ['zh_HANT', 'zh_Hant'],
    ['ZH_hant', 'zh_Hant'],
    ['en_us_posix', 'en_US_POSIX'],
    ['en_US-POSIX', 'en_US_POSIX'],
    ['en_ZZ', 'en'],
    ['en_US@collation=phonebook', 'en_US'],
    ['de@collation=PHONEBOOK', 'de@collation=phonebook'],
    ['de@collation=phonebook;', 'de@collation=phonebook'],
    ['de@;collation=phonebook', 'de@collation=phonebook'],
    ['de@collation', 'de'],
    ['zh_TW@collation=stroke', 'zh@collation=stroke'],
    ['zh@collation=pinyin', 'zh'],
  ])('%j is refused: "Did you mean %j?"', (locale, canonical) => {
    refused(
      { locale },
      `Field 'locale' is invalid in: {"locale":${JSON.stringify(locale)}}. Did you mean '${canonical}'?`,
    );
  });

  // ICU falls back to root: no suggestion (validateLocaleID; UnrecognizedLocaleFieldFailsToParse,
  // LocaleRootDisallowed, LocaleRootCanonicalizedDisallowed, LocaleWithUnrecognizedTwoLetterBaseNameDisallowed,
  // LocaleWithLeadingUnderscoreDisallowed, LocaleWithValidKeywordButNoLanguageDisallowed;
  // jstests/core/collation.js {locale: "xx"}).
  it.each(['xx', 'garbage', 'root', 'ROOT@collation=search', 'xx_US', '_en', '@collation=phonebook'])(
    '%j is refused, with no suggestion',
    (locale) => {
      refused({ locale }, /Field 'locale' is invalid in: .*\)\.$/);
      expect(() => checkCollation({ locale })).not.toThrow(/Did you mean/);
    },
  );

  it('from a collection\'s options too, prefixed "options"', () => {
    expect(() => checkCollation({ locale: 'en_us' }, 'options')).toThrow(
      expect.objectContaining({
        code: 'INVALID_INPUT',
        message: expect.stringMatching(/^options: .*'en_US'/),
      }),
    );
  });
});

describe('what mongod accepts is accepted', () => {
  // collator_factory_icu_test.cpp LocaleStringParsesSuccessfully, LocaleWithValidLanguageCountryAndVariantAllowed,
  // GermanLocaleWithCollationPhonebookAllowed, ChineseTraditionalLocaleWithCollationPinyinAllowed; the docs'
  // "Supported Languages and Locales" and their variants.
  it.each([
    'en',
    'en_US',
    'en_US_POSIX',
    'fr_CA',
    'da',
    'zh',
    'zh_Hant',
    'sr_Latn',
    'de@collation=phonebook',
    'de_AT@collation=phonebook',
    'zh_Hant@collation=pinyin',
    'zh@collation=unihan',
    'es@collation=traditional',
    'ko@collation=searchjl',
    'sv@collation=search',
  ])('%j', (locale) => {
    expect(checkCollation({ locale })).toEqual({ locale });
  });

  it('a spec as mongod stores it: every field, version "57.1" (jstests/core/collation.js)', () => {
    for (const spec of [
      stored('en_US', { strength: 2 }),
      stored('fr_CA', { backwards: true }),
      stored('da', { caseFirst: 'upper' }),
      stored('th', { alternate: 'shifted', normalization: true }),
      stored('de@collation=phonebook'),
    ])
      expect(checkCollation(spec, 'options')).toEqual(spec);
  });
});
