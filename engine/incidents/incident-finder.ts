/**
 * Keeps each source's findings current: scans segments in chain order from
 * where the last scan stopped (incident_scans), one segment per catalog
 * transaction (findings and the resume point together, so a crash or a
 * restart resumes exactly there), and starts over when the catalog was
 * rebuilt, the thresholds changed or a segment appeared behind the scan.
 *
 * Capture and imports tell it about each new segment (BackupStore's
 * listener) with the entries still in memory, so the file is not read
 * again, and those are scanned in a worker thread of their own
 * (scan-pool.ts): the scan costs about as much CPU as compressing the
 * segment, and on the engine's thread it held up the next seal and the
 * oplog reading. Anything else (start-up, a rebuild) is read from the
 * repository and scanned here. Work runs in the background, one segment at a
 * time per source in chain order, and never delays the capture that wrote
 * the segment; findings and the resume point are stored here, on the
 * engine's thread, as before. A crash between a seal and its scan loses
 * nothing: the resume point is still before that segment, and start-up's
 * catchUp reads it from its file.
 *
 * A segment is sealed up to `segmentSeconds` after its entries were
 * captured; what capture has made durable meanwhile is in the capture
 * journal. So that a dropDatabase shows within about a second of becoming
 * durable, each group commit (the `capture.segment` event, no call from the
 * capture loop) schedules a scan of the journal's durable tail (its records
 * up to the catalog row's durable last ts), from a copy of the stored scan
 * state: a mass delete that began in the last sealed segment goes on
 * counting in the journal. Its findings are stored, its state is not: the
 * resume point stays at the last sealed segment, whose scan later reads the
 * same entries from the same state and upserts the same keys (kind, first
 * ts, namespace), so nothing is reported twice. Between two seals the tail
 * scan goes on from where the previous one stopped (a TailCursor: its scanner
 * and each journal's read position), so each entry is read and scanned once
 * there, not at every group commit: rescanning the growing tail four times a
 * second cost as much CPU as all the rest of capture. The records come from
 * memory when capture handed them on as it committed them (journalRecord), so
 * the file this process just wrote is not read back; a journal with a record
 * missing there is read from its file. And the seal of a journal whose entries
 * the tail scan read already takes its scan from the tail cursor
 * (takeTailScan) instead of scanning them a second time in the worker.
 *
 * A read-only engine (a CLI beside a running serve) writes nothing: `view`
 * scans what is not yet stored in memory and returns the findings as a
 * complete scan would.
 */
import { ApiError } from '../errors.js';
import {
  incidentRow,
  type IncidentRow,
  countSegmentsAfter,
  forgetIncidents,
  incidentScan,
  saveIncidentScan,
  segmentRegisteredBehind,
  segmentsAfter,
  saveTailFindings,
  type ScanSegmentRow,
} from '../catalog/incidents.js';
import type { CatalogDb } from '../catalog/open-catalog.js';
import { readSettings } from '../catalog/settings-store.js';
import { getSourceByName, sourceNameById } from '../catalog/sources.js';
import { compareOpTime, formatOpTime, type OpTime } from '../repo/optime.js';
import { readJournal, type JournalPosition } from '../repo/journal-file.js';
import { concatShared, scanSegment } from '../repo/segment-file.js';
import { readEntryTs, splitBsonDocuments } from '../repo/bson-entries.js';
import { asBuffer } from '../oplog/bson-raw.js';
import type { JournalRecord } from '../source/oplog-capture.js';
import { INDEX_WORDS } from '../oplog/entry-summary.js';
import type { Repository } from '../repo/repository.js';
import { prestartScanWorker, scanPayloadInWorker, type SegmentScanResult } from './scan-pool.js';
import { journalLast, journalRowsOfSource } from '../catalog/journals.js';
import type { StoreRegistry } from '../store/store-registry.js';
import type { EventBus } from '../events.js';
import {
  IncidentScanner,
  emptyScanState,
  type Finding,
  type ScanChanges,
  type ScanState,
  type Thresholds,
} from './incident-scanner.js';

export interface IncidentFinderDeps {
  catalog: CatalogDb;
  stores: StoreRegistry;
  events: EventBus;
  readOnly: boolean;
}

