/**
 * The state of a source at a restore point, in memory and without any
 * MongoDB server: the plan's snapshot (documents, collection options,
 * indexes), then the oplog entries with startTs < ts <= bound through the
 * replay core (replay.ts), applying the effective operations it yields.
 * Serves restore verification and the offline query view.
 *
 * Everything is raw BSON (oplog/bson-raw.ts says why): documents keep their
 * exact bytes from the snapshot or the oplog, updates are applied to bytes.
 */
import { EJSON, serialize, type Document } from 'bson';
import { ApiError } from '../errors.js';
import type { Plan } from './planner.js';
import {
  T,
  asBuffer,
  copyDocument,
  elementBytes,
  elements,
  field,
  idKey,
  idKeyOf,
  makeElement,
  subDocument,
  valueBytes,
  withField,
  withoutFields,
} from '../oplog/bson-raw.js';
import { applyUpdateEntry } from '../oplog/update-entry.js';
import { compareOpTime, type OpTime } from '../repo/optime.js';
import type { Repository } from '../repo/repository.js';
import { readEntryTs } from '../repo/bson-entries.js';
import { readSegment } from '../repo/segment-file.js';
import { readCollection, readManifest, readUsersAndRoles } from '../repo/snapshot-files.js';
import type { EffectiveOp, ReplaySink } from './effective-op.js';
import { createIndexes, dropIndexes, modifyIndex } from './index-rules.js';
import { OplogReplay, type ReplayOptions, type ReplayReport } from './replay.js';

export interface OfflineCollection {
  /** `_id` key (bson-raw idKey) -> the document's exact BSON. */
  docs: Map<string, Buffer>;
  /** Collection options as listCollections shows them, raw BSON. */
  options: Buffer;
  /** Index specifications as listIndexes shows them, raw BSON, in creation order. */
  indexes: Buffer[];
}

export const ID_INDEX = Buffer.from(serialize({ v: 2, key: { _id: 1 }, name: '_id_' }));
const EMPTY = Buffer.from(serialize({}));

const newCollection = (): OfflineCollection => ({ docs: new Map(), options: EMPTY, indexes: [ID_INDEX] });

/** Namespace -> collection; applies the replay core's effective operations. */
export class OfflineState extends Map<string, OfflineCollection> implements ReplaySink {
  /** What the replay did (transactions dropped, namespaces skipped…), once built from a plan. */
  report: ReplayReport | null = null;

  /** The collection, created implicitly as a write to a missing one does. */
  private coll(ns: string): OfflineCollection {
    let c = this.get(ns);
    if (!c) this.set(ns, (c = newCollection()));
    return c;
  }

  apply(op: EffectiveOp): void {
    switch (op.op) {
      case 'insert':
        // applyOps upserts inserts: replaying an insert the snapshot already has is harmless.
        this.coll(op.ns).docs.set(idKey(op.doc), copyDocument(op.doc));
        return;
      case 'update': {
        const id = field(op.o2, '_id');
        if (!id) throw new ApiError('CORRUPT', `Update on ${op.ns} without _id in o2.`);
        const docs = this.coll(op.ns).docs;
        const key = idKeyOf(op.o2, id);
        docs.set(key, applyUpdateEntry(docs.get(key) ?? null, op.update, op.o2));
        return;
      }
      case 'delete':
        this.get(op.ns)?.docs.delete(idKey(op.o));
        return;
      case 'createCollection': {
        const c = this.coll(op.ns);
        c.options = op.options;
        const o = new Set(elements(op.options).map((e) => e.name));
        // Views have no indexes; clustered collections have their clustered index, not an _id index.
        c.indexes = o.has('viewOn') || o.has('clusteredIndex') ? [] : [op.idIndex ?? ID_INDEX];
        return;
      }
      case 'dropCollection':
        this.delete(op.ns);
        return;
      case 'dropDatabase':
        for (const ns of [...this.keys()]) if (ns.startsWith(`${op.db}.`)) this.delete(ns);
        return;
      case 'renameCollection': {
        const from = this.get(op.from);
        // A source that is already gone means the state already shows the rename (re-application).
        if (!from) return;
        this.delete(op.from);
        this.delete(op.to);
        this.set(op.to, from);
        return;
      }
      case 'createIndexes': {
        const c = this.coll(op.ns);
        c.indexes = createIndexes(c.indexes, op.indexes);
        return;
      }
      case 'dropIndexes': {
        const c = this.get(op.ns);
        if (c) c.indexes = dropIndexes(c.indexes, op.index);
        return;
      }
      case 'modifyIndex': {
        const c = this.get(op.ns);
        if (c) c.indexes = modifyIndex(c.indexes, op.index);
        return;
      }
      case 'modifyCollection': {
        const c = this.get(op.ns);
        if (c) c.options = modifyOptions(c.options, op.options);
        return;
      }
      case 'convertToCapped': {
        const c = this.coll(op.ns);
        const capped = Buffer.from(serialize({ capped: true, size: op.size }));
        for (const e of elements(capped)) c.options = withField(c.options, e.name, elementBytes(capped, e));
        return;
      }
      case 'emptyCollection':
        this.get(op.ns)?.docs.clear();
        return;
    }
  }
}

