/**
 * A whole view read back as the in-memory offline state (restore/offline-state.ts):
 * the same shape the restore validation and the tests compare, so a view can be
 * checked against any other rebuild of the same point byte for byte. Reads
 * every document: for checks and small views, not for queries.
 */
import { idKey } from '../oplog/bson-raw.js';
import { iterateDocs, listCollectionRows, type ViewDb } from '../catalog/view-store.js';
import { OfflineState } from '../restore/offline-state.js';
import { decodeList } from './view-sink.js';

export function viewToOfflineState(db: ViewDb): OfflineState {
  const state = new OfflineState();
  for (const r of listCollectionRows(db)) {
    if (r.kind !== 'collection') continue; // definitions (views, time-series) hold no documents
    const docs = new Map<string, Buffer>();
    for (const { doc } of iterateDocs(db, r.cid)) docs.set(idKey(doc), Buffer.from(doc));
    state.set(r.ns, { docs, options: r.options, indexes: decodeList(r.indexes) });
  }
  return state;
}
