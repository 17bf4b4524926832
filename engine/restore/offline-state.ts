/**
 * Rebuilds the state of a source at a restore point without any MongoDB
 * server: load the plan's snapshot (documents, collection options, indexes),
 * then replay the oplog entries with startTs < ts <= bound, as mongorestore
 * --oplogReplay would, including the DDL that changes collections (create,
 * drop, rename, createIndexes, dropIndexes, collMod) and transactions'
 * applyOps. The result is in memory; it serves restore verification and the
 * offline query view.
 */
import { EJSON, deserialize, serialize, type Document } from 'bson';
import { ApiError } from '../errors.js';
import type { Plan } from '../catalog/planner.js';
import { applyUpdate } from '../oplog/apply-update.js';
import { compareOpTime, type OpTime } from '../repo/optime.js';
import type { Repository } from '../repo/repository.js';
import { readEntryTs } from '../repo/bson-entries.js';
import { readSegment } from '../repo/segment-file.js';
import { readCollection, readManifest } from '../repo/snapshot-files.js';

export interface OfflineCollection {
  docs: Map<string, Document>;
  options: Document;
  indexes: Document[];
}

export type OfflineState = Map<string, OfflineCollection>;

const BSON_OPTS = { promoteValues: true, promoteLongs: false, bsonRegExp: true } as const;
const idKey = (id: unknown) => Buffer.from(serialize({ _id: id })).toString('hex');
const ID_INDEX = { v: 2, key: { _id: 1 }, name: '_id_' };

function coll(state: OfflineState, ns: string): OfflineCollection {
  let c = state.get(ns);
  if (!c) state.set(ns, (c = { docs: new Map(), options: {}, indexes: [ID_INDEX] }));
  return c;
}

function without(o: Document, ...keys: string[]): Document {
  return Object.fromEntries(Object.entries(o).filter(([k]) => !keys.includes(k)));
}

function applyCommand(state: OfflineState, db: string, o: Document): void {
  const cmd = Object.keys(o)[0];
  switch (cmd) {
    case 'create': {
      const c = coll(state, `${db}.${o.create}`);
      c.options = without(o, 'create', 'idIndex');
      c.indexes = o.idIndex ? [o.idIndex as Document] : c.options.viewOn ? [] : [ID_INDEX];
      return;
    }
    case 'drop':
      state.delete(`${db}.${o.drop}`);
      return;
    case 'dropDatabase':
      for (const k of [...state.keys()]) if (k.startsWith(`${db}.`)) state.delete(k);
      return;
    case 'renameCollection': {
      const from = state.get(String(o.renameCollection));
      state.delete(String(o.renameCollection));
      if (o.dropTarget) state.delete(String(o.to));
      state.set(String(o.to), from ?? { docs: new Map(), options: {}, indexes: [ID_INDEX] });
      return;
    }
    case 'createIndexes': {
      const c = coll(state, `${db}.${o.createIndexes}`);
      const spec = without(o, 'createIndexes');
      c.indexes = [...c.indexes.filter((i) => i.name !== spec.name), spec];
      return;
    }
    case 'dropIndexes': {
      const c = state.get(`${db}.${o.dropIndexes}`);
      if (c) c.indexes = c.indexes.filter((i) => i.name !== o.index);
      return;
    }
    case 'collMod': {
      const c = coll(state, `${db}.${o.collMod}`);
      const change = without(o, 'collMod');
      if (change.index) {
        const idx = change.index as Document;
        c.indexes = c.indexes.map((i) =>
          i.name === idx.name ? { ...i, ...without(idx, 'name', 'keyPattern') } : i,
        );
      }
      c.options = { ...c.options, ...without(change, 'index') };
      return;
    }
    case 'applyOps':
      for (const inner of o.applyOps as Document[]) applyEntry(state, inner);
      return;
    default:
      return; // commands that change neither data nor collection metadata
  }
}

/** Applies one oplog entry. */
export function applyEntry(state: OfflineState, e: Document): void {
  const ns = String(e.ns ?? '');
  switch (e.op) {
    case 'i': {
      const doc = e.o as Document;
      coll(state, ns).docs.set(idKey(doc._id), doc);
      return;
    }
    case 'u': {
      const id = (e.o2 as Document | undefined)?._id;
      const docs = coll(state, ns).docs;
      const existing = docs.get(idKey(id));
      if (existing) docs.set(idKey(id), applyUpdate(existing, e.o as Document));
      else if (
        (e.o as Document).$v === undefined &&
        !Object.keys(e.o as Document).some((k) => k.startsWith('$'))
      ) {
        docs.set(idKey(id), { _id: id, ...(e.o as Document) });
      }
      return;
    }
    case 'd':
      state.get(ns)?.docs.delete(idKey((e.o as Document)._id));
      return;
    case 'c':
      applyCommand(state, ns.slice(0, ns.indexOf('.')), e.o as Document);
      return;
    default:
      return; // 'n' no-ops
  }
}

export async function buildOfflineState(
  repo: Repository,
  plan: Extract<Plan, { ok: true }>,
): Promise<OfflineState> {
  const state: OfflineState = new Map();
  const manifest = await readManifest(repo, plan.snapshot.path);
  for (const n of manifest.namespaces) {
    if (n.type === 'view' || (n.type === 'timeseries' && n.file === null)) continue; // definitions only
    const c = coll(state, n.ns);
    // Options and indexes are stored as canonical Extended JSON: back to BSON values.
    c.options = EJSON.deserialize(n.options, { relaxed: false }) as Document;
    c.indexes = n.indexes.map((i) => EJSON.deserialize(i, { relaxed: false }) as Document);
    for await (const raw of readCollection(repo, plan.snapshot.path, n)) {
      const d = deserialize(raw, BSON_OPTS);
      c.docs.set(idKey(d._id), d);
    }
  }
  const from: OpTime = plan.snapshot.startTs;
  let last: OpTime | null = null;
  for (const seg of plan.segments) {
    const { entries } = await readSegment(repo, seg.path);
    for (const raw of entries) {
      const ts = readEntryTs(raw);
      if (compareOpTime(ts, from) <= 0) continue;
      if (compareOpTime(ts, plan.bound) > 0) return state;
      if (last && compareOpTime(ts, last) <= 0)
        throw new ApiError('CORRUPT', 'Oplog entries out of order across segments.');
      last = ts;
      applyEntry(state, deserialize(raw, BSON_OPTS));
    }
  }
  return state;
}
