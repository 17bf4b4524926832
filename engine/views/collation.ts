/**
 * Collations, as mongod applies them to a query: the string comparison of a
 * filter, a sort, a distinct and an aggregation's comparisons, taken from the
 * request (`collation`), else from the collection's or MongoDB view's own
 * options (its default collation), else the simple one (UTF-8 bytes).
 *
 * mongod compares with ICU; so does Node's `Intl.Collator` (full ICU in
 * Node's builds), which is why no library is used. The spec is checked with
 * mongod's rules (collation_spec.cpp, collator_factory_icu.cpp makeFromBSON,
 * validateLocaleID, parseToCollationSpec, validateCollationSpec): `locale` is
 * required, not empty and exactly the id ICU names it by ("en_US", not
 * "en_us" or "en-US"); "simple" takes no other field; strength is 1-5;
 * `version` is ICU's, "57.1"; unknown fields are refused; `backwards` needs a
 * strength above 1, and a `caseFirst` other than "off" a strength above 2 or
 * `caseLevel`. A field left out takes the locale's own default, as mongod
 * reads it from the ICU collator of the locale (Danish: caseFirst "upper";
 * Canadian French: backwards true; see LOCALE_DEFAULTS). `Intl.Collator`
 * exposes ICU's strength (sensitivity), case level, case first, numeric
 * ordering and alternate "shifted" (ignorePunctuation); what it does not
 * expose is approximated, as the docs say: strength 4 (quaternary) breaks ties
 * by punctuation, strength 5 (identical) by the code points, `maxVariable:
 * "space"` is taken as "punct", `alternate: "non-ignorable"` is not applied to
 * a locale whose default is "shifted" (th: V8 only ever sets "shifted"), and
 * `backwards` (French secondary order) and `normalization` are not applied
 * (they are kept in the spec, so that two collations compare as mongod
 * compares them): they change the order of accented strings, never which are
 * equal, but for strings that are not in normal form.
 */
import { ApiError } from '../errors.js';

/** Two strings in a collation's order: negative, 0 or positive. */
export type Collator = (a: string, b: string) => number;

/** A collation as mongod takes it (the fields it fills in when it stores one, `version` included). */
export interface CollationSpec {
  locale: string;
  caseLevel?: boolean;
  caseFirst?: 'upper' | 'lower' | 'off';
  strength?: number;
  numericOrdering?: boolean;
  alternate?: 'non-ignorable' | 'shifted';
  maxVariable?: 'punct' | 'space';
  normalization?: boolean;
  backwards?: boolean;
  version?: string;
}

type Part = 'collation' | 'options';
type Settings = Required<Omit<CollationSpec, 'locale' | 'version'>>;

function bad(part: Part, message: string): ApiError {
  return new ApiError('INVALID_INPUT', `${part}: ${message}`, { field: part });
}

/** A spec as a message shows it (mongod prints the BSON document). */
function shown(v: unknown): string {
  try {
    return JSON.stringify(v);
  } catch {
    return String(v);
  }
}

/**
 * ICU's version, which mongod writes in every collation it stores and requires of one that gives a
 * version (collator_factory_icu.cpp parseToCollationSpec: U_ICU_VERSION; mongod vendors ICU 57.1,
 * src/third_party/icu4c-57.1, and jstests/core/collation.js expects `version: "57.1"`).
 */
const ICU_VERSION = '57.1';

/**
 * The locales mongod's ICU has collation data for, which are the only ones it accepts: the list its
 * ICU data file is built from (mongodb/mongo src/third_party/icu4c-57.1/source/mongo_sources/
 * languages.txt, the same as the docs page "Collation Locales and Default Parameters"), each with
 * the collation types of its own data besides "standard" (ICU's source/data/coll/<locale>.txt, as
 * read in the ICU 56 and 59 sources, which bracket 57.1; the docs call them variants,
 * `de@collation=phonebook`). A locale also has its parent's types
 * (`zh_Hant` has `zh`'s) and root's: emoji, eor, search, standard. ICU's "private-" types are left
 * out. Its default type is "standard" but for sv ("reformed"), zh ("pinyin") and zh_Hant ("stroke").
 */
