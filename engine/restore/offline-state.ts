/**
 * Rebuilds the state of a source at a restore point without any MongoDB
 * server: load the plan's snapshot, then replay the oplog entries with
 * startTs < ts <= bound, as mongorestore --oplogReplay would. The result is
 * in memory (namespace -> documents by _id); it serves restore verification
 * and the offline query view.
 */
import { deserialize, serialize, type Document } from 'bson';
import { ApiError } from '../api/errors.js';
import type { Plan } from '../catalog/planner.js';
import { applyUpdate } from '../oplog/apply-update.js';
import { compareOpTime, type OpTime } from '../repo/optime.js';
import type { Repository } from '../repo/repository.js';
import { readEntryTs } from '../repo/bson-entries.js';
import { readSegment } from '../repo/segment-file.js';
import { readCollection, readManifest } from '../repo/snapshot-files.js';

export type OfflineState = Map<string, Map<string, Document>>;

const BSON_OPTS = { promoteValues: true, promoteLongs: false, bsonRegExp: true } as const;
const idKey = (id: unknown) => Buffer.from(serialize({ _id: id })).toString('hex');

function coll(state: OfflineState, ns: string): Map<string, Document> {
  let m = state.get(ns);
  if (!m) state.set(ns, (m = new Map()));
  return m;
}

/** Applies one oplog entry (CRUD, the DDL that changes data, and transactions' applyOps). */
export function applyEntry(state: OfflineState, e: Document): void {
  const ns = String(e.ns ?? '');
  switch (e.op) {
    case 'i': {
      const doc = e.o as Document;
      coll(state, ns).set(idKey(doc._id), doc);
      return;
    }
    case 'u': {
      const id = (e.o2 as Document | undefined)?._id;
      const m = coll(state, ns);
      const existing = m.get(idKey(id));
      if (existing) m.set(idKey(id), applyUpdate(existing, e.o as Document));
      else if (
        (e.o as Document).$v === undefined &&
        !Object.keys(e.o as Document).some((k) => k.startsWith('$'))
      ) {
        m.set(idKey(id), { _id: id, ...(e.o as Document) });
      }
      return;
    }
    case 'd':
      state.get(ns)?.delete(idKey((e.o as Document)._id));
      return;
    case 'c': {
      const db = ns.slice(0, ns.indexOf('.'));
      const o = e.o as Document;
      const cmd = Object.keys(o)[0];
      if (cmd === 'create') coll(state, `${db}.${o.create}`);
      else if (cmd === 'drop') state.delete(`${db}.${o.drop}`);
      else if (cmd === 'dropDatabase') {
        for (const k of [...state.keys()]) if (k.startsWith(`${db}.`)) state.delete(k);
      } else if (cmd === 'renameCollection') {
        const from = state.get(String(o.renameCollection)) ?? new Map();
        state.delete(String(o.renameCollection));
        state.set(String(o.to), from);
      } else if (cmd === 'applyOps') {
        for (const inner of o.applyOps as Document[]) applyEntry(state, inner);
      }
      // Index and option changes (createIndexes, collMod…) do not change documents.
      return;
    }
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
    if (n.type === 'view') continue;
    const m = coll(state, n.ns);
    for await (const raw of readCollection(repo, plan.snapshot.path, n)) {
      const d = deserialize(raw, BSON_OPTS);
      m.set(idKey(d._id), d);
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
