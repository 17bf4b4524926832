/**
 * The cache of point-in-time views in the data dir (`views/`): which views
 * exist (catalog/view-index.ts), finding or making the one a query needs,
 * and evicting by size and age (settings `viewCacheMaxBytes`,
 * `viewMaxAgeDays`).
 *
 * For a plan (snapshot S, bound B) a query gets, in this order: the ready
 * view of (S, B) as it is; else a copy of the newest ready view of S before
 * B moved forward to B (only the newer entries are applied); else a view
 * built from S. A view file is trusted only while it is the file that was
 * built: its size and modification time are recorded when it becomes ready,
 * and one that differs, cannot be opened, or fails while being read is
 * marked damaged, removed and built again, never read.
 */
import { isJournalPath } from '../repo/journal-file.js';
import { SORT_TEMP_PREFIX } from './external-sort.js';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ApiError, storageError } from '../errors.js';
import type { Repository } from '../repo/repository.js';
import { formatOpTime } from '../repo/optime.js';
import {
  deleteBuildingView,
  deleteView,
  fileNamedByOther,
  getView,
  giveBackView,
  insertView,
  isSegmentIndexed,
  listViews,
  markViewDamaged,
  markViewReady,
  openViewIndex,
  forgetSegments,
  recordSegmentIds,
  segmentsTouching,
  takeOverView,
  touchView,
  viewAt,
  viewBefore,
  type ViewIndexDb,
  type ViewRow,
} from '../catalog/view-index.js';
import {
  MOVING_KEY,
  VIEW_FORMAT,
  lockViewForMove,
  openViewForRead,
  readMeta,
  type ViewDb,
} from '../catalog/view-store.js';
import { buildView, type BuildProgress, type OkPlan } from './build-view.js';
import { QueryCursors, type CursorLimits } from './query-cursors.js';

export type ViewHow = 'reused' | 'moved-forward' | 'moved-in-place' | 'built';

export interface ViewSourceRef {
  id: string;
  name: string;
  repo: Repository;
}

export interface CachePolicy {
  maxBytes: number;
  maxAgeDays: number;
}

const TEMP_PREFIX = '.tmp-view-';
/** The cache's directory inside the data dir. */
export const VIEWS_DIR = 'views';
const INDEX_FILE = 'views.sqlite';
/** A build creates its temporary file right after its row: a row this old without one is dead. */
const DEAD_BUILD_MS = 60_000;
const VIEW_FILE = /^view-\d+\.sqlite$/;

/** SQLite and BSON errors that mean the file is not what was built. */
export function isDamage(err: unknown): boolean {
  const code = (err as { code?: string }).code ?? '';
  return (
    code.startsWith('SQLITE_CORRUPT') ||
    code === 'SQLITE_NOTADB' ||
    code === 'INVALID_BSON' ||
    code === 'VIEW_DAMAGED' ||
    code === 'VIEW_MOVED'
  );
}

export class ViewCache {
  private db: ViewIndexDb | null = null;
  private readonly inFlight = new Map<string, Promise<{ row: ViewRow; how: ViewHow }>>();
  /**
   * Moves in place under way here, by source and snapshot: while one runs its snapshot has no ready
   * view to start from, so a request for another point of it waits for the move, then starts from
   * its result (instead of building from the snapshot).
   */
  private readonly moves = new Map<string, Promise<void>>();
  private readonly handles = new Map<number, ViewDb>();
  /** Views in use across awaits (lease) and views being copied by a build here: never moved in place. */
  private readonly leases = new Map<number, number>();
  /** Open query cursors on these views: closed with the view they read. */
  readonly cursors: QueryCursors;

  constructor(
    readonly dir: string,
    cursorLimits?: CursorLimits,
  ) {
    this.cursors = new QueryCursors(cursorLimits);
  }