const LOCALE_TYPES = new Map(
  (
    'af am ar:compat as az:search be bg bn:traditional bo bs:search bs_Cyrl ca:search chr cs cy ' +
    'da:search de:phonebook,search de_AT:phonebook dsb dz ee el en en_US en_US_POSIX eo ' +
    'es:search,traditional et fa fa_AF fi:search,traditional fil fo:search fr fr_CA ga gl:search gu ha ' +
    'haw he:search hi hr:search hsb hu hy id ig is:search it ja:unihan ka kk kl:search km kn:traditional ' +
    'ko:search,searchjl,unihan kok ky lb lkt ln:phonetic lo lt lv mk ml mn mr ms mt my nb:search ne nl ' +
    'nn:search om or pa pl ps pt ro ru se:search si:dictionary sk:search sl smn:search sq sr ' +
    'sr_Latn:search sv:reformed,search sw ta te th to tr:search ug uk ur vi:traditional wae yi:search yo ' +
    'zh:big5han,gb2312han,pinyin,stroke,unihan,zhuyin zh_Hant zu'
  )
    .split(' ')
    .map((entry) => {
      const [id, types] = entry.split(':') as [string, string | undefined];
      return [id, types ? types.split(',') : []] as const;
    }),
);
const ROOT_TYPES = ['emoji', 'eor', 'search', 'standard'];
const DEFAULT_TYPES: Record<string, string> = { sv: 'reformed', zh: 'pinyin', zh_Hant: 'stroke' };

/** `en_US` -> `en`; `en` -> '' (root). ICU's collation data has no other parents (no %%Parent). */
const parentOf = (id: string): string => (id.includes('_') ? id.slice(0, id.lastIndexOf('_')) : '');

function defaultType(id: string): string {
  for (let l = id; l; l = parentOf(l)) {
    const type = DEFAULT_TYPES[l];
    if (type) return type;
  }
  return 'standard';
}

function hasType(id: string, type: string): boolean {
  for (let l = id; l; l = parentOf(l)) if (LOCALE_TYPES.get(l)?.includes(type)) return true;
  return ROOT_TYPES.includes(type);
}

/**
 * The locale ICU takes a requested id for, which mongod requires to be the id itself
 * (collator_factory_icu.cpp validateLocaleID: `collator.getLocale(ULOC_VALID_LOCALE)`), or null
 * when it falls back to root (an unknown language, "root" itself). As ICU 57 reads an id
 * (uloc.cpp uloc_getName): '-' or '_' between parts, the language lower-cased, a 4-letter script
 * title-cased, the country and variants upper-cased, keywords after '@'; the locale is the longest
 * prefix of it that has collation data (`en_GB` -> `en`); a `collation` keyword is kept if that
 * locale has the type (searchjl falls back to search) and it is not the default one (ucol_res.cpp
 * CollationLoader); every other keyword is dropped.
 */
function icuLocale(id: string): string | null {
  const at = id.indexOf('@');
  const base = at < 0 ? id : id.slice(0, at);
  let locale = base
    .split(/[-_]/)
    .map((p, i) =>
      i === 0
        ? p.toLowerCase()
        : i === 1 && /^[a-z]{4}$/i.test(p)
          ? p[0]!.toUpperCase() + p.slice(1).toLowerCase()
          : p.toUpperCase(),
    )
    .join('_');
  while (locale && !LOCALE_TYPES.has(locale)) locale = parentOf(locale);
  if (!locale) return null;
  let type = '';
  for (const kv of at < 0 ? [] : id.slice(at + 1).split(';')) {
    const eq = kv.indexOf('=');
    if (eq > 0 && kv.slice(0, eq).trim().toLowerCase() === 'collation')
      type = kv
        .slice(eq + 1)
        .trim()
        .toLowerCase();
  }
  if (type === 'default') type = '';
  if (type && !hasType(locale, type) && type.startsWith('search')) type = 'search';
  return type && hasType(locale, type) && type !== defaultType(locale)
    ? `${locale}@collation=${type}`
    : locale;
}

/** The defaults of the root collation, which mongod fills in for fields a collation leaves out. */
const ROOT_DEFAULTS: Settings = {
  caseLevel: false,
  caseFirst: 'off',
  strength: 3,
  numericOrdering: false,
  alternate: 'non-ignorable',
  maxVariable: 'punct',
  normalization: false,
  backwards: false,
};

/**
 * Where a locale's defaults differ from root's: mongod reads each field a collation leaves out from
 * the ICU collator of the locale (collator_factory_icu.cpp parseToCollationSpec, NoSuchKey ->
 * icuCollator->getAttribute), which takes them from the settings of the locale's collation rules
 * (ICU source/data/coll/<locale>.txt: `[caseFirst upper]`, `[backwards 2]`, `[alternate shifted]`,
 * `[normalization on]`, imported ones included; the same in the ICU 56 and 59 sources, which
 * bracket mongod's 57.1), the defaults the docs page "Collation Locales and Default Parameters"
 * says vary by locale: da and mt caseFirst "upper", fr_CA backwards true (jstests/core/collation.js
 * stores fr_CA so), th alternate "shifted". Every "search" type imports root's search rules, which
 * set `[normalization on]` (and da's search sets `[caseFirst off]` again).
 */
