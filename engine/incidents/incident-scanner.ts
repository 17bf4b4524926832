/**
 * The finder for destructive operations: reads a source's captured oplog in
 * ts order and reports what usually starts an incident, each with the restore
 * point just before it (the ts of the entry that precedes the event's first
 * entry in the captured stream).
 *
 * What it reports, in mongod's oplog shapes (op_observer_impl.cpp):
 *  - `drop`: `{op:'c', ns:'db.$cmd', o:{drop: coll}, o2:{numRecords: N}}`;
 *  - `dropDatabase`: mongod first logs a `drop` for each collection, then
 *    `{dropDatabase: 1}` (drop_database.cpp), so the drops of that database
 *    just before it (no other entry of the database between, within the
 *    window) become one finding that starts at the first of them;
 *  - `dropIndexes`: one entry per index (`{dropIndexes: coll, index: name}`);
 *    consecutive ones on one collection are one finding;
 *  - `renameCollection` over an existing collection: `dropTarget` is the
 *    dropped collection's UUID (4.2+: one entry, `o2.numRecords` its size) or
 *    `true` (older servers, which did not log whether the target existed);
 *  - mass deletes / updates: more than `documents` deletes (updates) of one
 *    namespace within `seconds` (counted per second of `ts`); plain `applyOps`
 *    (6.1+ batched deletes, TTL) counts operation by operation;
 *  - transactions (an `applyOps` with lsid/txnNumber, chains of `partialTxn`,
 *    prepared ones committed by `commitTransaction`; the same classification
 *    as the replay core, oplog/transactions.ts) whose operations delete or
 *    update more than `documents` documents of one namespace, judged as one
 *    event at commit (from the transaction's first entry).
 *  Committed transactions also feed the sliding windows, so that a mass delete
 *  (update) done as many small transactions is found: at its commit entry (the
 *  last `applyOps` of the chain, or `commitTransaction`) each of its deletes
 *  (updates) counts once, as an operation of that entry, at that entry's ts,
 *  the same as the operations of a plain `applyOps`. Aborted or uncommitted
 *  transactions count nowhere. A namespace that the transaction's own finding
 *  names (its deletes or updates there are over `documents`) does not feed the
 *  windows, so that no operation is reported twice; its other namespaces do.
 *  A window finding whose first operation came from a transaction starts at
 *  that transaction's commit entry (where its writes became visible): firstTs,
 *  wall, lsid and txnNumber are that entry's, its restore point the entry
 *  just before it (a chain's earlier `partialTxn`/`prepare` entries left
 *  before that point are an uncommitted transaction there, never applied),
 *  and its size counts each operation of each transaction it takes in.
 *
 * Why not the replay core: the finder needs the entries themselves (which
 * entry came first, the one before it, the session, `numRecords`, whether
 * `dropTarget` named a collection) and counts instead of applying; and it
 * must never refuse a stream (a commit whose chain began before the capture,
 * an unknown command), where replay rightly refuses.
 *
 * The state between entries is plain JSON (ScanState) so that the scan can
 * stop after any segment and resume there, in this process or the next.
 */
import { commandName, parseOplogEntry, type OplogEntry } from '../oplog/oplog-entry.js';
import { T, asBuffer, elements, field, isTruthy, readNumber, readString } from '../oplog/bson-raw.js';
import { isReplayedNamespace, splitNamespace } from '../oplog/namespace-filter.js';
import { applyOpsOperations, transactionMeta } from '../oplog/transactions.js';
import { ApiError } from '../errors.js';
import { readEntryTs } from '../repo/bson-entries.js';
import {
  SUMMARY_FROM_MIGRATE,
  SUMMARY_OP,
  SUMMARY_OP_MASK,
  SUMMARY_WELL_FORMED,
} from '../oplog/entry-summary.js';
import type { OpTime } from '../repo/optime.js';

export const INCIDENT_KINDS = [
  'drop',
  'dropDatabase',
  'dropIndexes',
  'renameOverCollection',
  'massDelete',
  'massUpdate',
  'transaction',
] as const;
export type IncidentKind = (typeof INCIDENT_KINDS)[number];

export interface Thresholds {
  /** More than this many documents deleted (or updated) in one namespace is a finding. */
  documents: number;
  /** ...within this many seconds. */
  seconds: number;
}

export interface SessionInfo {
  /** `lsid.id` as a UUID string. */
  id: string;
  /** `lsid.uid` (SHA-256 of the user) as hex, when logged. */
  uid: string | null;
}