  /** The index, opened (and the directory created) on first use; stale temporaries of dead processes removed. */
  index(): ViewIndexDb {
    if (this.db) return this.db;
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    this.db = this.openIndex();
    const underWay = new Set<number>();
    for (const name of readdirSync(this.dir)) {
      const m = new RegExp(`^${TEMP_PREFIX}(\\d+)-(\\d+)\\.sqlite$`).exec(name);
      if (m && !alive(Number(m[2]))) rmSync(join(this.dir, name), { force: true });
      else if (m) underWay.add(Number(m[1]));
      // Runs of an external sort whose process died before it removed them.
      const sort = new RegExp(`^${SORT_TEMP_PREFIX}(\\d+)-`).exec(name);
      if (sort && !alive(Number(sort[1]))) rmSync(join(this.dir, name), { recursive: true, force: true });
    }
    this.forgetDeadBuilds(underWay);
    return this.db;
  }

  /**
   * Rows of builds whose process died, or whose failure could not delete its row (a full disk): a
   * 'building' row with no temporary file of a live process, older than a build takes to create
   * its file, is deleted (`views` would list it for ever).
   */
  private forgetDeadBuilds(underWay: Set<number>): void {
    const cutoff = Date.now() - DEAD_BUILD_MS;
    for (const r of listViews(this.db!)) {
      if (r.state !== 'building') continue;
      const path = this.fileOf(r);
      if (path && existsSync(path)) this.forgetDeadMove(r, path);
      else if (!underWay.has(r.id) && Date.parse(r.created_at) < cutoff) deleteView(this.db!, r.id);
    }
  }

  /**
   * A 'building' row whose file exists is a move in place (a build's file gets its name only once
   * ready). Its mover holds the file's exclusive lock from before the row existed until it is done:
   * a file this process can lock has no mover, and is half moved: row and file go, under the lock.
   */
  private forgetDeadMove(r: ViewRow, path: string): void {
    let held: ViewDb | null = null;
    try {
      held = lockViewForMove(path);
      if (!held) return; // its mover is at work
    } catch (err) {
      // Not a database any more, or gone: nothing to wait for. Anything else (out of file
      // handles, an I/O error) says nothing about the move: the row is left for a later sweep.
      if (!isDamage(err) && (err as { code?: string }).code !== 'SQLITE_CANTOPEN') return;
    }
    const gone = deleteBuildingView(this.db!, r.id);
    held?.close();
    if (gone) rmSync(path, { force: true });
  }

  /**
   * The index is a cache too: one SQLite cannot read (a garbled header or schema) is kept beside as
   * `views.sqlite.damaged` and started again empty, and the view files it named, which nothing
   * names any more, are removed; views and segment rows fill again as they are needed.
   */
  private openIndex(): ViewIndexDb {
    const path = join(this.dir, INDEX_FILE);
    try {
      return openViewIndex(path);
    } catch (err) {
      if (!isDamage(err)) throw err;
      renameSync(path, `${path}.damaged`);
      for (const side of ['-wal', '-shm']) rmSync(`${path}${side}`, { force: true });
      for (const name of readdirSync(this.dir))
        if (VIEW_FILE.test(name)) rmSync(join(this.dir, name), { force: true });
      return openViewIndex(path);
    }
  }

  list(): ViewRow[] {
    return listViews(this.index());
  }

  get(id: number): ViewRow | undefined {
    return getView(this.index(), id);
  }

  drop(id: number): void {
    const row = getView(this.index(), id);
    if (!row) throw new ApiError('NOT_FOUND', `No view ${id}; view.list shows the views there are.`);
    this.remove(row);
  }

  private remove(row: ViewRow): void {
    this.cursors.closeView(row.id); // before the handle they read goes
    this.closeHandle(row.id);
    deleteView(this.index(), row.id); // row first, then the file
    const path = this.fileOf(row);
    // A row of a view since moved in place (by another engine) names the file its new row names.
    if (path && !fileNamedByOther(this.index(), row.file, row.id)) rmSync(path, { force: true });
  }

  private closeHandle(id: number): void {
    this.handles.get(id)?.close();
    this.handles.delete(id);
  }