/** Segments read per catalog query while catching up. */
const BATCH = 200;
/**
 * Entries of new segments kept in memory until scanned, at most: while a long rescan runs,
 * capture goes on, and the newer segments are then read from their files instead.
 */
const FRESH_MAX_BYTES = 64 * 1024 * 1024;
/**
 * A journal tail scan runs this long after the group commit that asks for it; the commits
 * meanwhile (5/s at most by default) join it, so the journal is read at most ~4 times a second.
 */
const TAIL_DELAY_MS = 250;

interface Resume {
  state: ScanState;
  through: OpTime | null;
  maxSegmentId: number;
  segments: number;
}

/**
 * Where the tail scan of a source stands between two seals: the scanner (from the stored state of
 * `basis`) and, per journal, the record boundary read to and the last entry scanned. Valid while
 * the stored state it started from is the current one: a seal or new thresholds start a new one.
 */
interface TailCursor {
  basis: string;
  scanner: IncidentScanner;
  journals: Map<string, TailJournal>;
  /** The first journal it pushed entries of: the segment sealed from it needs no second scan. */
  firstJournal: TailFirstJournal | null;
}

/** Where a tail cursor stands in one journal. */
interface TailJournal {
  /** The file read to this record boundary (when read from the file). */
  position: JournalPosition | undefined;
  /** Records handed on by capture taken so far (when read from memory). */
  records: number;
  /** The last entry pushed. */
  scanned: OpTime | null;
}

/** A record of a journal to scan: its entries, its last ts and the last ts before it (when known). */
interface TailRecord {
  payload: Uint8Array;
  /** Capture's entry index of the payload (JournalRecord.entries), when it came from memory. */
  entries: Uint32Array | undefined;
  end: OpTime;
  prev: OpTime | null;
}

/**
 * The records of a journal file this process's capture wrote, as its commits handed them on
 * (JournalRecord), from the file's first: the tail scan takes them from here instead of reading
 * the file back. `broken` once one was missed (a commit not handed on): the file is read then.
 */
interface HeldJournal {
  records: { payload: Uint8Array; entries: Uint32Array | undefined; last: OpTime }[];
  count: number;
  broken: boolean;
}

/**
 * What a tail cursor pushed of the first journal after its basis (its entries come first, from
 * the basis's stored state, as the scan of the segment sealed from that journal reads them). Once
 * an entry of a later journal is pushed, the scan as it stood at the end of this one is kept
 * (`done`, a deep copy: the scanner goes on changing its findings).
 */
interface TailFirstJournal {
  path: string;
  /** Entries pushed and their bytes; -1 when its entries did not come in one run (never matches). */
  count: number;
  bytes: number;
  first: OpTime | null;
  last: OpTime | null;
  done: SegmentScanResult | null;
}

/** What a tail cursor starts from: the stored scan (resume point, segments) and the thresholds. */
const basisOf = (through: OpTime | null, segments: number, limits: Thresholds): string =>
  `${through ? formatOpTime(through) : '-'} ${segments} ${limits.documents} ${limits.seconds}`;

/**
 * At most this share of a segment's entries is scanned on the engine's thread when a seal comes
 * before the tail scan read its journal's last records; more goes to the scan worker.
 */
const TAIL_REST_SHARE = 0.25;

export interface ScanStatus {
  /** Last ts of the last segment scanned; null before the first. */
  through: OpTime | null;
  /** Segments not scanned yet (new ones, or all of them after a rebuild or a change of thresholds). */
  pending: number;
  thresholds: Thresholds;
}

export class IncidentFinder {
  /** The tail of each source's queue of scans (they run one after another). */
  private readonly queues = new Map<string, Promise<void>>();
  /** Payloads (entries, concatenated) of segments just appended, by path, until scanned. */
  private readonly fresh = new Map<string, Uint8Array>();
  private freshBytes = 0;
  private stopped = false;
  /**
   * Segments scanned in this run: from the entries capture had in hand or read from their files,
   * in the scan worker; or taken over from the journal tail scan that had scanned them already.
   */
  readonly scanned = { fromMemory: 0, fromFiles: 0, fromTail: 0 };
  /** Journal tail scans in this run, and the entries they scanned (each once between two seals). */
  tailScans = 0;
  tailEntries = 0;
  /** Per source, the tail scan asked for and not started yet. */
  private readonly tailTimers = new Map<string, NodeJS.Timeout>();
  /** Per source, the findings the last tail scan stored (as text): an unchanged one is no event. */
  private readonly tailSeen = new Map<string, Map<string, string>>();
  /** Per source, where its tail scan stands (kept only after a scan that completed). */
  private readonly tailCursors = new Map<string, TailCursor>();
  /** Per source and journal file, the durable records capture handed on (until it is sealed). */
  private readonly records = new Map<string, Map<string, HeldJournal>>();