const NORMALIZED =
  'as bn bn@collation=traditional el fa fa_AF gu he hi ig km kn kn@collation=traditional ' +
  'ko@collation=searchjl kok mr my or pa ps si si@collation=dictionary ta te th vi ' +
  'vi@collation=traditional yi yo';
const LOCALE_DEFAULTS: Record<string, Partial<Settings>> = {
  ...Object.fromEntries(NORMALIZED.split(' ').map((id) => [id, { normalization: true }])),
  da: { caseFirst: 'upper' },
  mt: { caseFirst: 'upper' },
  fr_CA: { backwards: true },
  th: { alternate: 'shifted', normalization: true },
};

function localeDefaults(locale: string): Partial<Settings> {
  if (locale.endsWith('@collation=search')) return { normalization: true };
  return LOCALE_DEFAULTS[locale] ?? {};
}

const BOOLEANS = ['caseLevel', 'numericOrdering', 'normalization', 'backwards'] as const;
const CHOICES = {
  caseFirst: ['upper', 'lower', 'off'],
  alternate: ['non-ignorable', 'shifted'],
  maxVariable: ['punct', 'space'],
} as const;
const FIELDS = new Set<string>(['locale', 'strength', 'version', ...BOOLEANS, ...Object.keys(CHOICES)]);

/** ICU's collation types whose BCP 47 `co` value differs (ICU's keyTypeData). */
const BCP47_TYPES: Record<string, string> = {
  phonebook: 'phonebk',
  traditional: 'trad',
  dictionary: 'dict',
  gb2312han: 'gb2312',
};

/** mongod's locale id (`en_US`, `de@collation=phonebook`) as a BCP 47 tag (`en-US`, `de-u-co-phonebk`). */
export function bcp47(locale: string): string {
  const [base, keywords] = locale.split('@', 2) as [string, string | undefined];
  let tag = base.replace(/_/g, '-');
  const co = keywords?.match(/(?:^|;)collation=([a-z0-9]+)/i)?.[1]?.toLowerCase();
  if (co) tag += `-u-co-${BCP47_TYPES[co] ?? co.slice(0, 8)}`;
  return tag;
}

/**
 * A collation given as a value (a request's, or a collection's stored options): null for the
 * simple one, the spec otherwise; refused with mongod's reasons (and words) when mongod refuses it.
 */
export function checkCollation(v: unknown, part: Part = 'collation'): CollationSpec | null {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw bad(part, 'a collation must be a document, e.g. {"locale": "en", "strength": 2}.');
  const spec = v as Record<string, unknown>;
  for (const k of Object.keys(spec)) if (!FIELDS.has(k)) throw bad(part, `unknown collation field: ${k}.`);
  if (typeof spec.locale !== 'string') throw bad(part, "required field 'locale' is missing or not a string.");
  const locale = spec.locale;
  if (locale.includes('\0'))
    throw bad(part, `Field 'locale' cannot contain null byte. Collation spec: ${shown(spec)}`);
  // makeFromBSON: "simple" takes no other field, `version` neither.
  if (locale === 'simple') {
    if (Object.keys(spec).length > 1)
      throw bad(
        part,
        `with locale "simple", no other collation field may be given (mongod: "If locale=simple, no other fields should be present in: ${shown(spec)}").`,
      );
    return null;
  }
  // validateLocaleID.
  if (locale === '') throw bad(part, `Field 'locale' cannot be the empty string in: ${shown(spec)}`);
  const valid = icuLocale(locale);
  if (valid === null)
    throw bad(
      part,
      `locale "${locale}" is not one this engine's ICU knows, nor mongod's (mongod: "Field 'locale' is invalid in: ${shown(spec)}").`,
    );
  if (valid !== locale)
    throw bad(part, `Field 'locale' is invalid in: ${shown(spec)}. Did you mean '${valid}'?`);
  // parseToCollationSpec.
  for (const k of BOOLEANS)
    if (spec[k] !== undefined && typeof spec[k] !== 'boolean') throw bad(part, `${k} must be a boolean.`);
  for (const [k, allowed] of Object.entries(CHOICES))
    if (spec[k] !== undefined && !(allowed as readonly unknown[]).includes(spec[k]))
      throw bad(part, `${k} must be one of ${allowed.map((a) => `"${a}"`).join(', ')}.`);
  if (
    spec.strength !== undefined &&
    !(
      typeof spec.strength === 'number' &&
      Number.isInteger(spec.strength) &&
      spec.strength >= 1 &&
      spec.strength <= 5
    )
  )
    throw bad(part, 'strength must be an integer from 1 to 5.');
  if (spec.version !== undefined && typeof spec.version !== 'string')
    throw bad(part, 'version must be a string.');
  if (spec.version !== undefined && spec.version !== ICU_VERSION)
    throw bad(
      part,
      `Requested collation version ${spec.version} but the only available collator version was ${ICU_VERSION}. Requested collation spec: ${shown(spec)} (mongod: IncompatibleCollationVersion).`,
    );
  const checked = spec as unknown as CollationSpec;
  // validateCollationSpec, on the spec with the locale's defaults filled in.
  const s = complete(checked);
  const full = shown({ ...s, version: ICU_VERSION });
  if (s.backwards && s.strength === 1)
    throw bad(part, `'backwards' is invalid with 'strength' of 1 in: ${full}`);
  if (s.caseFirst !== 'off' && !s.caseLevel && s.strength <= 2)
    throw bad(
      part,
      `'caseFirst' is invalid unless 'caseLevel' is on or 'strength' is greater than 2 in: ${full}`,
    );
  let known: string[];
  try {
    known = Intl.Collator.supportedLocalesOf(bcp47(locale));
  } catch {
    known = [];
  }
  if (known.length === 0) throw bad(part, `locale "${locale}" is not one this engine's ICU knows.`);
  return checked;
}