  /**
   * Marks a view in use across awaits (a selective restore reading it between writes, a history
   * reading the snapshot's view between segments): a move in place never takes it meanwhile.
   * Returns the release.
   */
  lease(id: number): () => void {
    this.leases.set(id, (this.leases.get(id) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const n = (this.leases.get(id) ?? 1) - 1;
      if (n > 0) this.leases.set(id, n);
      else this.leases.delete(id);
    };
  }

  /**
   * A row's file in the cache's directory, or null when the row names anything else (only a
   * damaged or crafted index does): nothing outside the directory is ever read or removed.
   */
  private fileOf(row: ViewRow): string | null {
    return VIEW_FILE.test(row.file) ? join(this.dir, row.file) : null;
  }

  /** The view for a plan: reused, moved forward from an earlier one of the same snapshot, or built. */
  async ensure(
    source: ViewSourceRef,
    plan: OkPlan,
    policy: CachePolicy,
    ctx?: BuildProgress,
    latest = false,
  ): Promise<{ row: ViewRow; how: ViewHow }> {
    const key = `${source.id}/${plan.snapshot.id}/${formatOpTime(plan.bound)}`;
    const running = this.inFlight.get(key);
    if (running) return running;
    const p = this.ensureNow(source, plan, policy, ctx, latest).finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, p);
    return p;
  }

  private async ensureNow(
    source: ViewSourceRef,
    plan: OkPlan,
    policy: CachePolicy,
    ctx: BuildProgress | undefined,
    latest: boolean,
  ): Promise<{ row: ViewRow; how: ViewHow }> {
    const snapshotKey = `${source.id}/${plan.snapshot.id}`;
    await this.afterMoves(snapshotKey, ctx);
    const idx = this.index();
    const exact = viewAt(idx, source.id, plan.snapshot.id, plan.bound.t, plan.bound.i);
    if (exact && this.trusted(exact) && this.readable(exact)) {
      touchView(idx, exact.id, !latest);
      return this.handOut(getView(idx, exact.id)!, 'reused');
    }
    let base = viewBefore(idx, source.id, plan.snapshot.id, plan.bound.t, plan.bound.i);
    while (base && !(this.trusted(base) && this.readable(base)))
      base = viewBefore(idx, source.id, plan.snapshot.id, plan.bound.t, plan.bound.i);
    if (base && base.open_transactions > 0) base = undefined;
    const point = { bound_t: plan.bound.t, bound_i: plan.bound.i };
    // A view that exists only because `latest` was asked is moved on by the next `latest`, not copied.
    const moving = base && latest && base.for_latest === 1 ? this.takeForMove(base, point) : null;
    let moved = () => undefined as void;
    if (moving) this.moves.set(snapshotKey, new Promise<void>((resolve) => (moved = resolve)));
    let touched = false; // whether the move changed the file yet
    if (base && !moving && !this.readable(base)) base = undefined; // a failed take closed its handle
    const row =
      moving?.row ??
      insertView(idx, {
        source_id: source.id,
        source_name: source.name,
        repository_id: source.repo.id,
        snapshot_id: plan.snapshot.id,
        ...point,
        for_latest: latest ? 1 : 0,
        fileFor: (id) => `view-${id}.sqlite`,
      });
    const file = join(this.dir, row.file);
    // A move in place writes the view's own file; anything else is built under a temporary name.
    const temp = moving ? file : join(this.dir, `${TEMP_PREFIX}${row.id}-${process.pid}.sqlite`);
    const releaseBase = base && !moving ? this.lease(base.id) : () => undefined; // copied: not moved meanwhile
    try {
      const built = await buildView({
        repo: source.repo,
        plan,
        file: temp,
        base: base
          ? {
              file: join(this.dir, base.file),
              bound: { t: base.bound_t, i: base.bound_i },
              inPlace: moving?.db,
              onFirstWrite: () => (touched = true),
            }
          : undefined,
        ctx,
        // A capture journal still grows: its _ids are never final, so it is never indexed.
        isSegmentIndexed: (seg) =>
          isJournalPath(seg.path) || isSegmentIndexed(idx, source.repo.id, seg.path, seg.payload) !== null,
        onSegmentIds: (seg, ids) =>
          this.recordSegment(source.repo.id, seg.path, ids.hashes, ids.commands, seg.payload),
      });
      if (!moving) renameSync(temp, file);
      // A move's file is still locked: marked ready before its lock goes, so that no sweep of
      // another engine takes the finished file for a dead move's in between.
      const st = statSync(file);
      const ready = markViewReady(idx, row.id, {
        bytes: st.size,
        documents: built.documents,
        namespaces: built.namespaces,
        entries_applied: built.entriesApplied,
        open_transactions: built.openTransactions,
        moved_from_t: base ? base.bound_t : null,
        moved_from_i: base ? base.bound_i : null,
        file_mtime_ms: st.mtimeMs,
      });
      moving?.db.close();
      // Only a damaged or edited index: the row went while the view was being built.
      if (!ready)
        throw new ApiError('CONFLICT', 'The view was removed as it was finished: run the query again.');
    } catch (err) {
      // A move stopped before it changed anything gives the view back as it was (no rebuild).
      if (moving && !touched && this.giveBack(moving, base!)) throw err;
      if (moving?.db.open) moving.db.close();
      rmSync(temp, { force: true }); // first: on a full disk, the space the row's delete may need
      try {
        deleteView(idx, row.id);
      } catch {
        // The row stays 'building', which no lookup uses; the build's own failure is the one to report.
      }
      // SQLite sorts and stages through temporary files of its own directory, which may be the full one.
      throw (
        storageError(
          err,
          `building a view in ${this.dir} or in SQLite's temporary files (SQLITE_TMPDIR, TMPDIR, /var/tmp or /tmp)`,
        ) ?? err
      );
    } finally {
      releaseBase();
      if (moving) {
        this.moves.delete(snapshotKey);
        moved();
      }
    }
    this.evict(policy, row.id);
    return this.handOut(getView(idx, row.id)!, moving ? 'moved-in-place' : base ? 'moved-forward' : 'built');
  }