  constructor(private readonly deps: IncidentFinderDeps) {
    if (!deps.readOnly)
      deps.events.subscribe((e) => {
        if (e.event === 'capture.segment') this.journalMoved((e.payload as { sourceId: string }).sourceId);
      });
  }

  /**
   * Capture's commit made a journal record durable (its tail is in the catalog): kept, so that the
   * tail scan reads it from memory. Records are taken from a file's first one and in order only;
   * after a gap the file is read instead.
   */
  journalRecord(sourceId: string, record: JournalRecord): void {
    if (this.deps.readOnly || this.stopped) return;
    let held = this.records.get(sourceId);
    if (!held) this.records.set(sourceId, (held = new Map()));
    let j = held.get(record.path);
    if (!j) held.set(record.path, (j = { records: [], count: 0, broken: false }));
    if (j.broken) return;
    if (record.countBefore !== j.count) {
      j.broken = true;
      j.records = [];
      return;
    }
    j.records.push({ payload: record.payload, entries: record.entries, last: record.last });
    j.count += record.count;
  }

  /**
   * The records of a journal after where `at` stands: from what capture handed on when it has
   * them all, else read (and checked) from the file, on from the last record boundary read. `at`
   * moves to the end of the last record through `last` (one past it is taken again next time).
   */
  private tailRecords(
    repo: Repository,
    sourceId: string,
    path: string,
    at: TailJournal,
    last: OpTime,
  ): TailRecord[] {
    const held = this.records.get(sourceId)?.get(path);
    if (held && !held.broken && at.position === undefined) {
      const out: TailRecord[] = [];
      for (let k = at.records; k < held.records.length; k++) {
        const r = held.records[k]!;
        out.push({
          payload: r.payload,
          entries: r.entries,
          end: r.last,
          prev: k > 0 ? held.records[k - 1]!.last : null,
        });
        if (compareOpTime(r.last, last) <= 0) at.records = k + 1;
      }
      return out;
    }
    const scan = readJournal(repo, path, at.position);
    if (scan.end === 'damaged') throw new ApiError('CORRUPT', `${path}: ${scan.damage}`);
    const out = scan.payloads.map((payload, k) => ({
      payload,
      entries: undefined,
      end: scan.positions[k]!.lastTs!, // a record holds at least one entry
      prev: k > 0 ? scan.positions[k - 1]!.lastTs : scan.resumed ? at.position!.lastTs : null,
    }));
    at.position =
      scan.positions.findLast((p) => p.lastTs && compareOpTime(p.lastTs, last) <= 0) ?? at.position;
    return out;
  }

  /** A group commit made more of the source's journal durable: scan its tail soon. */
  journalMoved(sourceId: string): void {
    if (this.deps.readOnly || this.stopped || this.tailTimers.has(sourceId)) return;
    prestartScanWorker(); // capture runs: its first segment will be scanned there soon
    const timer = setTimeout(() => {
      this.tailTimers.delete(sourceId);
      void this.scanJournalTail(sourceId).catch((err: unknown) => {
        console.error(`[incidents] journal tail scan of ${sourceId} failed: ${(err as Error).message}`);
      });
    }, TAIL_DELAY_MS);
    timer.unref();
    this.tailTimers.set(sourceId, timer);
  }

  /**
   * The journal's durable tail, once every sealed segment is scanned (a segment being sealed is
   * scanned from the entries in hand by its own catchUp, which asks for the tail again after it);
   * resolves once its findings are stored.
   */
  scanJournalTail(sourceId: string): Promise<void> {
    if (this.deps.readOnly) return Promise.resolve();
    return this.enqueue(sourceId, () => this.scanTail(sourceId));
  }

