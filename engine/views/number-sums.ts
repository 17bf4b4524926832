/**
 * The running sums of `$group`'s and the expressions' `$sum`, `$avg` and
 * `$stdDevPop` / `$stdDevSamp`, over typed values (typed-values.ts), with
 * mongod's result types: Int32 and Int64 sums exact, widening Int32 → Int64
 * → Double; Decimal128 sums exact (decimal-sum.ts); `$avg` and the standard
 * deviations Doubles.
 */
import { Decimal128, Long } from 'bson';
import { addDec, decimalOf, divDec, doubleToDec, toDecimal128, type Dec } from './decimal-sum.js';
import { asDouble, integerResult, numberKind, plainValue, wider, type NumberKind } from './typed-values.js';

/** A running `$sum` / `$avg` as mongod keeps it: integers exact, widening Int32 → Int64 → Double. */
export class NumberSum {
  private ints = 0n;
  private doubles = 0;
  /** The Double terms alone (the doubles above include the decimals, for a total as a double). */
  private doubleTerms = 0;
  /** The exact sum of the Decimal128 terms; null once one is NaN or infinite. */
  private decimals: Dec | null = { c: 0n, e: 0 };
  private kind: NumberKind | null = null;
  count = 0;

  /** Adds a number of any type; anything else is ignored (mongod's $sum and $avg skip non-numbers). */
  add(v: unknown): void {
    const k = numberKind(v);
    if (!k) return;
    this.count++;
    this.kind = wider(this.kind, k);
    if (k === 'int' || k === 'long')
      this.ints += BigInt(v instanceof Long ? v.toString() : (plainValue(v) as number));
    else if (k === 'decimal') {
      const d = decimalOf(v as Decimal128);
      this.decimals = this.decimals && d ? addDec(this.decimals, d) : null;
      this.doubles += Number((v as Decimal128).toString());
    } else {
      this.doubles += plainValue(v) as number;
      this.doubleTerms += plainValue(v) as number;
    }
  }

  private total(): number {
    return Number(this.ints) + this.doubles;
  }

  /**
   * The decimal total as mongod makes it (accumulator_sum.cpp): the decimals added exactly, the
   * integers exactly, the doubles summed as doubles and converted once.
   */
  private decimalTotal(): Dec | null {
    if (!this.decimals) return null;
    const d = doubleToDec(this.doubleTerms);
    return d ? addDec(addDec(this.decimals, { c: this.ints, e: 0 }), d) : null;
  }

  sum(): unknown {
    if (this.kind === null) return 0;
    if (this.kind === 'decimal') {
      const d = this.decimalTotal();
      return d ? toDecimal128(d) : Decimal128.fromString(String(this.total()));
    }
    if (this.kind === 'double') return asDouble(this.total());
    return integerResult(this.ints, this.kind);
  }

  avg(): unknown {
    if (this.count === 0) return null;
    if (this.kind === 'decimal') {
      const d = this.decimalTotal();
      return d
        ? toDecimal128(divDec(d, this.count))
        : Decimal128.fromString(String(this.total() / this.count));
    }
    return asDouble(this.total() / this.count);
  }
}

/** A running standard deviation (Welford) of the numbers added; anything else is ignored. */
export class StdDev {
  private n = 0;
  private mean = 0;
  private m2 = 0;

  add(v: unknown): void {
    if (!numberKind(v)) return;
    const x = Number(v instanceof Long || v instanceof Decimal128 ? v.toString() : (plainValue(v) as number));
    this.n++;
    const d = x - this.mean;
    this.mean += d / this.n;
    this.m2 += d * (x - this.mean);
  }

  /** The population's (or the sample's) as a Double; null for too few numbers. */
  result(sample: boolean): unknown {
    if (sample ? this.n < 2 : this.n < 1) return null;
    return asDouble(Math.sqrt(this.m2 / (sample ? this.n - 1 : this.n)));
  }
}
