/**
 * When no continuous capture runs for a source, a snapshot reads the oplog
 * between its startTs and consistentTs itself (rule 1), continuing the chain
 * from the last captured entry when that entry still exists on the source.
 */
import { Timestamp, type MongoClient } from 'mongodb';
import { readEntryTs } from '../repo/bson-entries.js';
import { compareOpTime, type OpTime } from '../repo/optime.js';
import type { BackupStore } from '../store/backup-store.js';

export async function copyOplogRange(
  client: MongoClient,
  store: BackupStore,
  sourceId: string,
  startTs: OpTime,
  consistentTs: OpTime,
): Promise<number> {
  const tip = store.chainTip(sourceId);
  if (tip && compareOpTime(tip, consistentTs) >= 0) return 0; // already captured
  const from = tip && compareOpTime(tip, startTs) < 0 ? tip : startTs;
  const oplog = client.db('local').collection('oplog.rs');
  const raw = (await oplog
    .find(
      {
        ts: {
          $gte: new Timestamp({ t: from.t, i: from.i }),
          $lte: new Timestamp({ t: consistentTs.t, i: consistentTs.i }),
        },
      },
      { raw: true, batchSize: 5000 },
    )
    .toArray()) as unknown as Uint8Array[];
  if (raw.length === 0) return 0;
  let entries = raw;
  let prev: OpTime | null = null;
  if (tip && compareOpTime(readEntryTs(raw[0]!), tip) === 0) {
    prev = tip; // the chain continues: drop the entry we already have
    entries = raw.slice(1);
  } else if (tip && compareOpTime(tip, startTs) >= 0) {
    // Inside the range already: keep only what follows the tip, chained to it.
    entries = raw.filter((e) => compareOpTime(readEntryTs(e), tip) > 0);
    prev = tip;
  }
  if (entries.length === 0) return 0;
  await store.appendSegment(sourceId, entries, prev);
  return entries.length;
}