  thresholds(): Thresholds {
    const s = readSettings(this.deps.catalog);
    return { documents: s.incidentDocuments, seconds: s.incidentSeconds };
  }

  /** BackupStore's listener: a segment is durable; scan it soon, from the entries in hand. */
  segmentAppended(sourceId: string, path: string, payload: Uint8Array): void {
    if (this.deps.readOnly || this.stopped) return;
    const bytes = payload.byteLength;
    if (this.freshBytes + bytes <= FRESH_MAX_BYTES) {
      this.fresh.set(path, payload);
      this.freshBytes += bytes;
    }
    void this.catchUp(sourceId).then(
      () => this.journalMoved(sourceId), // what was journaled while the segment waited
      (err: unknown) => {
        console.error(`[incidents] scan of ${sourceId} failed: ${(err as Error).message}`);
      },
    );
  }

  /** Scans what the source's scan has not seen yet; resolves once it is stored. Serialized per source. */
  catchUp(sourceId: string): Promise<void> {
    if (this.deps.readOnly) return Promise.resolve();
    return this.enqueue(sourceId, () => this.scanPending(sourceId, true));
  }

  /** Runs `work` after the source's queued scans (one at a time per source). */
  private enqueue(sourceId: string, work: () => Promise<void>): Promise<void> {
    const prev = this.queues.get(sourceId) ?? Promise.resolve();
    const next = prev
      .catch(() => undefined)
      .then(() => (this.stopped ? undefined : work()))
      .then(() => undefined);
    this.queues.set(sourceId, next);
    const done = () => {
      if (this.queues.get(sourceId) === next) this.queues.delete(sourceId);
    };
    next.then(done, done); // the caller handles a failure; this only clears the queue
    return next;
  }

  /** Waits for every scan under way (engine close). No new scan starts afterwards. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.tailTimers.values()) clearTimeout(t);
    this.tailTimers.clear();
    this.tailCursors.clear();
    this.records.clear();
    while (this.queues.size) await Promise.allSettled([...this.queues.values()]);
    this.fresh.clear();
    this.freshBytes = 0;
  }

  /** Where the scan of a source stands. */
  status(sourceId: string): ScanStatus {
    const resume = this.resumePoint(sourceId, this.thresholds());
    return {
      through: resume.through,
      pending: countSegmentsAfter(this.deps.catalog, sourceId, resume.through),
      thresholds: this.thresholds(),
    };
  }

  /**
   * For a read-only engine: the findings a complete scan would store that are not stored yet
   * (scanned in memory from the stored resume point), and the keys of stored ones they replace;
   * `startedOver` when the stored findings are stale as a whole (thresholds changed, rebuilt).
   */
  async unsaved(
    sourceId: string,
  ): Promise<{ upserts: Finding[]; removed: Set<string>; startedOver: boolean }> {
    const out = { upserts: new Map<string, Finding>(), removed: new Set<string>() };
    const startedOver = this.resumePoint(sourceId, this.thresholds()).through === null;
    await this.scan(sourceId, false, (changes) => {
      for (const k of changes.removed) {
        out.upserts.delete(k);
        out.removed.add(k);
      }
      for (const [k, f] of changes.upserts) out.upserts.set(k, f);
    });
    return { upserts: [...out.upserts.values()], removed: out.removed, startedOver };
  }

  private requeue(sourceId: string): void {
    setImmediate(() => {
      if (!this.stopped)
        void this.catchUp(sourceId).catch((err: unknown) => {
          console.error(`[incidents] scan of ${sourceId} failed: ${(err as Error).message}`);
        });
    });
  }

  private scanPending(sourceId: string, persist: boolean): Promise<void> {
    return this.scan(sourceId, persist, () => undefined);
  }

  /** Where to resume, or a fresh start when the stored scan cannot be trusted any more (other limits or rules). */
  private resumePoint(sourceId: string, limits: Thresholds): Resume {
    const row = incidentScan(this.deps.catalog, sourceId);
    const fresh: Resume = { state: emptyScanState(), through: null, maxSegmentId: 0, segments: 0 };
    if (!row) return fresh;
    const through = { t: row.through_t, i: row.through_i };
    if (row.thresholds_json !== scanRules(limits)) return fresh;
    if (segmentRegisteredBehind(this.deps.catalog, sourceId, through, row.max_segment_id)) return fresh;
    return {
      state: JSON.parse(row.state_json) as ScanState,
      through,
      maxSegmentId: row.max_segment_id,
      segments: row.segments,
    };
  }

