/**
 * A reference rebuild for the tests: snapshot + oplog entries -> documents as
 * raw BSON and index specs, written from mongorestore's and mongod's rules
 * with the reference applier, independently of engine/restore. It judges
 * the snapshot itself (is everything needed in the backup?) apart from the
 * engine's replay. Covers what the workloads produce: CRUD, transactions
 * (applyOps; partialTxn chains applied at the entry that ends them; prepared
 * ones at commitTransaction, dropped at abortTransaction), create/drop,
 * createIndexes, startIndexBuild/commitIndexBuild/abortIndexBuild,
 * dropIndexes, collMod of an index, renameCollection.
 */
import { EJSON, deserialize, serialize, type Document } from 'bson';
import type { Plan } from '../../engine/catalog/planner.js';
import { compareOpTime } from '../../engine/repo/optime.js';
import type { Repository } from '../../engine/repo/repository.js';
import { readEntryTs } from '../../engine/repo/bson-entries.js';
import { readSegment } from '../../engine/repo/segment-file.js';
import { readCollection, readManifest } from '../../engine/repo/snapshot-files.js';
import { applyOplogUpdate } from './reference-applier.js';
import { rawArrayDocs, rawField } from './standin/wire.js';
import { indexKey } from './workload.js';

export interface RefCollection {
  /** _id key -> raw document. */
  docs: Map<string, Uint8Array>;
  /** Index specs, typed (Int32 / Double as written). */
  indexes: Document[];
}
export type RefState = Map<string, RefCollection>;

const TYPED = { promoteValues: false, promoteLongs: false, bsonRegExp: true } as const;
const idKey = (id: unknown) => Buffer.from(serialize({ _id: id })).toString('hex');
const ID_INDEX = () => deserialize(serialize({ v: 2, key: { _id: 1 }, name: '_id_' }), TYPED);

function coll(state: RefState, ns: string): RefCollection {
  let c = state.get(ns);
  if (!c) state.set(ns, (c = { docs: new Map(), indexes: [ID_INDEX()] }));
  return c;
}

/** Each applyOps operation of a raw entry, as its exact bytes. */
const applyOpsRaw = (entry: Uint8Array): Uint8Array[] =>
  rawArrayDocs(rawField(entry, 'o')!, 'applyOps') ?? [];

function applyCrud(state: RefState, raw: Uint8Array): void {
  const e = deserialize(raw, TYPED);
  const ns = String(e.ns);
  const o = rawField(raw, 'o');
  if (e.op === 'i') {
    coll(state, ns).docs.set(idKey((e.o as Document)._id), o!);
  } else if (e.op === 'u') {
    const docs = coll(state, ns).docs;
    const k = idKey((e.o2 as Document)._id);
    const pre = docs.get(k);
    const oJs = e.o as Document;
    const replacement = oJs.$v === undefined && !Object.keys(oJs).some((f) => f.startsWith('$'));
    if (pre) docs.set(k, applyOplogUpdate(pre, o!));
    else if (replacement) docs.set(k, applyOplogUpdate(serialize({ _id: (e.o2 as Document)._id }), o!));
  } else if (e.op === 'd') {
    state.get(ns)?.docs.delete(idKey((e.o as Document)._id));
  } else if (e.op === 'c') {
    applyCommand(state, raw);
  }
}

