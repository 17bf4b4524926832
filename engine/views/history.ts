/**
 * The history of one document (namespace + `_id`) across the window: the
 * version in the window's oldest snapshot, then every change the oplog holds
 * through the replay core (transactions at their commit), with the kind of
 * operation, what changed and the document after it; deletes, drops of its
 * collection or database, and renames included (the collection is followed
 * under every name a rename gave it within the window).
 *
 * Only the segments that can hold the document's entries are read: the view
 * index records per segment the `_id`s it touches and whether it holds
 * namespace commands or transaction chains (segment-ids.ts); a segment not
 * yet recorded is read and recorded. The snapshot is read only when the
 * document's first change is not its insert.
 */
import { ApiError } from '../errors.js';
import {
  T,
  asBuffer,
  copyDocument,
  elements,
  field,
  subDocument,
  type RawElement,
} from '../oplog/bson-raw.js';
import { parseOplogEntry } from '../oplog/oplog-entry.js';
import { transactionMeta } from '../oplog/transactions.js';
import { applyUpdateEntry, updateKind } from '../oplog/update-entry.js';
import { MAX_INCREMENT, compareOpTime, type OpTime } from '../repo/optime.js';
import type { Repository } from '../repo/repository.js';
import { scanSegment } from '../repo/segment-file.js';
import { readCollection, readManifest } from '../repo/snapshot-files.js';
import type { EffectiveOp, ReplaySink } from '../restore/effective-op.js';
import { OplogReplay } from '../restore/replay.js';
import { ejsonText, valueText } from './ejson-text.js';
import { keyOf } from './index-keys.js';
import { SegmentIdCollector, hash48 } from './segment-ids.js';

export interface HistorySegment {
  path: string;
  firstTs: OpTime;
  lastTs: OpTime;
  /** The catalog's payload hash: a record of another segment at this path is not trusted. */
  payload: string;
}

export interface HistoryWindow {
  snapshot: { id: string; path: string; startTs: OpTime; consistentTs: OpTime };
  bound: OpTime;
  /** Chained segments from the one holding the snapshot's startTs through the bound. */
  segments: HistorySegment[];
}

export interface SegmentIdIndex {
  /** The record of the segment at `path` whose payload hash is `payload`; null for none or another's. */
  indexed(path: string, payload: string): { commands: boolean } | null;
  touching(hash: number): Set<string>;
  record(path: string, payload: string, ids: SegmentIdCollector): void;
}

/**
 * The document as a view at the snapshot's consistent point holds it, when such a view exists:
 * found through the view's `_id` keys instead of reading the snapshot's collection file.
 */
export type SnapshotLookup = (aliases: Set<string>, key: Buffer) => { ns: string; doc: Buffer } | null;

export type HistoryOpKind =
  'snapshot' | 'insert' | 'update' | 'replace' | 'delete' | 'drop-collection' | 'drop-database' | 'rename';

export interface Version {
  ts: OpTime;
  op: HistoryOpKind;
  ns: string;
  inTransaction: boolean;
  change: string[];
  after: string | null;
  restoreBefore: OpTime;
}

interface Recorded {
  op: EffectiveOp;
  prev: OpTime;
  inTxn: boolean;
}

/** The index key of the `_id` element of a document (numbers by value, as mongod compares `_id`s). */
function idKeyOfDoc(doc: Buffer): Buffer | null {
  const e = field(doc, '_id');
  return e ? keyOf(doc, e) : null;
}

/** Records the operations on one `_id` (any namespace) and every namespace command. */
class HistorySink implements ReplaySink {
  readonly recorded: Recorded[] = [];
  prev: OpTime = { t: 0, i: 0 };
  current: Buffer | null = null;

  constructor(private readonly key: Buffer) {}

  private inTxn(): boolean {
    if (!this.current) return false;
    const e = parseOplogEntry(this.current);
    return transactionMeta(e) !== null;
  }

  private push(op: EffectiveOp): void {
    this.recorded.push({ op, prev: this.prev, inTxn: this.inTxn() });
  }

  apply(op: EffectiveOp): void {
    switch (op.op) {
      case 'insert':
        if (idKeyOfDoc(op.doc)?.equals(this.key)) this.push({ ...op, doc: copyDocument(op.doc) });
        return;
      case 'update':
        if (idKeyOfDoc(op.o2)?.equals(this.key))
          this.push({ ...op, o2: copyDocument(op.o2), update: copyDocument(op.update) });
        return;
      case 'delete':
        if (idKeyOfDoc(op.o)?.equals(this.key)) this.push({ ...op, o: copyDocument(op.o) });
        return;
      case 'dropCollection':
      case 'dropDatabase':
      case 'renameCollection':
      case 'emptyCollection':
        this.push(op);
        return;
      default:
    }
  }
}