  private async scan(
    sourceId: string,
    persist: boolean,
    afterSegment: (changes: ScanChanges) => void,
  ): Promise<void> {
    const db = this.deps.catalog;
    const limits = this.thresholds();
    const resume = this.resumePoint(sourceId, limits);
    const stored = incidentScan(db, sourceId);
    if (persist && stored && resume.through === null) forgetIncidents(db, sourceId); // starting over
    const thresholdsJson = scanRules(limits);
    let state = resume.state;
    let { through, maxSegmentId, segments } = resume;
    for (;;) {
      const batch = segmentsAfter(db, sourceId, through, BATCH);
      if (batch.length === 0) return;
      for (const seg of batch) {
        if (this.stopped && persist) return;
        const scanned =
          (persist && this.takeTailScan(sourceId, seg, basisOf(through, segments, limits), limits)) ||
          (await this.scanOne(sourceId, seg, state, limits));
        if (scanned === 'locked') return; // an encrypted repository without its key: later
        const { changes, unreadable } = scanned;
        if (unreadable)
          console.error(`[incidents] ${seg.path}: ${unreadable} entries could not be read, skipped`);
        state = scanned.state;
        through = { t: seg.last_t, i: seg.last_i };
        maxSegmentId = Math.max(maxSegmentId, seg.id);
        segments++;
        if (persist) {
          const saved = saveIncidentScan(
            db,
            sourceId,
            segments - 1,
            { through, maxSegmentId, segments, thresholdsJson, stateJson: JSON.stringify(state) },
            changes.upserts.values(),
            changes.removed,
          );
          if (!saved) {
            // Someone reset the scan meanwhile (catalog rebuild): what this loop holds is stale.
            this.requeue(sourceId);
            return;
          }
          const changed = changes.upserts.size + changes.removed.size;
          const name = changed ? sourceNameById(db, sourceId) : null;
          if (name) this.deps.events.publish('incident.found', { sourceId, source: name, changed });
        }
        afterSegment(changes);
      }
    }
  }

