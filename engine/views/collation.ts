/**
 * Collations, as mongod applies them to a query: the string comparison of a
 * filter, a sort, a distinct and an aggregation's comparisons, taken from the
 * request (`collation`), else from the collection's or MongoDB view's own
 * options (its default collation), else the simple one (UTF-8 bytes).
 *
 * mongod compares with ICU; so does Node's `Intl.Collator` (full ICU in
 * Node's builds), which is why no library is used. The spec is checked with
 * mongod's rules (collation_spec.cpp, collator_factory_icu.cpp): `locale` is
 * required, "simple" takes no other field, strength is 1-5, unknown fields
 * are refused. `Intl.Collator` exposes ICU's strength (sensitivity), case
 * level, case first, numeric ordering and alternate "shifted"
 * (ignorePunctuation); what it does not expose is approximated, as the docs
 * say: strength 4 (quaternary) breaks ties by punctuation, strength 5
 * (identical) by the code points, `maxVariable: "space"` is taken as
 * "punct", and `backwards` (French secondary order) and `normalization` are
 * not applied: they change the order of accented strings, never which are
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

function bad(part: Part, message: string): ApiError {
  return new ApiError('INVALID_INPUT', `${part}: ${message}`, { field: part });
}

const BOOLEANS = ['caseLevel', 'numericOrdering', 'normalization', 'backwards'] as const;
const CHOICES = {
  caseFirst: ['upper', 'lower', 'off'],
  alternate: ['non-ignorable', 'shifted'],
  maxVariable: ['punct', 'space'],
} as const;
const FIELDS = new Set<string>(['locale', 'strength', 'version', ...BOOLEANS, ...Object.keys(CHOICES)]);

/** mongod's locale id (`en_US`, `de@collation=phonebook`) as a BCP 47 tag (`en-US`, `de-u-co-phonebk`). */
function bcp47(locale: string): string {
  const [base, keywords] = locale.split('@', 2) as [string, string | undefined];
  let tag = base.replace(/_/g, '-');
  const co = keywords?.match(/(?:^|;)collation=([a-z]+)/i)?.[1];
  if (co) tag += `-u-co-${co.toLowerCase() === 'phonebook' ? 'phonebk' : co.toLowerCase().slice(0, 8)}`;
  return tag;
}

/**
 * A collation given as a value (a request's, or a collection's stored options): null for the
 * simple one, the spec otherwise; refused with mongod's reasons when it is malformed.
 */
export function checkCollation(v: unknown, part: Part = 'collation'): CollationSpec | null {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw bad(part, 'a collation must be a document, e.g. {"locale": "en", "strength": 2}.');
  const spec = v as Record<string, unknown>;
  for (const k of Object.keys(spec)) if (!FIELDS.has(k)) throw bad(part, `unknown collation field: ${k}.`);
  if (typeof spec.locale !== 'string') throw bad(part, "required field 'locale' is missing or not a string.");
  if (spec.locale === 'simple') {
    if (Object.keys(spec).some((k) => k !== 'locale' && k !== 'version'))
      throw bad(part, 'with locale "simple", no other collation field may be given.');
    return null;
  }
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
  let known: string[];
  try {
    known = Intl.Collator.supportedLocalesOf(bcp47(spec.locale));
  } catch {
    known = [];
  }
  if (spec.locale !== '' && known.length === 0)
    throw bad(part, `locale "${spec.locale}" is not one this engine's ICU knows.`);
  return spec as unknown as CollationSpec;
}

/** Every field with its default filled in, as mongod stores and compares a collation. */
function complete(s: CollationSpec): Required<Omit<CollationSpec, 'version'>> {
  return {
    locale: s.locale,
    caseLevel: s.caseLevel ?? false,
    caseFirst: s.caseFirst ?? 'off',
    strength: s.strength ?? 3,
    numericOrdering: s.numericOrdering ?? false,
    alternate: s.alternate ?? 'non-ignorable',
    maxVariable: s.maxVariable ?? 'punct',
    normalization: s.normalization ?? false,
    backwards: s.backwards ?? false,
  };
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
