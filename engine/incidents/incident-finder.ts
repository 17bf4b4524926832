/**
 * Keeps each source's findings current: scans segments in chain order from
 * where the last scan stopped (incident_scans), one segment per catalog
 * transaction (findings and the resume point together, so a crash or a
 * restart resumes exactly there), and starts over when the catalog was
 * rebuilt, the thresholds changed or a segment appeared behind the scan.
 *
 * Capture and imports tell it about each new segment (BackupStore's
 * listener) with the entries still in memory, so the file is not read
 * again; anything else (start-up, a rebuild) is read from the repository.
 * Work runs in the background, one source at a time in order, and never
 * delays the capture that wrote the segment.
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
  type ScanSegmentRow,
} from '../catalog/incidents.js';
import type { CatalogDb } from '../catalog/open-catalog.js';
import { readSettings } from '../catalog/settings-store.js';
import { getSourceByName, sourceNameById } from '../catalog/sources.js';
import type { OpTime } from '../repo/optime.js';
import { scanSegment } from '../repo/segment-file.js';
import type { StoreRegistry } from '../store/store-registry.js';
import type { EventBus } from '../events.js';
import {
  IncidentScanner,
  emptyScanState,
  type Finding,
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

interface Resume {
  state: ScanState;
  through: OpTime | null;
  maxSegmentId: number;
  segments: number;
}

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
  /** Entries of segments just appended, by path, until scanned. */
  private readonly fresh = new Map<string, readonly Uint8Array[]>();
  private freshBytes = 0;
  private stopped = false;
  /** Segments scanned in this run, from the entries capture had in hand or read from their files. */
  readonly scanned = { fromMemory: 0, fromFiles: 0 };

  constructor(private readonly deps: IncidentFinderDeps) {}

  thresholds(): Thresholds {
    const s = readSettings(this.deps.catalog);
    return { documents: s.incidentDocuments, seconds: s.incidentSeconds };
  }

  /** BackupStore's listener: a segment is durable; scan it soon, from the entries in hand. */
  segmentAppended(sourceId: string, path: string, entries: readonly Uint8Array[]): void {
    if (this.deps.readOnly || this.stopped) return;
    const bytes = entries.reduce((n, e) => n + e.byteLength, 0);
    if (this.freshBytes + bytes <= FRESH_MAX_BYTES) {
      this.fresh.set(path, entries);
      this.freshBytes += bytes;
    }
    void this.catchUp(sourceId).catch((err: unknown) => {
      console.error(`[incidents] scan of ${sourceId} failed: ${(err as Error).message}`);
    });
  }

  /** Scans what the source's scan has not seen yet; resolves once it is stored. Serialized per source. */
  catchUp(sourceId: string): Promise<void> {
    if (this.deps.readOnly) return Promise.resolve();
    const prev = this.queues.get(sourceId) ?? Promise.resolve();
    const next = prev
      .catch(() => undefined)
      .then(() => (this.stopped ? undefined : this.scanPending(sourceId, true)))
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
    await this.scan(sourceId, false, (scanner) => {
      for (const k of scanner.changes.removed) {
        out.upserts.delete(k);
        out.removed.add(k);
      }
      for (const [k, f] of scanner.changes.upserts) out.upserts.set(k, f);
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

  /** Where to resume, or a fresh start when the stored scan cannot be trusted any more. */
  private resumePoint(sourceId: string, limits: Thresholds): Resume {
    const row = incidentScan(this.deps.catalog, sourceId);
    const fresh: Resume = { state: emptyScanState(), through: null, maxSegmentId: 0, segments: 0 };
    if (!row) return fresh;
    const through = { t: row.through_t, i: row.through_i };
    if (row.thresholds_json !== JSON.stringify(limits)) return fresh;
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
    afterSegment: (scanner: IncidentScanner) => void,
  ): Promise<void> {
    const db = this.deps.catalog;
    const limits = this.thresholds();
    const resume = this.resumePoint(sourceId, limits);
    const stored = incidentScan(db, sourceId);
    if (persist && stored && resume.through === null) forgetIncidents(db, sourceId); // starting over
    const thresholdsJson = JSON.stringify(limits);
    let state = resume.state;
    let { through, maxSegmentId, segments } = resume;
    for (;;) {
      const batch = segmentsAfter(db, sourceId, through, BATCH);
      if (batch.length === 0) return;
      for (const seg of batch) {
        if (this.stopped && persist) return;
        const scanner = new IncidentScanner(structuredClone(state), limits);
        const read = await this.read(sourceId, seg, scanner);
        if (read === 'locked') return; // an encrypted repository without its key: later
        scanner.compact();
        if (scanner.unreadable)
          console.error(`[incidents] ${seg.path}: ${scanner.unreadable} entries could not be read, skipped`);
        state = scanner.state;
        through = { t: seg.last_t, i: seg.last_i };
        maxSegmentId = Math.max(maxSegmentId, seg.id);
        segments++;
        if (persist) {
          const saved = saveIncidentScan(
            db,
            sourceId,
            segments - 1,
            { through, maxSegmentId, segments, thresholdsJson, stateJson: JSON.stringify(state) },
            scanner.changes.upserts.values(),
            scanner.changes.removed,
          );
          if (!saved) {
            // Someone reset the scan meanwhile (catalog rebuild): what this loop holds is stale.
            this.requeue(sourceId);
            return;
          }
          const changed = scanner.changes.upserts.size + scanner.changes.removed.size;
          const name = changed ? sourceNameById(db, sourceId) : null;
          if (name) this.deps.events.publish('incident.found', { sourceId, source: name, changed });
        }
        afterSegment(scanner);
      }
    }
  }

  /**
   * Feeds one segment's entries to the scanner: the ones in memory when capture just wrote it,
   * otherwise read (and checked) from the file. A segment that cannot be read is skipped, as a
   * gap is: the entries before and after it are still scanned.
   */
  private async read(
    sourceId: string,
    seg: ScanSegmentRow,
    scanner: IncidentScanner,
  ): Promise<'ok' | 'skipped' | 'locked'> {
    const inMemory = this.fresh.get(seg.path);
    if (inMemory) {
      this.fresh.delete(seg.path);
      this.freshBytes -= inMemory.reduce((n, e) => n + e.byteLength, 0);
      for (const e of inMemory) scanner.push(e);
      this.scanned.fromMemory++;
      return 'ok';
    }
    if (seg.status !== 'ok') return 'skipped';
    const before = structuredClone(scanner.state);
    try {
      const name = sourceNameById(this.deps.catalog, sourceId);
      if (name === null) return 'locked'; // the source is gone: nothing left to scan
      const store = await this.deps.stores.get(getSourceByName(this.deps.catalog, name).repository_id);
      await scanSegment(store.repo, seg.path, (e) => scanner.push(e));
      this.scanned.fromFiles++;
      return 'ok';
    } catch (err) {
      const code = (err as ApiError).code;
      if (code === 'LOCKED' || code === 'WRONG_PASSPHRASE') return 'locked';
      if (!(err instanceof ApiError)) throw err;
      console.error(`[incidents] ${seg.path} skipped: ${err.message}`);
      // Nothing of a segment read halfway counts: back to the state before it.
      Object.assign(scanner.state, before);
      scanner.changes.upserts.clear();
      scanner.changes.removed.clear();
      return 'skipped';
    }
  }
}

/** A finding not stored yet, in the shape of its row (a read-only engine answers with these; ids < 0). */
export const findingRow = (sourceId: string, f: Finding, id: number): IncidentRow =>
  incidentRow(sourceId, f, id);