/**
 * collMod's collection options merged into the current ones: each given
 * option replaces its namesake; `expireAfterSeconds: "off"` removes TTL;
 * `timeseries` changes (granularity, bucket spans) merge into the existing
 * time-series options; `cappedSize`/`cappedMax` resize a capped collection.
 */
export function modifyOptions(options: Buffer, changes: Buffer): Buffer {
  let out = options;
  for (const e of elements(changes)) {
    if (e.name === 'expireAfterSeconds' && e.type === T.string) {
      out = withoutFields(out, new Set(['expireAfterSeconds']));
    } else if (e.name === 'timeseries' && e.type === T.object) {
      const current = field(out, 'timeseries');
      let ts = current?.type === T.object ? subDocument(out, current) : EMPTY;
      const sub = subDocument(changes, e);
      for (const f of elements(sub)) ts = withField(ts, f.name, elementBytes(sub, f));
      out = withField(out, 'timeseries', makeElement(T.object, 'timeseries', ts));
    } else if (e.name === 'cappedSize' || e.name === 'cappedMax') {
      const name = e.name === 'cappedSize' ? 'size' : 'max';
      out = withField(out, name, makeElement(e.type, name, valueBytes(changes, e)));
    } else {
      out = withField(out, e.name, elementBytes(changes, e));
    }
  }
  return out;
}

/**
 * admin.system.users / admin.system.roles as the snapshot took them, as collections of the state, so
 * that the oplog's writes to them (createUser, grantRolesToUser, dropRole… are logged as CRUD on these
 * collections) apply like any other. Null (not taken) leaves the namespace out.
 */
export function seedUsersAndRoles(
  state: OfflineState,
  users: readonly Uint8Array[] | null,
  roles: readonly Uint8Array[] | null,
): void {
  for (const [ns, docs] of [
    ['admin.system.users', users],
    ['admin.system.roles', roles],
  ] as const) {
    if (!docs) continue;
    const c = newCollection();
    for (const raw of docs) {
      const doc = copyDocument(raw);
      c.docs.set(idKey(doc), doc);
    }
    state.set(ns, c);
  }
}

/** Canonical Extended JSON (as the manifest keeps metadata) back to exact BSON. */
export const fromManifest = (v: Record<string, unknown>): Buffer =>
  Buffer.from(serialize(EJSON.deserialize(v, { relaxed: false }) as Document));

export async function buildOfflineState(
  repo: Repository,
  plan: Extract<Plan, { ok: true }>,
  options: ReplayOptions = {},
): Promise<OfflineState> {
  const state = new OfflineState();
  const manifest = await readManifest(repo, plan.snapshot.path);
  for (const n of manifest.namespaces) {
    if (n.type === 'view' || (n.type === 'timeseries' && n.file === null)) continue; // definitions only
    const c: OfflineCollection = {
      docs: new Map(),
      options: fromManifest(n.options),
      indexes: n.indexes.map(fromManifest),
    };
    state.set(n.ns, c);
    for await (const raw of readCollection(repo, plan.snapshot.path, n)) {
      const doc = copyDocument(raw); // own copy: the frame it came from can go
      c.docs.set(idKey(doc), doc);
    }
  }
  if (options.usersAndRoles) {
    const { users, roles } = await readUsersAndRoles(repo, plan.snapshot.path, manifest);
    seedUsersAndRoles(state, users, roles);
  }
  const replay = new OplogReplay(state, options);
  const from: OpTime = plan.snapshot.startTs;
  let last: OpTime | null = null;
  outer: for (const seg of plan.segments) {
    const { entries } = await readSegment(repo, seg.path);
    for (const raw of entries) {
      const ts = readEntryTs(raw);
      if (compareOpTime(ts, from) <= 0) continue;
      if (compareOpTime(ts, plan.bound) > 0) break outer;
      if (last && compareOpTime(ts, last) <= 0)
        throw new ApiError('CORRUPT', 'Oplog entries out of order across segments.');
      last = ts;
      replay.push(asBuffer(raw));
    }
  }
  state.report = replay.report();
  return state;
}