/** Every field with its default filled in (the locale's own, else root's), as mongod stores and compares a collation. */
function complete(s: CollationSpec): Settings & { locale: string } {
  const given = Object.fromEntries(
    Object.entries(s).filter(([k, v]) => v !== undefined && k !== 'locale' && k !== 'version'),
  ) as Partial<Settings>;
  return { locale: s.locale, ...ROOT_DEFAULTS, ...localeDefaults(s.locale), ...given };
}

/** Whether two collations (null: simple) are the same one, defaults filled in. */
export function sameCollation(a: CollationSpec | null, b: CollationSpec | null): boolean {
  if (a === null || b === null) return a === b;
  const x = complete(a);
  const y = complete(b);
  return (Object.keys(x) as (keyof typeof x)[]).every((k) =>
    k === 'locale' ? bcp47(x.locale).toLowerCase() === bcp47(y.locale).toLowerCase() : x[k] === y[k],
  );
}

const collators = new Map<string, Collator>();

const codePoints = (a: string, b: string): number => {
  // The identical level: code points of the canonical decomposition (ICU's NFD comparison).
  const x = a.normalize('NFD');
  const y = b.normalize('NFD');
  return x < y ? -1 : x > y ? 1 : 0;
};

/** The comparison of a collation (undefined for the simple one: the callers compare bytes). */
export function collatorOf(spec: CollationSpec | null | undefined): Collator | undefined {
  if (!spec || spec.locale === 'simple') return undefined;
  const s = complete(spec);
  const key = JSON.stringify(s);
  const cached = collators.get(key);
  if (cached) return cached;
  const sensitivity =
    s.strength === 1
      ? s.caseLevel
        ? 'case'
        : 'base'
      : s.strength === 2 && !s.caseLevel
        ? 'accent'
        : 'variant';
  const options: Intl.CollatorOptions = {
    usage: 'sort',
    sensitivity,
    numeric: s.numericOrdering,
    // The locale's own default included (da: "upper"), as complete() filled it in.
    caseFirst: s.caseFirst === 'off' ? 'false' : s.caseFirst,
    ignorePunctuation: s.alternate === 'shifted',
  };
  const locale = s.locale === '' ? 'und' : bcp47(s.locale);
  const main = new Intl.Collator(locale, options).compare;
  let c: Collator = main;
  if (s.strength === 4 && s.alternate === 'shifted') {
    // Quaternary: strings equal once punctuation is ignored are told apart by it.
    const withPunct = new Intl.Collator(locale, { ...options, ignorePunctuation: false }).compare;
    c = (a, b) => main(a, b) || withPunct(a, b);
  } else if (s.strength === 5) c = (a, b) => main(a, b) || codePoints(a, b);
  collators.set(key, c);
  return c;
}
