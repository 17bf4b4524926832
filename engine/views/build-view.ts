/**
 * Materialises a view: the plan's snapshot streamed collection by collection
 * into a view file, then the oplog entries of the plan's range through the
 * replay core (restore/replay.ts) into the same file (view-sink.ts); or, to
 * move a view forward, a copy of an earlier view of the same snapshot (or
 * that view itself, moved in place) and only the entries after its bound. Memory stays bounded: documents go
 * straight from the snapshot's frames and the segments' frames (scanSegment
 * holds one frame) into SQLite, whose page cache is fixed.
 *
 * A view whose replay ended with transactions still open (their commit lies
 * after the bound) is not moved forward: the buffered operations are not in
 * the file, so a later view starts from the snapshot again.
 */
import { constants } from 'node:fs';
import { copyFile, stat } from 'node:fs/promises';
import { ApiError } from '../errors.js';
import { asBuffer } from '../oplog/bson-raw.js';
import { compareOpTime, type OpTime } from '../repo/optime.js';
import type { Repository } from '../repo/repository.js';
import { scanSegment } from '../repo/segment-file.js';
import { readCollection, readManifest } from '../repo/snapshot-files.js';
import { fromManifest } from '../restore/offline-state.js';
import type { Plan } from '../restore/planner.js';
import { OplogReplay } from '../restore/replay.js';
import {
  countAllDocs,
  createViewFile,
  endMove,
  finishBuild,
  indexViewFile,
  listCollectionRows,
  markMoving,
  openViewForWrite,
  readMeta,
  viewWriter,
  writeMeta,
  VIEW_FORMAT,
  type StatementMeter,
  type ViewDb,
  type ViewWriter,
} from '../catalog/view-store.js';
import { ViewSink, type CollectionKind } from './view-sink.js';
import { SegmentIdCollector } from './segment-ids.js';

export type OkPlan = Extract<Plan, { ok: true }>;

/** What the build reports to its task (or to nobody). */
export interface BuildProgress {
  progress(p: { done?: number; total?: number | null; unit?: string; message?: string }): void;
  throwIfCancelled(): void;
  /** Time of the file's statements, per writer method (the view benchmark's split of the cost). */
  meter?: StatementMeter;
}

export interface BuildInput {
  repo: Repository;
  plan: OkPlan;
  /** Where to build (a temporary name the caller renames once the build succeeded). */
  file: string;
  /**
   * An earlier ready view of the same snapshot to move forward from: copied to `file`, or, with
   * `inPlace` (its file opened and locked by lockViewForMove, `file` naming that same file),
   * moved forward where it is: then the caller keeps the connection, and closes it (its lock goes
   * with it) only once the view's row is ready; `onFirstWrite` is called before the file is first
   * changed (until then a failed move leaves the view as it was).
   */
  base?: { file: string; bound: OpTime; inPlace?: ViewDb | undefined; onFirstWrite?: () => void } | undefined;
  ctx?: BuildProgress | undefined;
  /** Segments whose touched _ids are not yet recorded; called once per segment read whole. */
  onSegmentIds?: ((seg: { path: string; payload: string }, ids: SegmentIdCollector) => void) | undefined;
  isSegmentIndexed?: ((seg: { path: string; payload: string }) => boolean) | undefined;
}

export interface BuildResult {
  documents: number;
  namespaces: number;
  entriesApplied: number;
  openTransactions: number;
  bytes: number;
  mtimeMs: number;
}

const noProgress: BuildProgress = { progress: () => undefined, throwIfCancelled: () => undefined };