  /**
   * The view a request gets, leased until the next turn of the event loop: its caller opens and
   * reads it in the continuations of this promise (withView reads synchronously), and no move in
   * place of another request may take it in between (one woken by the end of a move, below).
   */
  private handOut(row: ViewRow, how: ViewHow): { row: ViewRow; how: ViewHow } {
    setImmediate(this.lease(row.id));
    return { row, how };
  }

  /**
   * Takes a ready view to move it forward in place: not while anything here reads it (a cursor, a
   * lease, a build copying it) nor while any connection of any process holds it (lockViewForMove
   * is refused); then its row gives way to a 'building' row of the new point naming its file.
   * Null when it cannot be taken now: the caller copies it, as for any other view.
   */
  private takeForMove(
    base: ViewRow,
    point: Pick<ViewRow, 'bound_t' | 'bound_i'>,
  ): { db: ViewDb; row: ViewRow } | null {
    const path = this.fileOf(base);
    if (!path || this.leases.has(base.id) || this.cursors.countView(base.id) > 0) return null;
    this.closeHandle(base.id); // this engine's own shared lock
    let db: ViewDb | null = null;
    try {
      db = lockViewForMove(path);
    } catch (err) {
      // Gone or damaged since it was looked at (another engine's eviction): the caller's check of
      // the base then discards it.
      if (isDamage(err) || (err as { code?: string }).code === 'SQLITE_CANTOPEN') return null;
      throw err;
    }
    if (!db) return null;
    const row = takeOverView(this.index(), base, point);
    if (!row) db.close();
    return row ? { db, row } : null;
  }