/** The names a collection had within the window: those linked to `ns` by renames, both ways. */
function aliasesOf(ns: string, recorded: Recorded[]): Set<string> {
  const out = new Set([ns]);
  for (let changed = true; changed;) {
    changed = false;
    for (const { op } of recorded) {
      if (op.op !== 'renameCollection') continue;
      if (out.has(op.from) !== out.has(op.to)) {
        out.add(op.from);
        out.add(op.to);
        changed = true;
      }
    }
  }
  return out;
}

/**
 * The names whose first entry in the window touching them is an insert of the document: it was
 * not there before (mongod refuses a second insert of an _id), so the snapshot need not be read
 * for them. A rename or drop naming them first leaves them to be looked up.
 */
function firstTouchIsInsert(aliases: Set<string>, recorded: Recorded[]): Set<string> {
  const seen = new Set<string>();
  const out = new Set<string>();
  const touch = (n: string, insert: boolean) => {
    if (!aliases.has(n) || seen.has(n)) return;
    seen.add(n);
    if (insert) out.add(n);
  };
  for (const { op } of recorded) {
    if (op.op === 'insert') touch(op.ns, true);
    else if (
      op.op === 'update' ||
      op.op === 'delete' ||
      op.op === 'dropCollection' ||
      op.op === 'emptyCollection'
    )
      touch(op.ns, false);
    else if (op.op === 'renameCollection') {
      touch(op.from, false);
      touch(op.to, false);
    } else if (op.op === 'dropDatabase')
      for (const n of aliases) if (n.startsWith(`${op.db}.`)) touch(n, false);
  }
  return out;
}

/** Readable changes between two versions: `+ a: 1`, `- b`, `~ c: 1 -> 2`, sub-documents by dotted path. */
export function describeChange(before: Buffer | null, after: Buffer | null, prefix = ''): string[] {
  const out: string[] = [];
  const b = new Map<string, { doc: Buffer; e: RawElement }>();
  const a = new Map<string, { doc: Buffer; e: RawElement }>();
  if (before) for (const e of elements(before)) b.set(e.name, { doc: before, e });
  if (after) for (const e of elements(after)) a.set(e.name, { doc: after, e });
  for (const [name, x] of a) {
    const path = `${prefix}${name}`;
    const y = b.get(name);
    if (!y) out.push(`+ ${path}: ${valueText(x.doc, x.e)}`);
    else {
      const same =
        y.e.type === x.e.type &&
        y.doc.subarray(y.e.valueStart, y.e.end).equals(x.doc.subarray(x.e.valueStart, x.e.end));
      if (same) continue;
      if (x.e.type === T.object && y.e.type === T.object)
        out.push(...describeChange(subDocument(y.doc, y.e), subDocument(x.doc, x.e), `${path}.`));
      else out.push(`~ ${path}: ${valueText(y.doc, y.e)} -> ${valueText(x.doc, x.e)}`);
    }
  }
  for (const name of b.keys()) if (!a.has(name)) out.push(`- ${prefix}${name}`);
  return out;
}

/** The restore point just before an entry: the previous entry's ts (one tick before when unknown). */
function before(ts: OpTime, prev: OpTime): OpTime {
  if (prev.t > 0 || prev.i > 0) return prev;
  return ts.i > 1 ? { t: ts.t, i: ts.i - 1 } : { t: ts.t - 1, i: MAX_INCREMENT };
}

export interface HistoryResult {
  versions: Version[];
  segmentsRead: number;
  segmentsInWindow: number;
}