export async function buildView(input: BuildInput): Promise<BuildResult> {
  const { repo, plan } = input;
  const ctx = input.ctx ?? noProgress;
  let db: ViewDb;
  let from: OpTime;
  const inPlace = input.base?.inPlace !== undefined;
  if (input.base?.inPlace) {
    db = input.base.inPlace;
    from = input.base.bound;
  } else if (input.base) {
    // A copy-on-write clone where the file system has them (btrfs, XFS, APFS): no bytes copied.
    await copyFile(input.base.file, input.file, constants.COPYFILE_FICLONE);
    db = openViewForWrite(input.file);
    from = input.base.bound;
  } else {
    db = createViewFile(input.file);
    from = plan.snapshot.startTs;
  }
  let w: ViewWriter | null = null;
  try {
    w = viewWriter(db, ctx.meter);
    // A write of the stage (at the end, or of a full stage while replaying) takes seconds.
    const sink = new ViewSink(w, (done, total) => {
      ctx.throwIfCancelled();
      ctx.progress({ done, total, unit: 'operations', message: 'writing the staged operations' });
    });
    if (!input.base) {
      await loadSnapshot(repo, plan, sink, ctx);
      ctx.progress({ message: 'indexing the snapshot' });
      indexViewFile(db);
    }
    const replay = new OplogReplay(sink);
    let touched = false;
    // Before the first entry can change the file: the mark that a stopped move leaves behind.
    const firstWrite = () => {
      touched = true;
      input.base?.onFirstWrite?.();
      if (inPlace) markMoving(db, `${from.t}:${from.i}`);
    };
    const total = plan.segments.reduce((n, s) => n + s.count, 0);
    let seen = 0;
    let last: OpTime | null = null;
    for (const seg of plan.segments) {
      ctx.throwIfCancelled();
      if (compareOpTime(seg.lastTs, from) <= 0) {
        seen += seg.count;
        continue; // wholly before what this build applies
      }
      if (compareOpTime(seg.firstTs, plan.bound) > 0) break;
      const ids = input.onSegmentIds && !input.isSegmentIndexed?.(seg) ? new SegmentIdCollector() : null;
      // scanSegment turns anything thrown by the callback into CORRUPT: keep our own errors apart.
      let failed: unknown = null;
      await scanSegment(repo, seg.path, (raw, ts) => {
        seen++;
        ids?.add(raw);
        if (failed) return;
        try {
          if (compareOpTime(ts, from) <= 0 || compareOpTime(ts, plan.bound) > 0) return;
          if (last && compareOpTime(ts, last) <= 0)
            throw new ApiError('CORRUPT', 'Oplog entries out of order across segments.');
          last = ts;
          if (!touched) firstWrite();
          replay.push(asBuffer(raw));
          if ((seen & 0x3fff) === 0) {
            ctx.throwIfCancelled();
            ctx.progress({ done: seen, total, unit: 'entries', message: `replaying ${seg.path}` });
          }
        } catch (err) {
          failed = err;
        }
      });
      if (failed) throw failed;
      if (ids) input.onSegmentIds!(seg, ids);
    }
    ctx.progress({ done: seen, total, unit: 'entries', message: 'writing the staged operations' });
    sink.flush();
    const report = replay.report();
    const applied = Number(readMeta(db).entriesApplied ?? 0);
    const entriesApplied = applied + report.entries;
    writeMeta(db, {
      format: VIEW_FORMAT,
      snapshotId: plan.snapshot.id,
      boundT: String(plan.bound.t),
      boundI: String(plan.bound.i),
      entriesApplied: String(entriesApplied),
      openTransactions: String(report.transactions.incomplete.length),
    });
    if (inPlace) endMove(db);
    const documents = countAllDocs(db);
    const namespaces = listCollectionRows(db).length;
    finishBuild(db);
    if (!inPlace) db.close(); // a move in place keeps its lock until its row is ready (see base)
    const st = await stat(input.file);
    return {
      documents,
      namespaces,
      entriesApplied,
      openTransactions: report.transactions.incomplete.length,
      bytes: st.size,
      mtimeMs: st.mtimeMs,
    };
  } catch (err) {
    if (!inPlace && db.open) db.close();
    throw err;
  } finally {
    w?.closeStage();
  }
}

async function loadSnapshot(
  repo: Repository,
  plan: OkPlan,
  sink: ViewSink,
  ctx: BuildProgress,
): Promise<void> {
  const manifest = await readManifest(repo, plan.snapshot.path);
  const total = manifest.namespaces.reduce((n, ns) => n + ns.count, 0);
  let done = 0;
  for (const n of manifest.namespaces) {
    ctx.throwIfCancelled();
    const kind: CollectionKind =
      n.type === 'view' ? 'view' : n.type === 'timeseries' && n.file === null ? 'timeseries' : 'collection';
    sink.addCollection(n.ns, kind, fromManifest(n.options), n.indexes.map(fromManifest));
    if (kind !== 'collection') continue;
    for await (const raw of readCollection(repo, plan.snapshot.path, n)) {
      sink.loadDocument(n.ns, raw);
      if ((++done & 0x3fff) === 0) {
        ctx.throwIfCancelled();
        ctx.progress({ done, total, unit: 'documents', message: `loading ${n.ns}` });
      }
    }
  }
  sink.flush();
}