  /** Waits for this engine's moves in place of a snapshot (cancellable meanwhile). */
  private async afterMoves(snapshotKey: string, ctx: BuildProgress | undefined): Promise<void> {
    for (let move = this.moves.get(snapshotKey); move; move = this.moves.get(snapshotKey)) {
      ctx?.progress({ message: 'waiting for the view being moved forward' });
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([move, new Promise<void>((r) => (timer = setTimeout(r, 250)))]);
      clearTimeout(timer);
      ctx?.throwIfCancelled();
      // The move's own requests read its result first (handOut's lease ends at this turn's end).
      if (!this.moves.has(snapshotKey)) await new Promise<void>((r) => setImmediate(r));
    }
  }

  /** A taken view whose file is unchanged gets its row back; whether it did (else it is removed). */
  private giveBack(moving: { db: ViewDb; row: ViewRow }, base: ViewRow): boolean {
    try {
      moving.db.close();
      const st = statSync(join(this.dir, base.file));
      if (st.size !== base.bytes || st.mtimeMs !== base.file_mtime_ms) return false;
      return giveBackView(this.index(), moving.row.id, base);
    } catch {
      return false; // removed as any failed build is
    }
  }

  /** The ready, trusted view of exactly this point, if the cache has it (nothing is built). */
  existing(sourceId: string, snapshotId: string, ts: { t: number; i: number }): ViewRow | undefined {
    if (!this.exists()) return undefined;
    const row = viewAt(this.index(), sourceId, snapshotId, ts.t, ts.i);
    return row && this.trusted(row) && this.readable(row) ? row : undefined;
  }

  /** Whether a ready view's file is still the one built; a changed or missing one is marked damaged and removed. */
  private trusted(row: ViewRow): boolean {
    const path = this.fileOf(row);
    let ok = false;
    if (path)
      try {
        const st = statSync(path);
        ok = st.size === row.bytes && st.mtimeMs === row.file_mtime_ms;
      } catch {
        // missing: not trusted
      }
    if (!ok) this.discard(row);
    return ok;
  }

  /** A damaged view: marked, then removed (the next query builds it again). */
  discard(row: ViewRow): void {
    markViewDamaged(this.index(), row.id);
    this.remove(row);
  }

  /**
   * Whether a view's file opens as this engine's format and names its row (then it stays open for
   * the read that follows); one that does not has been discarded. An older engine's file is built
   * again, never read nor moved forward.
   */
  private readable(row: ViewRow): boolean {
    try {
      this.open(row);
      return true;
    } catch (err) {
      if (isDamage(err)) return false;
      throw err;
    }
  }

  /** The view's file opened to read (one connection per view per engine run). */
  open(row: ViewRow): ViewDb {
    const open = this.handles.get(row.id);
    // A handle whose read transaction SQLite ended (a failed statement may roll it back) holds no
    // lock any more, and a move in place could take its file: opened again, and checked again.
    if (open?.inTransaction) return open;
    if (open) this.closeHandle(row.id);
    let db: ViewDb | null = null;
    try {
      const path = this.fileOf(row);
      if (!path) throw Object.assign(new Error('view row names no view file'), { code: 'VIEW_DAMAGED' });
      try {
        db = openViewForRead(path, false);
      } catch (err) {
        // Gone since its row was read (evicted or dropped by another engine): as damaged, built again.
        if ((err as { code?: string }).code === 'SQLITE_CANTOPEN' && !existsSync(path))
          throw Object.assign(new Error('view file missing'), { code: 'VIEW_DAMAGED' });
        throw err;
      }
      const meta = readMeta(db);
      if (meta[MOVING_KEY] !== undefined)
        throw Object.assign(new Error(`view file half moved forward from ${meta[MOVING_KEY]}`), {
          code: 'VIEW_MOVED',
        });
      if (meta.format !== VIEW_FORMAT)
        throw Object.assign(new Error(`view file of format ${meta.format ?? '?'}, not ${VIEW_FORMAT}`), {
          code: 'VIEW_DAMAGED',
        });
      if (
        meta.snapshotId !== row.snapshot_id ||
        meta.boundT !== String(row.bound_t) ||
        meta.boundI !== String(row.bound_i)
      )
        throw Object.assign(new Error('view file does not match its index row'), { code: 'VIEW_DAMAGED' });
    } catch (err) {
      db?.close();
      const code = (err as { code?: string }).code;
      // Held by a move in place since this row was read (its row is gone, or about to be), or
      // left half moved by a mover that stopped or died (its 'building' row names the file, and
      // the next sweep removes both): the read starts again from the plan, as after damage. Not
      // discarded: the file is the move's (remove() keeps a file another row names).
      if (code === 'SQLITE_BUSY')
        throw Object.assign(new Error('the view is being moved forward in place: run the query again'), {
          code: 'VIEW_MOVED',
        });
      if (isDamage(err)) this.discard(row);
      throw err;
    }
    this.handles.set(row.id, db);
    return db;
  }