function applyCommand(state: RefState, raw: Uint8Array): void {
  const e = deserialize(raw, TYPED);
  const db = String(e.ns).split('.')[0]!;
  const o = e.o as Document;
  const name = Object.keys(o)[0]!;
  const target = (c: unknown) => `${db}.${String(c)}`;
  switch (name) {
    case 'create':
      coll(state, target(o.create));
      return;
    case 'drop':
      state.delete(target(o.drop));
      return;
    case 'dropDatabase':
      for (const k of [...state.keys()]) if (k.startsWith(`${db}.`)) state.delete(k);
      return;
    case 'createIndexes': {
      const { createIndexes: c, ...spec } = o;
      const col = coll(state, target(c));
      col.indexes = [...col.indexes.filter((i) => i.name !== spec.name), spec];
      return;
    }
    case 'commitIndexBuild': {
      const col = coll(state, target(o.commitIndexBuild));
      for (const spec of o.indexes as Document[])
        col.indexes = [...col.indexes.filter((i) => i.name !== spec.name), spec];
      return;
    }
    case 'startIndexBuild':
    case 'abortIndexBuild':
      return; // the index exists only once committed
    case 'dropIndexes': {
      const col = state.get(target(o.dropIndexes));
      if (col) col.indexes = col.indexes.filter((i) => i.name !== o.index);
      return;
    }
    case 'collMod': {
      const col = coll(state, target(o.collMod));
      const idx = o.index as Document | undefined;
      if (!idx) return;
      col.indexes = col.indexes.map((spec) => {
        if (spec.name !== idx.name) return spec;
        const out: Document = { ...spec };
        for (const [k, v] of Object.entries(idx)) if (k !== 'name' && k !== 'keyPattern') out[k] = v;
        return out;
      });
      return;
    }
    case 'renameCollection': {
      // After a snapshot's range (renames inside it fail the snapshot): the collection moves.
      const from = String(o.renameCollection);
      const to = String(o.to);
      const c = state.get(from) ?? { docs: new Map(), indexes: [ID_INDEX()] };
      state.delete(from);
      state.set(to, c);
      return;
    }
    case 'importCollection':
      throw new Error('reference replay: importCollection is not modelled');
    default:
      return;
  }
}

const txnKey = (e: Document) =>
  `${Buffer.from(serialize({ l: e.lsid })).toString('hex')}:${String(e.txnNumber)}`;

/** Applies entries in order, holding transactions until the entry that commits them. */
export class ReferenceReplay {
  readonly state: RefState = new Map();
  private readonly pending = new Map<string, Uint8Array[]>();

  apply(raw: Uint8Array): void {
    const e = deserialize(raw, TYPED);
    const o = (e.o ?? {}) as Document;
    if (e.op === 'c' && o.applyOps !== undefined) {
      const ops = applyOpsRaw(raw);
      if (e.lsid === undefined || e.txnNumber === undefined) {
        for (const op of ops) applyCrud(this.state, op);
        return;
      }
      const key = txnKey(e);
      const chain = [...(this.pending.get(key) ?? []), ...ops];
      if (o.partialTxn === true || o.prepare === true) this.pending.set(key, chain);
      else {
        this.pending.delete(key);
        for (const op of chain) applyCrud(this.state, op);
      }
      return;
    }
    if (e.op === 'c' && o.commitTransaction !== undefined) {
      const key = txnKey(e);
      for (const op of this.pending.get(key) ?? []) applyCrud(this.state, op);
      this.pending.delete(key);
      return;
    }
    if (e.op === 'c' && o.abortTransaction !== undefined) {
      this.pending.delete(txnKey(e));
      return;
    }
    applyCrud(this.state, raw);
  }
}

/** Rebuilds the state at `plan.bound`: the snapshot's documents, then entries with startTs < ts <= bound. */
export async function referenceRebuild(
  repo: Repository,
  plan: Extract<Plan, { ok: true }>,
): Promise<RefState> {
  const replay = new ReferenceReplay();
  const manifest = await readManifest(repo, plan.snapshot.path);
  for (const n of manifest.namespaces) {
    if (n.type === 'view' || (n.type === 'timeseries' && n.file === null)) continue;
    const c = coll(replay.state, n.ns);
    c.indexes = n.indexes.map((i) => EJSON.deserialize(i, { relaxed: false }) as Document);
    for await (const raw of readCollection(repo, plan.snapshot.path, n)) {
      c.docs.set(idKey(deserialize(raw, TYPED)._id), raw);
    }
  }
  for (const seg of plan.segments) {
    for (const raw of (await readSegment(repo, seg.path)).entries) {
      const ts = readEntryTs(raw);
      if (compareOpTime(ts, plan.snapshot.startTs) <= 0) continue;
      if (compareOpTime(ts, plan.bound) > 0) return replay.state;
      replay.apply(raw);
    }
  }
  return replay.state;
}

/** The state of one database in the raw form the tests compare (see workload.ts RawInstant). */
export function refRawState(
  state: RefState,
  db: string,
): { docs: Record<string, string[]>; indexes: Record<string, string> } {
  const docs: Record<string, string[]> = {};
  const indexes: Record<string, string> = {};
  for (const [ns, c] of state) {
    if (!ns.startsWith(`${db}.`)) continue;
    if (c.docs.size) docs[ns] = [...c.docs.values()].map((d) => Buffer.from(d).toString('hex')).sort();
    indexes[ns] = indexKey(c.indexes);
  }
  return { docs, indexes };
}