export interface Finding {
  /** Stable per source: the kind, the first entry's ts and the namespace. */
  key: string;
  kind: IncidentKind;
  /** `db.coll`, or `db` for dropDatabase. */
  ns: string;
  firstTs: OpTime;
  lastTs: OpTime;
  /** The previous entry of the captured stream; null when the event is the first entry captured. */
  restoreBefore: OpTime | null;
  /** `wall` of the first entry (ISO), when logged. */
  wall: string | null;
  /** Documents (deleted, updated, or in the dropped collections), or indexes for dropIndexes; null when unknown. */
  size: number | null;
  lsid: SessionInfo | null;
  txnNumber: number | null;
  details: Record<string, unknown>;
}

/** Deletes (or updates) of one namespace in one second of `ts`: how many, and where the first one starts. */
interface Bucket {
  t: number;
  n: number;
  first: Seed;
}

/** Where a finding starts: its first entry and what it carries. */
interface Seed {
  ts: OpTime;
  before: OpTime | null;
  wall: string | null;
  lsid: SessionInfo | null;
  txnNumber: number | null;
}

interface Window {
  buckets: Bucket[];
  /** The finding this window is extending, while the rate stays above the threshold. */
  open: Finding | null;
}

interface OpenTxn {
  seed: Seed;
  /** Per namespace: [deletes, updates]. */
  counts: Record<string, [number, number]>;
  operations: number;
  prepared: boolean;
}

export interface ScanState {
  /** The last entry scanned: the restore point before the next one. */
  lastTs: OpTime | null;
  deletes: Record<string, Window>;
  updates: Record<string, Window>;
  txns: Record<string, OpenTxn>;
  /** Per database: drop findings that a dropDatabase right after them takes in. */
  dbDrops: Record<string, Finding[]>;
  /** The dropIndexes finding that a next dropIndexes of the same collection extends. */
  lastDropIndexes: Finding | null;
}

export const emptyScanState = (): ScanState => ({
  lastTs: null,
  deletes: {},
  updates: {},
  txns: {},
  dbDrops: {},
  lastDropIndexes: null,
});

/** What a scan changed: findings to store (new or grown) and keys of findings another one took in. */
export interface ScanChanges {
  upserts: Map<string, Finding>;
  removed: Set<string>;
}

const RULES = { usersAndRoles: false };
const IGNORED_OPS = new Set(['n', 'cd', 'ci', 'cu', 'km']);

export const findingKey = (kind: IncidentKind, ts: OpTime, ns: string) => `${kind}@${ts.t}:${ts.i}@${ns}`;