export async function documentHistory(
  repo: Repository,
  window: HistoryWindow,
  ns: string,
  idDoc: Buffer,
  index: SegmentIdIndex,
  from: OpTime | null,
  atConsistent: SnapshotLookup | null = null,
): Promise<HistoryResult> {
  const idEl = field(idDoc, '_id')!;
  const key = keyOf(idDoc, idEl);
  const hash = hash48(key);
  const touching = index.touching(hash);
  const sink = new HistorySink(key);
  const replay = new OplogReplay(sink);
  // With a view at the snapshot's consistent point, history starts there (that view is the exact
  // state then); without one, from the snapshot's start, replaying what the snapshot may already hold.
  const start = atConsistent ? window.snapshot.consistentTs : window.snapshot.startTs;
  let read = 0;
  // The entry before the first one read: `start` itself (an entry's ts: the newest oplog entry when the
  // snapshot began or became consistent) when the window's first segment begins after it; any entry
  // scanned before the first recorded one replaces it.
  let prevSegmentLast: OpTime = start;
  for (const seg of window.segments) {
    const known = index.indexed(seg.path, seg.payload);
    const skip = known !== null && !known.commands && !touching.has(seg.path);
    if (skip) {
      prevSegmentLast = seg.lastTs;
      continue;
    }
    read++;
    const ids = known ? null : new SegmentIdCollector();
    let failed: unknown = null;
    sink.prev = prevSegmentLast;
    await scanSegment(repo, seg.path, (raw, ts) => {
      ids?.add(raw);
      if (failed) return;
      try {
        if (compareOpTime(ts, start) > 0 && compareOpTime(ts, window.bound) <= 0) {
          sink.current = asBuffer(raw);
          replay.push(sink.current);
          sink.current = null;
        }
        sink.prev = ts;
      } catch (err) {
        failed = err;
      }
    });
    if (failed) throw failed;
    if (ids) index.record(seg.path, seg.payload, ids);
    prevSegmentLast = seg.lastTs;
  }

  const aliases = aliasesOf(ns, sink.recorded);
  // The document under each of its collection's names: a rename over a collection brings two
  // documents of the same _id together (the target's, lost with its collection, and the source's,
  // which takes its place), and each change is described against the version in its own namespace.
  const docs = new Map<string, Buffer>();
  const versions: Version[] = [];
  const startsWithInsert = firstTouchIsInsert(aliases, sink.recorded);
  const lookIn = new Set([...aliases].filter((n) => !startsWithInsert.has(n)));
  if (lookIn.size > 0) {
    if (atConsistent) {
      for (const n of lookIn) {
        const hit = atConsistent(new Set([n]), key);
        if (hit) docs.set(hit.ns, hit.doc);
      }
    } else {
      // The document as the window's oldest snapshot has it, under any of its collection's names.
      const manifest = await readManifest(repo, window.snapshot.path);
      for (const n of manifest.namespaces) {
        if (!lookIn.has(n.ns) || !n.file || docs.has(n.ns)) continue;
        for await (const raw of readCollection(repo, window.snapshot.path, n)) {
          const b = asBuffer(raw);
          if (idKeyOfDoc(b)?.equals(key)) {
            docs.set(n.ns, copyDocument(b));
            break;
          }
        }
      }
    }
    for (const [n, d] of docs)
      versions.push({
        ts: start,
        op: 'snapshot',
        ns: n,
        inTransaction: false,
        change: [],
        after: ejsonText(d),
        restoreBefore: start,
      });
  }
  const gone = (base: Omit<Version, 'op' | 'ns' | 'change' | 'after'>, op: Version['op'], n: string) => {
    versions.push({ ...base, op, ns: n, change: describeChange(docs.get(n)!, null), after: null });
    docs.delete(n);
  };

  for (const { op, prev, inTxn } of sink.recorded) {
    const base = { ts: op.ts, inTransaction: inTxn, restoreBefore: before(op.ts, prev) };
    switch (op.op) {
      case 'insert':
        if (!aliases.has(op.ns)) break;
        versions.push({
          ...base,
          op: 'insert',
          ns: op.ns,
          change: describeChange(docs.get(op.ns) ?? null, op.doc),
          after: ejsonText(op.doc),
        });
        docs.set(op.ns, op.doc);
        break;
      case 'update': {
        if (!aliases.has(op.ns)) break;
        const next = applyUpdateEntry(docs.get(op.ns) ?? null, op.update, op.o2);
        const kind = updateKind(op.update) === 'replacement' ? 'replace' : 'update';
        versions.push({
          ...base,
          op: kind,
          ns: op.ns,
          change: describeChange(docs.get(op.ns) ?? null, next),
          after: ejsonText(next),
        });
        docs.set(op.ns, next);
        break;
      }
      case 'delete':
      case 'emptyCollection':
        if (docs.has(op.ns)) gone(base, 'delete', op.ns);
        break;
      case 'dropCollection':
        if (docs.has(op.ns)) gone(base, 'drop-collection', op.ns);
        break;
      case 'dropDatabase':
        for (const n of [...docs.keys()]) if (n.startsWith(`${op.db}.`)) gone(base, 'drop-database', n);
        break;
      case 'renameCollection': {
        if (op.from === op.to) break;
        // Renamed over: the collection holding the target's document is replaced.
        if (docs.has(op.to)) gone(base, 'drop-collection', op.to);
        const moved = docs.get(op.from);
        if (moved) {
          versions.push({
            ...base,
            op: 'rename',
            ns: op.to,
            change: [`ns: ${op.from} -> ${op.to}`],
            after: ejsonText(moved),
          });
          docs.delete(op.from);
          docs.set(op.to, moved);
        }
        break;
      }
      default:
    }
  }
  const first = sink.recorded.some(
    (r) => ['insert', 'update', 'delete'].includes(r.op.op) && aliases.has((r.op as { ns: string }).ns),
  );
  const shown = from
    ? versions.filter((v) => v.op === 'snapshot' || compareOpTime(v.ts, from) >= 0)
    : versions;
  if (versions.length === 0 && !first) {
    // Nothing known of this document anywhere in the window.
    throw new ApiError('NOT_FOUND', `No document with this _id in ${ns} within the window.`, { ns });
  }
  return { versions: shown, segmentsRead: read, segmentsInWindow: window.segments.length };
}
