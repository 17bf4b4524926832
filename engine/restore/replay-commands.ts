/**
 * `op: "c"` entries (other than applyOps and transactions, which replay.ts
 * unwraps) turned into effective operations, following mongorestore
 * (mongorestore/oplog.go):
 *  - `commitIndexBuild` creates its indexes (mongod logs an index build on a
 *    non-empty collection as `startIndexBuild` + `commitIndexBuild`, not
 *    `createIndexes`); `startIndexBuild`, `abortIndexBuild`,
 *    `setMultikeyMetadata`, `dropIdent` and `dbCheck` change nothing a
 *    restore keeps;
 *  - `collMod` splits into its index change and its collection options
 *    (`noPadding` and `usePowerOf2Sizes` are retired and dropped);
 *  - `create` keeps its options minus `recordIdsReplicated` (replayable on
 *    any cluster type);
 *  - `importCollection` (the data files are not in the oplog) and a
 *    time-series format conversion cannot be replayed: a clear refusal, never
 *    a silently missing collection; so is any command mongorestore does not
 *    know.
 */
import { ApiError } from '../errors.js';
import {
  T,
  elements,
  isTruthy,
  readNumber,
  readString,
  subDocument,
  withoutFields,
  type RawElement,
} from '../oplog/bson-raw.js';
import type { OpTime } from '../repo/optime.js';
import { formatOpTime } from '../repo/optime.js';
import type { EffectiveOp } from './effective-op.js';

export const IGNORED_COMMANDS = new Set([
  'startIndexBuild',
  'abortIndexBuild',
  'setMultikeyMetadata',
  'dropIdent',
  'dbCheck',
]);

const CREATE_DROPPED = new Set(['create', 'idIndex', 'recordIdsReplicated']);
const COLLMOD_DROPPED = new Set(['collMod', 'index', 'noPadding', 'usePowerOf2Sizes']);
const DROP_INDEX_COMMANDS = new Set(['dropIndexes', 'deleteIndexes', 'dropIndex', 'deleteIndex']);

function corrupt(ts: OpTime, why: string): never {
  throw new ApiError('CORRUPT', `Oplog entry at ${formatOpTime(ts)}: ${why}`);
}

/** The effective operations of one command of database `db`. */
export function commandOps(db: string, o: Buffer, ts: OpTime): EffectiveOp[] {
  const els = elements(o);
  const first = els[0];
  if (!first) corrupt(ts, 'empty command.');
  const name = first.name;
  const get = (f: string): RawElement | undefined => els.find((e) => e.name === f);
  const collName = () => {
    if (first.type !== T.string) corrupt(ts, `${name} does not name a collection.`);
    return readString(o, first);
  };
  const ns = () => `${db}.${collName()}`;

  if (IGNORED_COMMANDS.has(name)) return [];
  if (DROP_INDEX_COMMANDS.has(name)) {
    const idx = get('index');
    if (!idx) return [];
    if (idx.type === T.string) return [{ op: 'dropIndexes', ts, ns: ns(), index: readString(o, idx) }];
    if (idx.type === T.object)
      return [{ op: 'dropIndexes', ts, ns: ns(), index: Buffer.from(subDocument(o, idx)) }];
    if (idx.type === T.array) {
      const arr = subDocument(o, idx);
      return elements(arr).map((n) => ({
        op: 'dropIndexes' as const,
        ts,
        ns: ns(),
        index: readString(arr, n),
      }));
    }
    corrupt(ts, `${name}: "index" is neither a name nor a key pattern.`);
  }
  switch (name) {
    case 'create':
      return [
        {
          op: 'createCollection',
          ts,
          ns: ns(),
          options: withoutFields(o, CREATE_DROPPED),
          idIndex: get('idIndex')?.type === T.object ? Buffer.from(subDocument(o, get('idIndex')!)) : null,
        },
      ];
    case 'drop':
      return [{ op: 'dropCollection', ts, ns: ns() }];
    case 'dropDatabase':
      return [{ op: 'dropDatabase', ts, db }];
    case 'renameCollection': {
      const to = get('to');
      if (first.type !== T.string || !to || to.type !== T.string)
        corrupt(ts, 'renameCollection without from/to.');
      const dt = get('dropTarget');
      // dropTarget is true/false, or (4.2+) the UUID of the collection it drops.
      const dropTarget = !!dt && (dt.type === T.binary || isTruthy(o, dt));
      return [{ op: 'renameCollection', ts, from: readString(o, first), to: readString(o, to), dropTarget }];
    }
    case 'createIndexes': {
      const idxs = get('indexes');
      if (idxs?.type === T.array) {
        const arr = subDocument(o, idxs);
        return [
          {
            op: 'createIndexes',
            ts,
            ns: ns(),
            indexes: elements(arr).map((s) => Buffer.from(subDocument(arr, s))),
          },
        ];
      }
      return [{ op: 'createIndexes', ts, ns: ns(), indexes: [withoutFields(o, new Set(['createIndexes']))] }];
    }
    case 'commitIndexBuild': {
      const idxs = get('indexes');
      if (!idxs || idxs.type !== T.array) corrupt(ts, 'commitIndexBuild without indexes.');
      const arr = subDocument(o, idxs);
      return [
        {
          op: 'createIndexes',
          ts,
          ns: ns(),
          indexes: elements(arr).map((s) => Buffer.from(subDocument(arr, s))),
        },
      ];
    }
    case 'collMod': {
      const out: EffectiveOp[] = [];
      const index = get('index');
      if (index) {
        if (index.type !== T.object) corrupt(ts, 'collMod "index" is not a document.');
        out.push({ op: 'modifyIndex', ts, ns: ns(), index: Buffer.from(subDocument(o, index)) });
      }
      const options = withoutFields(o, COLLMOD_DROPPED);
      if (options.length > 5) out.push({ op: 'modifyCollection', ts, ns: ns(), options });
      return out;
    }
    case 'convertToCapped': {
      const size = get('size');
      return [{ op: 'convertToCapped', ts, ns: ns(), size: size ? readNumber(o, size) : 0 }];
    }
    case 'emptycapped':
      return [{ op: 'emptyCollection', ts, ns: ns() }];
    case 'importCollection':
      throw new ApiError(
        'UNSUPPORTED',
        `Oplog entry at ${formatOpTime(ts)} imports collection ${first.type === T.string ? readString(o, first) : '?'} from data files, which the oplog does not contain: this range cannot be replayed. Take a snapshot after the import.`,
      );
    case 'upgradeDowngradeViewlessTimeseries':
      throw new ApiError(
        'UNSUPPORTED',
        `Oplog entry at ${formatOpTime(ts)} converts time-series collections between formats (a feature compatibility version change): replaying across it is not supported. Restore a point before it, or from a snapshot taken after it.`,
      );
    default:
      throw new ApiError(
        'UNSUPPORTED',
        `Oplog entry at ${formatOpTime(ts)}: unknown oplog command "${name}".`,
      );
  }
}
