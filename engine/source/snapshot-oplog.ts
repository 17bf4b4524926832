/**
 * The oplog rules that keep a snapshot consistent, as `mongodump --oplog`
 * applies them (mongo-tools mongodump/oplog_dump.go):
 *  - the range starts at the oldest open transaction's first entry
 *    (config.transactions `startOpTime` of a `prepared` or `inProgress`
 *    record) when one is open, so that its commit can be replayed: a
 *    prepared transaction's operations are in entries written before the
 *    snapshot began, its commitTransaction entry later;
 *  - a renameCollection, an importCollection or a write to
 *    admin.system.version inside the range makes the copy unusable (a
 *    collection read under its old name, data that bypassed the oplog, a
 *    changed auth/FCV schema): the snapshot fails with the reason, it never
 *    silently loses a collection.
 */
import { Timestamp, type Document, type MongoClient } from 'mongodb';
import { ApiError } from '../errors.js';
import { compareOpTime, formatOpTime, type OpTime } from '../repo/optime.js';

const toOpTime = (ts: Timestamp): OpTime => ({ t: ts.high, i: ts.low });
const asTimestamp = (o: OpTime) => new Timestamp({ t: o.t, i: o.i });

/** Why a snapshot cannot be consistent (CONFLICT details.reason). */
export type SnapshotConflictReason =
  'RENAME_DURING_SNAPSHOT' | 'IMPORT_DURING_SNAPSHOT' | 'SYSTEM_VERSION_CHANGED';

export interface SnapshotConflictDetails {
  reason: SnapshotConflictReason;
  ts: OpTime;
  ns: string;
  from?: string;
  to?: string;
}

/** The oldest startOpTime of an open (prepared or in-progress) transaction, or null. */
export async function oldestOpenTransaction(client: MongoClient): Promise<OpTime | null> {
  const open = await client
    .db('config')
    .collection('transactions')
    .find({ state: { $in: ['prepared', 'inProgress'] } }, { projection: { startOpTime: 1 } })
    .toArray();
  let oldest: OpTime | null = null;
  for (const r of open) {
    const ts = (r.startOpTime as { ts?: Timestamp } | undefined)?.ts;
    if (!ts) continue;
    const o = toOpTime(ts);
    if (!oldest || compareOpTime(o, oldest) < 0) oldest = o;
  }
  return oldest;
}

/**
 * The snapshot's startTs: the newest oplog entry, or, when a transaction is
 * open, the newest entry before its first one (replay covers startTs < ts).
 */
export async function snapshotStartTs(client: MongoClient, newest: OpTime): Promise<OpTime> {
  const open = await oldestOpenTransaction(client);
  if (!open || compareOpTime(open, newest) > 0) return newest;
  const [before] = await client
    .db('local')
    .collection('oplog.rs')
    .find({ ts: { $lt: asTimestamp(open) } }, { projection: { ts: 1 } })
    .sort({ $natural: -1 })
    .limit(1)
    .toArray();
  if (before) return toOpTime(before.ts as Timestamp);
  // The transaction's first entry is the oldest one left: just before it.
  return open.i > 0 ? { t: open.t, i: open.i - 1 } : { t: open.t - 1, i: 0xffffffff };
}

/**
 * Throws CONFLICT when the oplog in (startTs, until] holds an entry that
 * makes the copy inconsistent. `relevant(ns)` limits renames to the selected
 * namespaces (a snapshot of some collections ignores renames elsewhere).
 */
export async function assertNoSnapshotConflict(
  client: MongoClient,
  startTs: OpTime,
  until: OpTime | null,
  relevant: (ns: string) => boolean,
): Promise<void> {
  const ts: Document = { $gt: asTimestamp(startTs) };
  if (until) ts.$lte = asTimestamp(until);
  const hits = await client
    .db('local')
    .collection('oplog.rs')
    .find(
      {
        ts,
        $or: [
          { 'o.renameCollection': { $exists: true } },
          { 'o.importCollection': { $exists: true } },
          { ns: 'admin.system.version' },
        ],
      },
      { projection: { ts: 1, ns: 1, op: 1, 'o.renameCollection': 1, 'o.to': 1, 'o.importCollection': 1 } },
    )
    .toArray();
  for (const e of hits) {
    const at = toOpTime(e.ts as Timestamp);
    const o = (e.o ?? {}) as Document;
    const ns = String(e.ns);
    if (ns === 'admin.system.version') {
      throw new ApiError(
        'CONFLICT',
        `admin.system.version changed during the snapshot (at ${formatOpTime(at)}): the copy cannot be made consistent, as mongodump --oplog refuses it too. Take the snapshot again.`,
        { reason: 'SYSTEM_VERSION_CHANGED', ts: at, ns } satisfies SnapshotConflictDetails,
      );
    }
    if (o.renameCollection !== undefined) {
      const from = String(o.renameCollection);
      const to = String(o.to);
      if (!relevant(from) && !relevant(to)) continue;
      throw new ApiError(
        'CONFLICT',
        `Collection ${from} was renamed to ${to} during the snapshot (at ${formatOpTime(at)}): the copy cannot be made consistent, as mongodump --oplog refuses it too. Take the snapshot again once renames are over.`,
        { reason: 'RENAME_DURING_SNAPSHOT', ts: at, ns, from, to } satisfies SnapshotConflictDetails,
      );
    }
    if (o.importCollection !== undefined) {
      const coll = `${ns.slice(0, ns.indexOf('.'))}.${String(o.importCollection)}`;
      if (!relevant(coll)) continue;
      throw new ApiError(
        'CONFLICT',
        `Collection ${coll} was imported during the snapshot (at ${formatOpTime(at)}); its data is not in the oplog, so the copy cannot be made consistent (mongodump --oplog refuses it too). Take the snapshot again.`,
        { reason: 'IMPORT_DURING_SNAPSHOT', ts: at, ns, to: coll } satisfies SnapshotConflictDetails,
      );
    }
  }
}
