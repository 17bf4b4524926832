/**
 * A source with a snapshot of N generated documents (~docBytes each, indexed
 * on `customer`) and M oplog entries after it (60% inserts, 30% $v:2
 * updates, 10% deletes), written straight into a repository: the input of
 * the view benchmark and of the bounded-memory test, no server needed.
 */
import { elements, subDocument } from '../../engine/oplog/bson-raw.js';
import { readEntryTs } from '../../engine/repo/bson-entries.js';
import type { BackupStore } from '../../engine/store/backup-store.js';
import { OplogFactory } from './oplog-factory.js';

const ENTRIES_PER_SEGMENT = 10_000;

export interface ViewSourceOptions {
  docs: number;
  entries: number;
  docBytes?: number;
  /** Seconds the entries after the snapshot span (default: 5,000 entries a second). */
  entriesSpanSeconds?: number;
  log?: (m: string) => void;
}

export interface ViewSource {
  factory: OplogFactory;
  /** Raw bytes of the snapshot's documents. */
  snapshotBytes: number;
  /** An `_id` (hex ObjectId) and a `customer` of the snapshot, to look up. */
  sampleId: string;
  sampleCustomer: string;
  /** The second of the snapshot's consistent point. */
  snapshotConsistentT: number;
}

export async function writeViewSource(
  store: BackupStore,
  sourceId: string,
  o: ViewSourceOptions,
): Promise<ViewSource> {
  const factory = new OplogFactory({
    start: { t: 1_763_805_600, i: 1 },
    perSecond: 5_000,
    docBytes: o.docBytes ?? 1000,
  });
  const first = [factory.noop()];
  await store.appendSegment(sourceId, first, null);
  const w = store.beginSnapshot({ sourceId, startTs: readEntryTs(first[0]!), serverVersion: '8.0.4' });
  const c = await w.collection({
    db: 'shop',
    name: 'orders',
    type: 'collection',
    uuid: null,
    options: {},
    indexes: [
      { v: 2, key: { _id: 1 }, name: '_id_' },
      { v: 2, key: { customer: 1 }, name: 'customer_1' },
    ],
  });
  let snapshotBytes = 0;
  let sampleId = '';
  let sampleCustomer = '';
  for (let k = 0; k < o.docs; k++) {
    // The snapshot's documents are the `o` of insert entries, so that the oplog's updates find them.
    const entry = Buffer.from(factory.insert());
    const doc = subDocument(
      entry,
      elements(entry).find((e) => e.name === 'o')!,
    );
    if (k === Math.floor(o.docs / 2)) {
      const id = elements(doc).find((e) => e.name === '_id')!;
      sampleId = doc.toString('hex', id.valueStart, id.end);
      const cust = elements(doc).find((e) => e.name === 'customer')!;
      sampleCustomer = doc.toString('utf8', cust.valueStart + 4, cust.end - 1);
    }
    snapshotBytes += doc.length;
    await c.write(doc);
    if (o.log && k > 0 && k % 200_000 === 0) o.log(`  ${k} documents`);
  }
  w.add(await c.close());
  const tip = factory.noop();
  await store.appendSegment(sourceId, [tip], store.chainTip(sourceId));
  await store.commitSnapshot(w, { consistentTs: readEntryTs(tip) });
  if (o.entriesSpanSeconds) factory.setRate(Math.ceil(o.entries / o.entriesSpanSeconds));
  for (let left = o.entries; left > 0; left -= ENTRIES_PER_SEGMENT)
    await store.appendSegment(
      sourceId,
      factory.mixed(Math.min(ENTRIES_PER_SEGMENT, left)),
      store.chainTip(sourceId),
    );
  return { factory, snapshotBytes, sampleId, sampleCustomer, snapshotConsistentT: readEntryTs(tip).t };
}
