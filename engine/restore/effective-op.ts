/**
 * What the replay core (replay.ts) hands to its consumers: the effective
 * operations of an oplog range, once transactions are unwrapped at their
 * commit, index builds reduced to the indexes they create, skipped
 * namespaces and no-ops gone. Every consumer (the offline state, a restore
 * into MongoDB, a dump export, point-in-time views) applies these and
 * nothing else, so they all agree. Documents, updates and specs are raw BSON.
 */
import type { OpTime } from '../repo/optime.js';

interface At {
  /** The entry's ts; for a transaction's operations, the ts of its commit. */
  ts: OpTime;
}

export type EffectiveOp = At &
  (
    | { op: 'insert'; ns: string; doc: Buffer }
    /** `update` is the entry's `o` ($v:2 diff, $set/$unset, or a replacement); `o2` holds `_id`. */
    | { op: 'update'; ns: string; o2: Buffer; update: Buffer }
    /** `o` is `{_id: …}`. */
    | { op: 'delete'; ns: string; o: Buffer }
    /** `options`: the create command without `create` and `idIndex`; `idIndex` when logged. */
    | { op: 'createCollection'; ns: string; options: Buffer; idIndex: Buffer | null }
    | { op: 'dropCollection'; ns: string }
    | { op: 'dropDatabase'; db: string }
    | { op: 'renameCollection'; from: string; to: string; dropTarget: boolean }
    /** From `createIndexes` and from `commitIndexBuild` (which is how mongod logs builds on non-empty collections). */
    | { op: 'createIndexes'; ns: string; indexes: Buffer[] }
    /** By name, `*` (all but `_id_`), or key pattern (raw document). */
    | { op: 'dropIndexes'; ns: string; index: string | Buffer }
    /** collMod's `index` document (`name` or `keyPattern`, plus the changed flags). */
    | { op: 'modifyIndex'; ns: string; index: Buffer }
    /** collMod's collection options (without `collMod`, `index`, and the retired `noPadding`/`usePowerOf2Sizes`). */
    | { op: 'modifyCollection'; ns: string; options: Buffer }
    | { op: 'convertToCapped'; ns: string; size: number }
    /** emptycapped: every document removed. */
    | { op: 'emptyCollection'; ns: string }
  );

export interface ReplaySink {
  apply(op: EffectiveOp): void;
}