function uuidText(b: Buffer): string {
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** `lsid: {id: UUID, uid: BinData}` as text. */
function sessionOf(lsid: Buffer | null): SessionInfo | null {
  if (!lsid) return null;
  let id: string | null = null;
  let uid: string | null = null;
  for (const f of elements(lsid)) {
    if (f.type !== T.binary) continue;
    const bytes = lsid.subarray(f.valueStart + 5, f.end);
    if (f.name === 'id') id = bytes.length === 16 ? uuidText(bytes) : bytes.toString('hex');
    else if (f.name === 'uid') uid = bytes.toString('hex');
  }
  return id ? { id, uid } : null;
}

function wallOf(raw: Buffer): string | null {
  const f = field(raw, 'wall');
  if (!f || f.type !== T.date) return null;
  const ms = Number(raw.readBigInt64LE(f.valueStart));
  return Number.isFinite(ms) ? new Date(ms).toISOString() : null;
}

function numRecordsOf(o2: Buffer | null): number | null {
  if (!o2) return null;
  const f = field(o2, 'numRecords');
  if (!f || (f.type !== T.int32 && f.type !== T.int64 && f.type !== T.double)) return null;
  const n = readNumber(o2, f);
  return n >= 0 ? n : null; // mongod logs -1 when the count does not fit an int64
}

function tsOrNull(raw: Buffer): OpTime | null {
  try {
    return readEntryTs(raw);
  } catch {
    return null;
  }
}

const stringField = (doc: Buffer, name: string): string | null => {
  const f = field(doc, name);
  return f && f.type === T.string ? readString(doc, f) : null;
};

export class IncidentScanner {
  readonly changes: ScanChanges = { upserts: new Map(), removed: new Set() };
  /** Entries (or parts of them) that could not be read: skipped, never a reason to stop. */
  unreadable = 0;

  constructor(
    readonly state: ScanState,
    private readonly limits: Thresholds,
  ) {}

  /** The entry being scanned, for `seed` (one function for all entries, not a closure per entry). */
  private current: { e: OplogEntry; raw: Buffer; ts: OpTime; before: OpTime | null } | null = null;

  /** What a finding starting at the current entry records about it (decoded only when one starts). */
  private readonly seed = (): Seed => {
    const { e, raw, ts, before } = this.current!;
    return { ts, before, wall: wallOf(raw), lsid: sessionOf(e.lsid), txnNumber: e.txnNumber };
  };

  /** Scans one top-level oplog entry (raw BSON), in ts order. */
  push(bytes: Uint8Array): void {
    const raw = asBuffer(bytes);
    let e: OplogEntry;
    try {
      e = parseOplogEntry(raw);
    } catch (err) {
      // An entry the finder cannot read is no finding; it still is the restore point before the next.
      if (!(err instanceof ApiError)) throw err;
      this.unreadable++;
      this.state.lastTs = tsOrNull(raw) ?? this.state.lastTs;
      return;
    }
    const ts = e.ts;
    if (!ts) return;
    this.current = { e, raw, ts, before: this.state.lastTs };
    try {
      this.entry(e, raw, ts, this.seed);
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      this.unreadable++;
    } finally {
      this.state.lastTs = ts;
    }
  }

  /**
   * Moves past an entry on its summary alone (oplog/entry-summary.ts: what capture read of it as
   * it took it), when all push() would do with it is note its ts: a no-op, a chunk migration's
   * write, or an insert while no dropDatabase is pending (an insert only ends a run of
   * dropIndexes). Leaves the state exactly as push() of that entry would; false, with nothing
   * done, when the entry must be pushed instead. `t`, `i`: its ts.
   */
  pass(summary: number, t: number, i: number): boolean {
    if (!(summary & SUMMARY_WELL_FORMED)) return false;
    const op = summary & SUMMARY_OP_MASK;
    if (op === SUMMARY_OP.noop || summary & SUMMARY_FROM_MIGRATE) {
      this.state.lastTs = { i, t }; // the key order of readTimestamp's: the stored state is the same text
      return true;
    }
    if (op !== SUMMARY_OP.insert) return false;
    for (const _db in this.state.dbDrops) return false; // forgetting them needs the entry's namespace
    this.lastDropIndexesEnds();
    this.state.lastTs = { i, t };
    return true;
  }

  private entry(e: OplogEntry, raw: Buffer, ts: OpTime, seed: () => Seed): void {
    if (IGNORED_OPS.has(e.op)) return;
    if (e.fromMigrate) return; // chunk migrations move data, they do not lose it
    const meta = transactionMeta(e);
    if (meta) return this.transaction(e, meta, ts, seed);
    if (e.op === 'c' && e.o) return this.command(e, e.o, ts, seed);
    this.forgetPendingDrops(e.ns);
    this.lastDropIndexesEnds();
    this.crud(e, ts, seed);
  }

  private crud(e: OplogEntry, ts: OpTime, seed: () => Seed): void {
    if (e.op !== 'd' && e.op !== 'u') return;
    if (!isReplayedNamespace(e.ns, RULES)) return;
    this.count(e.op === 'd' ? 'massDelete' : 'massUpdate', e.ns, ts, seed);
  }

  /** One more delete (update) of `ns` at `ts`: opens or extends a finding when the rate is above the threshold. */
  private count(kind: 'massDelete' | 'massUpdate', ns: string, ts: OpTime, seed: () => Seed): void {
    const windows = kind === 'massDelete' ? this.state.deletes : this.state.updates;
    const w = (windows[ns] ??= { buckets: [], open: null });
    pruneWindow(w, ts.t - this.limits.seconds);
    if (w.buckets.length === 0) w.open = null; // quiet for a whole window: that finding ended
    if (w.open) {
      if (inWindow(w) + 1 > this.limits.documents) {
        addToWindow(w, ts, seed);
        w.open.lastTs = ts;
        w.open.size = (w.open.size ?? 0) + 1;
        this.changes.upserts.set(w.open.key, w.open);
        return;
      }
      // The rate fell below the threshold: the finding is over, and its deletes are not counted again.
      w.open = null;
      w.buckets = [];
    }
    addToWindow(w, ts, seed);
    const n = inWindow(w);
    if (n > this.limits.documents) {
      const first = w.buckets[0]!.first;
      w.open = this.finding(kind, ns, first, ts, n, {});
    }
  }

  private finding(
    kind: IncidentKind,
    ns: string,
    s: Seed,
    lastTs: OpTime,
    size: number | null,
    details: Record<string, unknown>,
  ): Finding {
    const f: Finding = {
      key: findingKey(kind, s.ts, ns),
      kind,
      ns,
      firstTs: s.ts,
      lastTs,
      restoreBefore: s.before,
      wall: s.wall,
      size,
      lsid: s.lsid,
      txnNumber: s.txnNumber,
      details,
    };
    this.changes.upserts.set(f.key, f);
    this.changes.removed.delete(f.key);
    return f;
  }

  private command(e: OplogEntry, o: Buffer, ts: OpTime, seed: () => Seed): void {
    let name: string;
    try {
      name = commandName(o);
    } catch {
      return;
    }
    const { db } = splitNamespace(e.ns);
    if (name !== 'drop' && name !== 'dropDatabase') this.forgetPendingDrops(e.ns);
    if (name !== 'dropIndexes') this.lastDropIndexesEnds();
    switch (name) {
      case 'applyOps': {
        // Not a transaction (no session): each operation counts on its own, at this entry's ts.
        let ops: Buffer[];
        try {
          ops = applyOpsOperations(o);
        } catch {
          return;
        }
        for (const op of ops) {
          const inner = parseOplogEntry(op);
          if (inner.op === 'c' && inner.o) this.command(inner, inner.o, ts, seed);
          else this.crud(inner, ts, seed);
        }
        return;
      }
      case 'drop': {
        const coll = stringField(o, 'drop');
        if (coll === null) return;
        const ns = `${db}.${coll}`;
        if (!isReplayedNamespace(ns, RULES)) return;
        const f = this.finding('drop', ns, seed(), ts, numRecordsOf(e.o2), {});
        const pending = (this.state.dbDrops[db] ??= []);
        // Only drops close together belong to one dropDatabase.
        if (pending.length && ts.t - pending[pending.length - 1]!.lastTs.t > this.limits.seconds)
          pending.length = 0;
        pending.push(f);
        return;
      }
      case 'dropDatabase': {
        if (!isReplayedNamespace(`${db}.x`, RULES)) return;
        const drops = (this.state.dbDrops[db] ?? []).filter((d) => ts.t - d.lastTs.t <= this.limits.seconds);
        delete this.state.dbDrops[db];
        for (const d of drops) {
          this.changes.upserts.delete(d.key);
          this.changes.removed.add(d.key);
        }
        const first = drops[0];
        const s: Seed = first
          ? {
              ts: first.firstTs,
              before: first.restoreBefore,
              wall: first.wall,
              lsid: first.lsid,
              txnNumber: first.txnNumber,
            }
          : seed();
        const known = drops.every((d) => d.size !== null);
        this.finding('dropDatabase', db, s, ts, known ? drops.reduce((n, d) => n + d.size!, 0) : null, {
          collections: drops.map((d) => splitNamespace(d.ns).coll),
        });
        return;
      }
      case 'dropIndexes': {
        const coll = stringField(o, 'dropIndexes');
        if (coll === null) return;
        const ns = `${db}.${coll}`;
        if (!isReplayedNamespace(ns, RULES)) return;
        const f = field(o, 'index');
        const index = f?.type === T.string ? readString(o, f) : f ? '(key pattern)' : '*';
        const last = this.state.lastDropIndexes;
        if (last && last.ns === ns && ts.t - last.lastTs.t <= this.limits.seconds) {
          last.lastTs = ts;
          last.size = (last.size ?? 0) + 1;
          (last.details.indexes as string[]).push(index);
          this.changes.upserts.set(last.key, last);
          return;
        }
        this.state.lastDropIndexes = this.finding('dropIndexes', ns, seed(), ts, 1, { indexes: [index] });
        return;
      }
      case 'renameCollection': {
        const from = stringField(o, 'renameCollection');
        const to = stringField(o, 'to');
        const dt = field(o, 'dropTarget');
        if (!from || !to || !dt) return;
        const byUuid = dt.type === T.binary;
        if (!byUuid && !isTruthy(o, dt)) return;
        if (!isReplayedNamespace(to, RULES)) return;
        this.forgetPendingDrops(to);
        this.finding('renameOverCollection', to, seed(), ts, numRecordsOf(e.o2), {
          from,
          // A UUID says the target existed and was dropped; `true` (servers before 4.2) only that it was asked for.
          targetExisted: byUuid ? true : null,
        });
        return;
      }
      default:
        return;
    }
  }

  private transaction(
    e: OplogEntry,
    meta: NonNullable<ReturnType<typeof transactionMeta>>,
    ts: OpTime,
    seed: () => Seed,
  ): void {
    this.lastDropIndexesEnds();
    if (meta.abort) {
      delete this.state.txns[meta.id];
      return;
    }
    let txn = this.state.txns[meta.id];
    if (meta.data) {
      if (!txn) txn = this.state.txns[meta.id] = { seed: seed(), counts: {}, operations: 0, prepared: false };
      let ops: Buffer[];
      try {
        ops = applyOpsOperations(e.o!);
      } catch {
        ops = [];
      }
      for (const op of ops) {
        const inner = parseOplogEntry(op);
        txn.operations++;
        if ((inner.op !== 'd' && inner.op !== 'u') || !isReplayedNamespace(inner.ns, RULES)) continue;
        const c = (txn.counts[inner.ns] ??= [0, 0]);
        c[inner.op === 'd' ? 0 : 1]++;
      }
      if (meta.prepare) txn.prepared = true;
    }
    if (!meta.commit || !txn) return;
    delete this.state.txns[meta.id];
    const over = Object.entries(txn.counts)
      .filter(([, [d, u]]) => d > this.limits.documents || u > this.limits.documents)
      .sort((a, b) => b[1][0] + b[1][1] - (a[1][0] + a[1][1]));
    // Its other namespaces' operations count into the windows, as this (the commit) entry's.
    for (const ns in txn.counts) {
      if (over.some(([o]) => o === ns)) continue; // the transaction's own finding has them
      const [d, u] = txn.counts[ns]!;
      for (let k = 0; k < d; k++) this.count('massDelete', ns, ts, seed);
      for (let k = 0; k < u; k++) this.count('massUpdate', ns, ts, seed);
    }
    if (over.length === 0) return;
    this.finding(
      'transaction',
      over[0]![0],
      txn.seed,
      ts,
      over.reduce((n, [, [d, u]]) => n + d + u, 0),
      {
        prepared: txn.prepared,
        operations: txn.operations,
        namespaces: over.map(([ns, [d, u]]) => ({ ns, deletes: d, updates: u })),
      },
    );
  }

  /** Another entry of a database: drops before it no longer belong to a dropDatabase that follows. */
  private forgetPendingDrops(ns: string): void {
    // Nearly always none pending: checked without building the list of keys (once per entry).
    for (const _db in this.state.dbDrops) {
      delete this.state.dbDrops[splitNamespace(ns).db];
      return;
    }
  }

  private lastDropIndexesEnds(): void {
    this.state.lastDropIndexes = null;
  }

  /**
   * Drops what can no longer change (windows quiet for longer than the window): keeps the saved
   * state small. Equivalent to what the next entry would do, so a scan that stops here and
   * resumes finds exactly what one scan without a stop finds.
   */
  compact(): void {
    const now = this.state.lastTs?.t;
    if (now === undefined) return;
    for (const windows of [this.state.deletes, this.state.updates]) {
      for (const [ns, w] of Object.entries(windows)) {
        pruneWindow(w, now - this.limits.seconds);
        if (w.buckets.length === 0) delete windows[ns];
      }
    }
    for (const [db, drops] of Object.entries(this.state.dbDrops)) {
      const kept = drops.filter((d) => now - d.lastTs.t <= this.limits.seconds);
      if (kept.length) this.state.dbDrops[db] = kept;
      else delete this.state.dbDrops[db];
    }
  }
}

const inWindow = (w: Window): number => w.buckets.reduce((n, b) => n + b.n, 0);

function pruneWindow(w: Window, olderThanOrAt: number): void {
  let k = 0;
  while (k < w.buckets.length && w.buckets[k]!.t <= olderThanOrAt) k++;
  if (k) w.buckets.splice(0, k);
}

function addToWindow(w: Window, ts: OpTime, seed: () => Seed): void {
  const last = w.buckets[w.buckets.length - 1];
  if (last && last.t === ts.t) last.n++;
  else w.buckets.push({ t: ts.t, n: 1, first: seed() });
}