  /**
   * The journal's durable tail after the last scanned segment, scanned from a copy of the stored
   * state; its findings stored (and those it takes in removed), the state and resume point not.
   * Runs only once every sealed segment is scanned, so that the tail follows the stored state.
   */
  private async scanTail(sourceId: string): Promise<void> {
    const db = this.deps.catalog;
    const limits = this.thresholds();
    const resume = this.resumePoint(sourceId, limits);
    if (countSegmentsAfter(db, sourceId, resume.through) > 0) return; // a segment scan comes first
    const after = resume.through;
    const rows = journalRowsOfSource(db, sourceId);
    const held = this.records.get(sourceId);
    if (held) for (const path of held.keys()) if (!rows.some((j) => j.path === path)) held.delete(path); // sealed
    const journals = rows.filter((j) => !after || compareOpTime(journalLast(j), after) > 0);
    if (journals.length === 0) return;
    const name = sourceNameById(db, sourceId);
    if (name === null) return;
    // Scanned here: copying the tail into the scan worker at each group commit would cost more
    // CPU in all than the scan itself saves this thread. Only what came since the last tail scan
    // is read and scanned, from where that one stopped.
    const basis = basisOf(after, resume.segments, limits);
    const kept = this.tailCursors.get(sourceId);
    this.tailCursors.delete(sourceId); // kept again only once this scan completes
    const cursor: TailCursor =
      kept?.basis === basis
        ? kept
        : {
            basis,
            scanner: new IncidentScanner(structuredClone(resume.state), limits),
            journals: new Map(),
            firstJournal: null,
          };
    try {
      const store = await this.deps.stores.get(getSourceByName(db, name).repository_id);
      for (const j of journals) {
        // Durable through the row's last ts (a record written but not yet in the catalog waits).
        const last = journalLast(j);
        const at: TailJournal = cursor.journals.get(j.path) ?? {
          position: undefined,
          records: 0,
          scanned: null,
        };
        const records = this.tailRecords(store.repo, sourceId, j.path, at, last);
        const from = at.scanned && (!after || compareOpTime(at.scanned, after) > 0) ? at.scanned : after;
        for (const { payload, entries, end, prev } of records) {
          if (from && compareOpTime(end, from) <= 0) continue; // scanned already
          // Its entries follow the record before it (or the position this read went on from): a
          // record wholly after `from` and through `last` is pushed without reading each ts.
          const whole =
            compareOpTime(end, last) <= 0 && (!from || (prev !== null && compareOpTime(prev, from) >= 0));
          if (entries && this.pushIndexed(cursor, j.path, at, payload, entries, whole, from, last)) {
            if (whole) at.scanned = end;
            continue;
          }
          for (const e of splitBsonDocuments(payload, j.path)) {
            if (whole) {
              this.pushTail(cursor, j.path, e, null);
              continue;
            }
            const ts = readEntryTs(e);
            if ((!from || compareOpTime(ts, from) > 0) && compareOpTime(ts, last) <= 0) {
              this.pushTail(cursor, j.path, e, ts);
              at.scanned = ts;
            }
          }
          if (whole) at.scanned = end;
        }
        if (cursor.firstJournal?.path === j.path && cursor.firstJournal.count >= 0)
          cursor.firstJournal.last = at.scanned;
        cursor.journals.set(j.path, at);
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return; // sealed meanwhile: its segment scan follows
      const code = (err as ApiError).code;
      if (code === 'LOCKED' || code === 'WRONG_PASSPHRASE') return;
      if (!(err instanceof ApiError)) throw err;
      // Damaged: the segment scan reads what is kept.
      console.error(`[incidents] journal tail of ${name} not scanned: ${err.message}`);
      return;
    }
    // Journals sealed since are behind the basis: a seal changes it, so none is left here.
    this.tailCursors.set(sourceId, cursor);
    const scanner = cursor.scanner;
    this.tailScans++;
    const seen = this.tailSeen.get(sourceId) ?? new Map<string, string>();
    const changed =
      [...scanner.changes.upserts].filter(([k, f]) => seen.get(k) !== JSON.stringify(f)).length +
      [...scanner.changes.removed].filter((k) => seen.has(k)).length;
    if (
      !saveTailFindings(
        db,
        sourceId,
        resume.segments,
        scanner.changes.upserts.values(),
        scanner.changes.removed,
      )
    )
      return this.requeue(sourceId);
    // What the next tail scan compares with: this one's findings (older ones are sealed by now).
    this.tailSeen.set(
      sourceId,
      new Map([...scanner.changes.upserts].map(([k, f]) => [k, JSON.stringify(f)])),
    );
    if (changed) this.deps.events.publish('incident.found', { sourceId, source: name, changed });
  }

  /**
   * Pushes a record's entries (those after `from` and through `last`, or all when `whole`) with
   * the entry index capture handed on with it: each entry's ts is read from there, and an entry
   * whose summary says the scan only notes its ts (IncidentScanner.pass: inserts, no-ops, nearly
   * every entry) is not parsed at all, nor is a view made of it. The same pushes, in the same
   * order, as the loop over the payload would make. False, with nothing pushed, when the index
   * does not describe the payload (entry count and lengths): the payload is then read as before.
   */
  private pushIndexed(
    cursor: TailCursor,
    path: string,
    at: TailJournal,
    payload: Uint8Array,
    index: Uint32Array,
    whole: boolean,
    from: OpTime | null,
    last: OpTime,
  ): boolean {
    const n = index.length / INDEX_WORDS;
    if (!Number.isInteger(n)) return false;
    const bytes = asBuffer(payload);
    let off = 0;
    for (let k = 0; k < n; k++) {
      if (bytes.length - off < 5) return false;
      const len = bytes.readInt32LE(off);
      if (len < 5 || len > bytes.length - off) return false;
      off += len;
    }
    if (off !== bytes.length) return false;
    off = 0;
    let pushed = -1;
    for (let k = 0, w = 0; k < n; k++, w += INDEX_WORDS) {
      const len = bytes.readInt32LE(off);
      const t = index[w]!;
      const i = index[w + 1]!;
      if (
        whole ||
        ((!from || t > from.t || (t === from.t && i > from.i)) &&
          (t < last.t || (t === last.t && i <= last.i)))
      ) {
        if (this.countTail(cursor, path, len)) cursor.firstJournal!.first = { i, t };
        if (!cursor.scanner.pass(index[w + 2]!, t, i)) cursor.scanner.push(bytes.subarray(off, off + len));
        this.tailEntries++;
        pushed = w;
      }
      off += len;
    }
    if (pushed >= 0 && !whole) at.scanned = { i: index[pushed + 1]!, t: index[pushed]! };
    return true;
  }

  /** Pushes one journal entry (`ts` when already read) into a tail cursor's scanner. */
  private pushTail(cursor: TailCursor, path: string, e: Uint8Array, ts: OpTime | null): void {
    if (this.countTail(cursor, path, e.byteLength)) cursor.firstJournal!.first = ts ?? readEntryTs(e);
    cursor.scanner.push(e);
    this.tailEntries++;
  }

  /**
   * Counts an entry of `path` (of `bytes`) about to be pushed into the cursor's first-journal
   * record (TailFirstJournal); true when it is that journal's first entry, whose ts the caller sets.
   */
  private countTail(cursor: TailCursor, path: string, bytes: number): boolean {
    const fj = (cursor.firstJournal ??= { path, count: 0, bytes: 0, first: null, last: null, done: null });
    if (fj.path === path) {
      if (fj.done) {
        fj.count = -1; // its entries again after a later journal's: not one run
        return false;
      }
      fj.count++;
      fj.bytes += bytes;
      return fj.first === null;
    }
    if (!fj.done) {
      const scanner = cursor.scanner;
      fj.done = structuredClone({
        state: scanner.state,
        changes: scanner.changes,
        unreadable: scanner.unreadable,
      });
    }
    return false;
  }

  /**
   * The scan of a segment just sealed, taken from the source's tail cursor when that one scanned
   * exactly its entries already: the cursor started from the stored scan this segment follows
   * (`basis`), and the first journal it pushed holds this segment's entries (same first and last
   * ts, count and bytes). A seal that came before the tail scan read the journal's last records is
   * completed here from the entries in hand, when few are left and the cursor is still at that
   * journal's end. The result is what the scan worker would return: the same entries pushed in
   * the same order from the same state. Null (the worker scans it) when anything differs. Either
   * way the cursor is dropped: once this segment's scan is stored, its basis is gone.
   */
  private takeTailScan(
    sourceId: string,
    seg: ScanSegmentRow,
    basis: string,
    limits: Thresholds,
  ): SegmentScanResult | null {
    const cursor = this.tailCursors.get(sourceId);
    if (!cursor || cursor.basis !== basis) return null;
    this.tailCursors.delete(sourceId);
    const fj = cursor.firstJournal;
    const payload = this.fresh.get(seg.path);
    const first = { t: seg.first_t, i: seg.first_i };
    const last = { t: seg.last_t, i: seg.last_i };
    if (!fj || !payload || fj.count <= 0 || !fj.first || !fj.last) return null;
    if (payload.byteLength !== seg.raw_bytes || compareOpTime(fj.first, first) !== 0) return null;
    let result: SegmentScanResult;
    if (fj.count === seg.entry_count) {
      if (fj.bytes !== seg.raw_bytes || compareOpTime(fj.last, last) !== 0) return null;
      result = fj.done ?? {
        state: cursor.scanner.state,
        changes: cursor.scanner.changes,
        unreadable: cursor.scanner.unreadable,
      };
    } else {
      // The journal's last records were not scanned yet: the rest of the segment, from the end of
      // what was (checked by its bytes and its last entry's ts).
      const rest = seg.entry_count - fj.count;
      if (fj.done || rest < 0 || rest > seg.entry_count * TAIL_REST_SHARE) return null;
      if (fj.bytes >= payload.byteLength) return null;
      const entries = splitBsonDocuments(payload.subarray(fj.bytes), seg.path);
      let n = 0;
      let ts: OpTime | null = null;
      try {
        for (const e of entries) {
          ts = readEntryTs(e);
          if (n === 0 && compareOpTime(ts, fj.last) <= 0) return null;
          cursor.scanner.push(e);
          n++;
        }
      } catch (err) {
        if (err instanceof ApiError) return null; // not whole entries there: the worker judges
        throw err;
      }
      if (n !== rest || !ts || compareOpTime(ts, last) !== 0) return null;
      result = {
        state: cursor.scanner.state,
        changes: cursor.scanner.changes,
        unreadable: cursor.scanner.unreadable,
      };
    }
    new IncidentScanner(result.state, limits).compact(); // as the worker leaves it
    this.fresh.delete(seg.path);
    this.freshBytes -= payload.byteLength;
    this.scanned.fromTail++;
    return result;
  }

  /**
   * Scans one segment from `state` (left as it is), in the scan worker: the entries in memory when
   * capture just wrote it, otherwise read (and checked) from its file first. A segment that cannot
   * be read is skipped, as a gap is: nothing of it counts, the entries before and after it are
   * still scanned.
   */
  private async scanOne(
    sourceId: string,
    seg: ScanSegmentRow,
    state: ScanState,
    limits: Thresholds,
  ): Promise<SegmentScanResult | 'locked'> {
    let payload = this.fresh.get(seg.path);
    if (payload) {
      this.fresh.delete(seg.path);
      this.freshBytes -= payload.byteLength;
      this.scanned.fromMemory++;
    } else {
      const read = await this.read(sourceId, seg);
      if (read === 'locked') return 'locked';
      if (read === 'skipped')
        return { state, changes: { upserts: new Map(), removed: new Set() }, unreadable: 0 };
      payload = read;
    }
    return this.scanPayload(state, limits, payload, seg.path);
  }

  /** Scans entries (concatenated) from `state` in the scan worker; here if the worker cannot. */
  private async scanPayload(
    state: ScanState,
    limits: Thresholds,
    payload: Uint8Array,
    label: string,
  ): Promise<SegmentScanResult> {
    try {
      return await scanPayloadInWorker(state, limits, payload, label);
    } catch (err) {
      // The worker died (or could not start): the same scan, here.
      console.error(`[incidents] scan worker: ${(err as Error).message}; scanning ${label} here`);
      const scanner = new IncidentScanner(structuredClone(state), limits);
      for (const e of splitBsonDocuments(payload, label)) scanner.push(e);
      scanner.compact();
      return { state: scanner.state, changes: scanner.changes, unreadable: scanner.unreadable };
    }
  }

  /** One segment's entries, read (and checked) from its file, concatenated for the scan worker. */
  private async read(sourceId: string, seg: ScanSegmentRow): Promise<Uint8Array | 'skipped' | 'locked'> {
    if (seg.status !== 'ok') return 'skipped';
    try {
      const name = sourceNameById(this.deps.catalog, sourceId);
      if (name === null) return 'locked'; // the source is gone: nothing left to scan
      const store = await this.deps.stores.get(getSourceByName(this.deps.catalog, name).repository_id);
      const entries: Uint8Array[] = [];
      // Entries are views into a frame: copied (once) into memory the worker reads without a copy.
      await scanSegment(store.repo, seg.path, (e) => entries.push(e));
      this.scanned.fromFiles++;
      return concatShared(entries);
    } catch (err) {
      const code = (err as ApiError).code;
      if (code === 'LOCKED' || code === 'WRONG_PASSPHRASE') return 'locked';
      if (!(err instanceof ApiError)) throw err;
      console.error(`[incidents] ${seg.path} skipped: ${err.message}`);
      return 'skipped';
    }
  }
}

/** A finding not stored yet, in the shape of its row (a read-only engine answers with these; ids < 0). */
export const findingRow = (sourceId: string, f: Finding, id: number): IncidentRow =>
  incidentRow(sourceId, f, id);

/**
 * What a stored scan was made with: the thresholds and the version of the rules. A scan of other
 * rules starts over, so that findings the scanner learnt to make (2: mass deletes and updates
 * done as many small transactions) are found in what was scanned before.
 */
const SCAN_RULES = 2;
function scanRules(limits: Thresholds): string {
  return JSON.stringify({ ...limits, rules: SCAN_RULES });
}
