/**
 * Exact decimal arithmetic for `$sum` and `$avg` over Decimal128 values, as
 * mongod's Decimal128 adds them: 0.1 + 0.2 is 0.3, not the 0.30000000000000004
 * of a JavaScript double. A value is a coefficient and a power of ten; a sum
 * keeps the smaller exponent of its terms (IEEE 754 decimal's preferred
 * exponent), a quotient the dividend's when it is exact, else 34 significant
 * digits (Decimal128's precision), rounded half to even.
 */
import { Decimal128 } from 'bson';

export interface Dec {
  c: bigint;
  e: number;
}

const DIGITS = 34;

/** A Decimal128, integer or double as a decimal; null for NaN and the infinities. */
export function decimalOf(v: Decimal128 | bigint | number): Dec | null {
  if (typeof v === 'bigint') return { c: v, e: 0 };
  // A double as mongod turns one into a Decimal128 (Decimal128(double), rounded to 15 digits).
  const s = typeof v === 'number' ? (Number.isFinite(v) ? v.toPrecision(15) : '') : v.toString();
  const m = /^([+-]?)(\d+)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(s);
  if (!m) return null;
  const frac = m[3] ?? '';
  return { c: BigInt(`${m[1]}${m[2]}${frac}`), e: Number(m[4] ?? 0) - frac.length };
}

export function addDec(a: Dec, b: Dec): Dec {
  if (a.e === b.e) return { c: a.c + b.c, e: a.e };
  const [hi, lo] = a.e > b.e ? [a, b] : [b, a];
  return { c: hi.c * 10n ** BigInt(hi.e - lo.e) + lo.c, e: lo.e };
}

/** `a` divided by a positive integer count. */
export function divDec(a: Dec, n: number): Dec {
  const scale = DIGITS + 6;
  let c = (a.c * 10n ** BigInt(scale)) / BigInt(n);
  let e = a.e - scale;
  c = roundTo(c, (drop) => (e += drop));
  // The exact quotient takes the dividend's exponent where it can (trailing zeros dropped to it).
  while (e < a.e && c % 10n === 0n) {
    c /= 10n;
    e++;
  }
  return { c, e };
}

/**
 * A double's exact binary value as a decimal, rounded to 34 significant digits and without
 * trailing zeros (2.5 is 25E-1): how mongod turns the double part of a sum into a Decimal128
 * before adding the decimals (accumulator_sum.cpp); null for NaN and the infinities.
 */
export function doubleToDec(x: number): Dec | null {
  if (!Number.isFinite(x)) return null;
  if (x === 0) return { c: 0n, e: 0 };
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  const biased = Number((bits >> 52n) & 0x7ffn);
  let mant = bits & ((1n << 52n) - 1n);
  let exp = -1074;
  if (biased !== 0) {
    mant |= 1n << 52n;
    exp = biased - 1075;
  }
  let c = exp >= 0 ? mant << BigInt(exp) : mant * 5n ** BigInt(-exp);
  let e = exp >= 0 ? 0 : exp;
  if (bits >> 63n) c = -c;
  c = roundTo(c, (drop) => (e += drop));
  while (c % 10n === 0n) {
    c /= 10n;
    e++;
  }
  return { c, e };
}

/** At most 34 significant digits, rounded half to even; `shift` is told how many digits went. */
function roundTo(c: bigint, shift: (drop: number) => void): bigint {
  const digits = (c < 0n ? -c : c).toString().length;
  if (digits <= DIGITS) return c;
  const drop = digits - DIGITS;
  const p = 10n ** BigInt(drop);
  let q = c / p;
  const r = (c < 0n ? -c : c) % p;
  const half = p / 2n;
  if (r > half || (r === half && q % 2n !== 0n)) q += c < 0n ? -1n : 1n;
  shift(drop);
  return q;
}

export function toDecimal128(d: Dec): Decimal128 {
  let { c, e } = d;
  c = roundTo(c, (drop) => (e += drop));
  return Decimal128.fromString(`${c}E${e}`);
}
