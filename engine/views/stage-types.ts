/**
 * What the aggregation stages share (blocking-stages.ts, join-stages.ts,
 * facet-window-stages.ts, spool.ts): the spill budget and the way to read
 * another collection of the view's database.
 */
import type { Document } from 'bson';

/** A stage's memory budget, whether it may spill past it, and where. */
export interface SpillOptions {
  memoryBytes: number;
  allowDiskUse: boolean;
  dir: string;
}

/**
 * Another collection of the database: whether `field` has a key table, the documents whose
 * `field` equals one of `values` read through it (lookup-plan.ts), and every document.
 */
export interface IndexedJoin {
  indexed(from: string, field: string): boolean;
  matching(from: string, field: string, values: unknown[]): Iterable<Document>;
  /** Every document of another namespace of the database, read lazily (a missing one has none). */
  scan(from: string): Iterable<{ raw: Buffer | null; js: Document }>;
}

/** Whether every sort direction is 1 or -1 (a `$meta` sort is left to mingo). */
export const plainSort = (sort: Document): boolean => Object.values(sort).every((v) => v === 1 || v === -1);