  /** Removes views unused for longer than the age limit, then the least recently used beyond the size limit. */
  evict(policy: CachePolicy, keep?: number): ViewRow[] {
    const rows = this.list().filter((r) => r.state === 'ready');
    const evicted: ViewRow[] = [];
    const cutoff = Date.now() - policy.maxAgeDays * 86_400_000;
    let total = rows.reduce((n, r) => n + r.bytes, 0);
    for (const r of rows) {
      if (r.id !== keep && Date.parse(r.last_used_at) < cutoff) {
        this.remove(r);
        evicted.push(r);
        total -= r.bytes;
      }
    }
    // Newest use first: drop from the end.
    for (const r of [...rows].reverse()) {
      if (total <= policy.maxBytes) break;
      if (r.id === keep || evicted.includes(r)) continue;
      this.remove(r);
      evicted.push(r);
      total -= r.bytes;
    }
    return evicted;
  }

  // ---- the per-segment _id index, for document history ----

  // A capture journal still grows, so its _ids are never final: never indexed, always read.
  segmentIndexed(repositoryId: string, path: string, payload: string): { commands: boolean } | null {
    return isJournalPath(path) ? null : isSegmentIndexed(this.index(), repositoryId, path, payload);
  }

  /**
   * Records the _ids a segment read whole touches. Never throws: the index is a cache, and a
   * build or a history that read the segment must not fail because its record could not be kept
   * (another engine holding the file past the busy timeout, a full disk); the segment is read
   * whole again next time. The record is one transaction, so it is there entirely or not at all.
   */
  recordSegment(
    repositoryId: string,
    path: string,
    hashes: Iterable<number>,
    commands: boolean,
    payload: string,
  ): void {
    if (isJournalPath(path)) return;
    try {
      recordSegmentIds(this.index(), repositoryId, path, hashes, commands, payload);
    } catch {
      // Not indexed: the next history reads this segment whole.
    }
  }

  /**
   * Segments deleted from a repository (retention, segment.delete): their rows leave the index. A
   * cache that was never opened has nothing to forget, and is not created for it. Never throws:
   * the deletion it follows has happened, and rows left behind are only garbage, since a history
   * reads just the segments of its window.
   */
  forgetSegments(repositoryId: string, paths: string[]): void {
    if (paths.length === 0 || (!this.db && !existsSync(join(this.dir, INDEX_FILE)))) return;
    try {
      forgetSegments(this.index(), repositoryId, paths);
    } catch {
      // A busy or full disk: the records stay, never read (a history reads only its window's segments).
    }
  }

  segmentsTouching(repositoryId: string, hash: number): Set<string> {
    return segmentsTouching(this.index(), repositoryId, hash);
  }

  close(): void {
    this.cursors.closeAll();
    for (const h of this.handles.values()) h.close();
    this.handles.clear();
    this.db?.close();
    this.db = null;
  }

  /** Whether the cache directory exists at all (nothing to list before the first view). */
  exists(): boolean {
    return existsSync(this.dir);
  }
}

function alive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
