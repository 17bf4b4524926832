/**
 * The databases and collections of a view, as listCollections and
 * listIndexes show them at the point: type (a time-series collection, its
 * buckets, a MongoDB view), count, options and indexes.
 */
import { EJSON, deserialize, type Document } from 'bson';
import { countDocs, listCollectionRows, type ViewDb } from '../catalog/view-store.js';
import { count } from './query.js';
import { decodeList } from './view-sink.js';

export interface CollectionInfo {
  name: string;
  type: 'collection' | 'view' | 'timeseries' | 'buckets';
  count: number | null;
  options: Record<string, unknown>;
  indexes: Record<string, unknown>[];
}

const relaxed = (raw: Buffer) =>
  EJSON.serialize(deserialize(raw) as Document, { relaxed: true }) as Record<string, unknown>;

export function listDatabases(db: ViewDb): { name: string; collections: CollectionInfo[] }[] {
  const out = new Map<string, CollectionInfo[]>();
  for (const r of listCollectionRows(db)) {
    const dot = r.ns.indexOf('.');
    const dbName = r.ns.slice(0, dot);
    const name = r.ns.slice(dot + 1);
    const type = name.startsWith('system.buckets.') ? 'buckets' : (r.kind as CollectionInfo['type']);
    const n = type === 'view' ? null : type === 'timeseries' ? count(db, r.ns, {}) : countDocs(db, r.cid);
    const list = out.get(dbName) ?? [];
    list.push({
      name,
      type,
      count: n,
      options: relaxed(r.options),
      indexes: decodeList(r.indexes).map(relaxed),
    });
    out.set(dbName, list);
  }
  return [...out].map(([name, collections]) => ({ name, collections }));
}
