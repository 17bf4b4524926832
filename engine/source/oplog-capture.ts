/**
 * Continuous oplog capture for one source (DESIGN.md rule 3). A tailable,
 * awaitData cursor reads `local.oplog.rs` from the last durable ts with
 * `ts >= last`, and the first entry it returns must be that same entry;
 * otherwise the oplog rolled over past our position: the next journal file
 * (and so the next segment) starts a new chain (a gap), a PITR_GAP alert is
 * raised and a new snapshot is requested.
 *
 * Durability is decoupled from segment size (repository format 3): entries,
 * kept as the raw BSON buffers the driver returns, are appended to the
 * source's capture journal in one record per group commit, fsynced every
 * `journalFsyncMs` (200 ms by default); an entry counts as captured (recovery
 * point, coverage, `latest`) once its record is durable and the journal's
 * tail is in the catalog. A journal file is closed by size or time (the
 * segment cut, 16 MB or 10 s) and sealed into its segment by the seal worker
 * thread (compression, encryption, hashing), so a slow seal never delays
 * reading or journaling; the file is removed only once its segment is durable
 * and registered. Anything read but not yet committed is read again from the
 * source after a crash; start-up seals what the journal holds
 * (store/journal-recovery.ts). Network errors are retried with back-off.
 *
 * A segment that cannot be written (full disk, read-only or vanished
 * repository) stops reading at once: the state becomes `write-failed` with the
 * cause in `lastError`, `onWriteFailed` raises the alert, and the loop retries
 * with back-off from the last durable entry, so once the cause is gone capture
 * resumes by itself, with no gap while the source's oplog still holds that entry.
 */
import { Timestamp, type MongoClient } from 'mongodb';
import { ApiError, fileSystemError } from '../errors.js';
import { readEntryWall } from '../repo/bson-entries.js';
import { EntrySummary, summarizeEntry } from '../oplog/entry-summary.js';
import { PendingEntries, SegmentBytes } from './pending-entries.js';
import { RoundTripEstimate, nextReadAt } from './read-pacing.js';
import { createHash, type Hash } from 'node:crypto';
import { JournalWriter, holdJournal } from '../repo/journal-file.js';
import { compareOpTime, formatOpTime, type OpTime } from '../repo/optime.js';
import { encodeSegmentInWorker, prestartSealWorker } from '../repo/seal-pool.js';
import { saveJournalTail } from '../catalog/journals.js';
import type { BackupStore } from '../store/backup-store.js';
import { recoverJournals, type JournalDamage } from '../store/journal-recovery.js';
import { toSourceError } from '../mongo/connect.js';
import { takeBufferedRaw } from '../mongo/raw-batch.js';

export interface CaptureOptions {
  segmentMaxBytes: number;
  segmentMaxMs: number;
  /** Group commit interval of the capture journal: what arrived meanwhile is fsynced together. */
  journalFsyncMs: number;
  /** How long a getMore waits for new entries. */
  awaitMs: number;
  backoffMinMs: number;
  backoffMaxMs: number;
}

export const DEFAULT_CAPTURE: CaptureOptions = {
  segmentMaxBytes: 16 * 1024 * 1024,
  segmentMaxMs: 10_000,
  journalFsyncMs: 200,
  awaitMs: 1000,
  backoffMinMs: 250,
  backoffMaxMs: 30_000,
};

export type CaptureState =
  | 'starting'
  | 'capturing'
  | 'paused'
  | 'reconnecting'
  /** The repository refused a journal record or a segment (ENOSPC, EROFS…): retrying, nothing new is durable. */
  | 'write-failed'
  | 'stopped';

export interface CaptureMetrics {
  state: CaptureState;
  /** Last ts that is durable in the repository. */
  capturedTs: OpTime | null;
  /** The source's newest oplog entry, as last seen. */
  sourceTs: OpTime | null;
  /** Seconds of writes that would be lost right now. */
  recoveryPointSeconds: number | null;
  /** Wall-clock time (ms) of the last durable entry, from its `wall` field. */
  capturedWall: number | null;
  entriesPerSecond: number;
  bytesPerSecond: number;
  segmentsWritten: number;
  gaps: number;
  lastError: string | null;
  /** Journal group commits (records written and fsynced). */
  journalCommits: number;
  /** Mean time between the starts of consecutive commits over the last rate window (ms). */
  fsyncIntervalMs: number | null;
  /** How long the last record's write and fsync took (ms). */
  lastFsyncMs: number | null;
  /** Files created in the repository (journal files and segments). */
  filesWritten: number;
}

/** Metrics of a capture that is not running. */
export const stoppedMetrics = (): CaptureMetrics => ({
  state: 'stopped',
  capturedTs: null,
  sourceTs: null,
  recoveryPointSeconds: null,
  capturedWall: null,
  entriesPerSecond: 0,
  bytesPerSecond: 0,
  segmentsWritten: 0,
  gaps: 0,
  lastError: null,
  journalCommits: 0,
  fsyncIntervalMs: null,
  lastFsyncMs: null,
  filesWritten: 0,
});

export interface CaptureDeps {
  store: BackupStore;
  sourceId: string;
  connect: () => Promise<MongoClient>;
  /** Called when the chain broke (the oplog rolled over past our position). */
  onGap: (info: { lastCaptured: OpTime; resumedAt: OpTime }) => void;
  onError?: (err: ApiError) => void;
  /** A journal record or segment could not be written: capture stopped reading and retries with back-off. */
  onWriteFailed?: (err: ApiError) => void;
  /** The first record or segment written after a write failure: capture is whole again. */
  onWriteRecovered?: () => void;
  /** Start-up recovery found a damaged journal record (sealed up to it, the rest read again). */
  onJournalDamaged?: (damaged: JournalDamage[]) => void;
  /** The live edge moved: a journal commit made entries durable and plannable up to `lastTs`. */
  onSegment?: (lastTs: OpTime) => void;
  /**
   * A journal record is durable and its tail in the catalog: its payload, as written (a view of
   * the file's memory, never written again), so that a reader of the journal's tail in this
   * process (the incident finder) need not read the file back.
   */
  onJournalRecord?: (record: JournalRecord) => void;
}

/** One durable record of a capture journal file, as the commit that wrote it hands it on. */
export interface JournalRecord {
  /** The journal file (repository-relative). */
  path: string;
  /** Entries in the file before this record. */
  countBefore: number;
  count: number;
  /** The record's entries, concatenated. */
  payload: Uint8Array;
  /**
   * Each entry's ts and summary as capture read them (oplog/entry-summary.ts, INDEX_WORDS per
   * entry, in payload order): the tail scan moves past most entries on these, without parsing.
   */
  entries?: Uint32Array;
  last: OpTime;
}

/** A journal file being appended to, with what it holds (the seal needs no re-read). */
interface OpenJournal {
  writer: JournalWriter;
  /** Every record's payload, back to back, in shared memory: the segment's payload at the seal. */
  data: SegmentBytes;
  /** SHA-256 of the payload so far, taken record by record: the seal needs no pass of its own. */
  hash: Hash;
  first: OpTime;
  last: OpTime;
  count: number;
  rawBytes: number;
  prev: OpTime | null;
  openedAt: number;
}

/** A closed journal file waiting to be sealed into its segment. */
interface ClosedJournal {
  path: string;
  payload: Buffer;
  sha256: string;
  first: OpTime;
  last: OpTime;
  count: number;
  prev: OpTime | null;
}

/** Entries per getMore at most (mongod also stops a batch at 16 MiB). */
const READ_BATCH = 5000;

/** At most this many closed journals wait for the seal worker before reading pauses. */
const MAX_SEALS_WAITING = 4;

/** A failed journal or segment write, told apart from source errors by the tail loop. */
class SegmentWriteError extends Error {
  constructor(readonly apiError: ApiError) {
    super(apiError.message);
  }
}

const toTs = (o: OpTime) => new Timestamp({ t: o.t, i: o.i });

export class OplogCapture {
  private stopped = false;
  private paused = false;
  private client: MongoClient | null = null;
  private loop: Promise<void> | null = null;
  private loopEnded = false;
  /** Set from a failed write until the next record or segment is durable. */
  private writeFailing = false;
  private wake: (() => void) | null = null;
  /** The tail loop sleeps until its next getMore (a commit's start wakes it, not a retry's backoff). */
  private waitingToRead = false;
  private closeCursor: (() => Promise<void>) | null = null;
  private readonly rate = { windowStart: Date.now(), entries: 0, bytes: 0, commits: 0 };
  readonly metrics: CaptureMetrics = stoppedMetrics();

  // Read, not yet committed: the raw entries, copied into one reused buffer as they arrive. A
  // commit takes `pending` whole and leaves the (empty) spare in its place for what is read while
  // it writes; the two swap at every commit, so nothing is allocated per commit.
  private pending = new PendingEntries();
  private spare = new PendingEntries();
  /** What summarizeEntry read of the entry being taken (reused). */
  private readonly summary = new EntrySummary();

  // The journal: one commit at a time, chained.
  private journal: OpenJournal | null = null;
  private commitChain: Promise<void> = Promise.resolve();
  private commitTimer: NodeJS.Timeout | null = null;
  private lastCommitStart = 0;
  private cutQueued = false;
  /** Raw bytes of the last journal file closed: the next one's memory is sized from it. */
  private lastJournalBytes = 0;
  /** The last entry durable in the journal or a segment: where reading resumes. */
  private durableTip: OpTime | null = null;
  /** The chain link of the next journal file: the durable tip, or null after a gap / at the first start. */
  private chainLink: OpTime | null = null;

  // Sealing: closed journals, oldest first, sealed one at a time by the worker.
  private readonly sealQueue: ClosedJournal[] = [];
  private sealing: Promise<void> | null = null;
  private writeError: SegmentWriteError | null = null;
  /** A write failed since the tail loop last (re)started: nothing read meanwhile may be committed. */
  private failedSinceTail = false;

  /** Where a capture that has nothing durable yet started reading. */
  private firstStart: OpTime | null = null;

  /**
   * The shortest time between two getMores while each one returns less than a full batch: a
   * quarter of the group commit interval (50 ms at most). A tailable awaitData getMore returns as
   * soon as anything is there, so without this a busy source costs one round trip (and its reply
   * parsing, here and on the server) per few writes; with it, a batch holds what arrived meanwhile,
   * and an entry waits at most this long before the commit that follows can take it.
   */
  private get readIntervalMs(): number {
    return Math.min(50, Math.max(2, Math.floor(this.opts.journalFsyncMs / 4)));
  }

  /** Round trips of getMores that returned entries (an empty reply waited maxAwaitTimeMS). */
  private readonly roundTrip = new RoundTripEstimate();

  /** When the next getMore goes out while the source is not ahead of us (see read-pacing.ts). */
  private nextReadAt(lastFetch: number): number {
    return nextReadAt({
      lastFetch,
      readIntervalMs: this.readIntervalMs,
      nextCommitAt: this.lastCommitStart === 0 ? null : this.lastCommitStart + this.opts.journalFsyncMs,
      roundTripMs: this.roundTrip.ms,
      pending: this.pending.count,
    });
  }

  constructor(
    private readonly deps: CaptureDeps,
    /** Read by tests and status: how this capture journals and cuts segments. */
    readonly opts: CaptureOptions = DEFAULT_CAPTURE,
  ) {}

  start(): void {
    if (this.loop) return;
    this.stopped = false;
    this.loopEnded = false;
    this.metrics.state = 'starting';
    this.metrics.capturedTs = this.deps.store.durableTip(this.deps.sourceId);
    prestartSealWorker(); // booting while start-up recovery and the connection go on
    this.loop = this.run().finally(() => {
      this.loopEnded = true;
    });
  }

  /** True while the tail loop runs (capturing, paused or retrying); false once it has ended. */
  get alive(): boolean {
    return this.loop !== null && !this.loopEnded;
  }

  /**
   * Stops tailing, commits what was read, seals every journal file, and closes the connection.
   * Never throws: what cannot be written stays in the journal (the next start seals it) or in
   * the source's oplog (the next start reads it again), and is named in `lastError`.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.closeCursor?.().catch(() => undefined);
    await this.loop?.catch((err: unknown) => {
      this.metrics.lastError = (err as Error).message;
    });
    this.loop = null;
    this.metrics.state = 'stopped';
  }

  /** Pauses capture (in-place restores); what was read is committed and sealed first. */
  async pause(): Promise<void> {
    this.paused = true;
    await this.closeCursor?.().catch(() => undefined);
  }

  resume(): void {
    this.paused = false;
    this.wake?.();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        resolve();
      }
      this.wake = done;
    });
  }

  // ---- the journal -------------------------------------------------------------------------

  /** Group commit: at most one record per interval, holding whatever arrived meanwhile. */
  private scheduleCommit(): void {
    if (this.commitTimer) return;
    const wait = Math.max(0, this.lastCommitStart + this.opts.journalFsyncMs - Date.now());
    this.commitTimer = setTimeout(() => {
      this.commitTimer = null;
      this.commitChain = this.commitChain.then(() => this.commit());
    }, wait);
  }

  /** Commits now (stop, pause, reconnect): cancels the timer and waits for the chain. */
  private async commitNow(): Promise<void> {
    if (this.commitTimer) {
      clearTimeout(this.commitTimer);
      this.commitTimer = null;
    }
    this.commitChain = this.commitChain.then(() => this.commit());
    await this.commitChain;
  }

  private async commit(): Promise<void> {
    if (this.failedSinceTail) {
      // After a failed write, what was read follows entries that were dropped: never commit it
      // (that would leave a hole); it is read again from the durable tip.
      this.dropBatch();
      return;
    }
    if (this.pending.count === 0) return;
    const pending = this.pending;
    this.pending = this.spare;
    this.spare = pending;
    try {
      await this.commitTaken(pending);
    } finally {
      pending.clear();
    }
  }

  private async commitTaken(pending: PendingEntries): Promise<void> {
    const count = pending.count;
    const first = pending.first!;
    const last = pending.last!;
    const lastEntryAt = pending.lastEntryAt;
    const started = Date.now();
    if (this.lastCommitStart) this.rate.commits++;
    this.lastCommitStart = started;
    // A read held back until this commit took what was pending goes on (see read-pacing.ts).
    if (this.waitingToRead) this.wake?.();
    let recordAt = 0;
    let payload: Buffer;
    try {
      if (!this.journal) {
        const writer = await JournalWriter.create(
          this.deps.store.repo,
          this.deps.sourceId,
          first,
          this.chainLink,
        );
        this.metrics.filesWritten++;
        this.journal = {
          writer,
          // Room for a whole segment from the start: untouched pages cost no memory, while growing
          // (a new buffer, everything copied) cost the first file of every run a few copies.
          data: new SegmentBytes(
            Math.ceil(Math.max(this.lastJournalBytes, this.opts.segmentMaxBytes) * 1.25),
          ),
          hash: createHash('sha256'),
          first,
          last: first,
          count: 0,
          rawBytes: 0,
          prev: this.chainLink,
          openedAt: started,
        };
      }
      recordAt = this.journal.data.length;
      payload = this.journal.data.appendFrom(pending);
      await this.journal.writer.append(payload, count);
    } catch (err) {
      this.journal?.data.truncate(recordAt);
      // Not durable: dropped here and read again from the source. The file is abandoned (its
      // durable prefix is sealed as it is, once writing works again) and the next record starts
      // a new one, with a new key: a record index is never encrypted twice under one key.
      this.failWrite(err, 'writing to the capture journal');
      this.closeJournal();
      return;
    }
    const j = this.journal;
    j.hash.update(payload);
    const countBefore = j.count;
    j.count += count;
    j.rawBytes += payload.length;
    j.last = last;
    this.durableTip = last;
    this.chainLink = last;
    this.metrics.lastFsyncMs = Date.now() - started;
    this.metrics.journalCommits++;
    try {
      saveJournalTail(this.deps.store.db, {
        path: j.writer.relPath,
        sourceId: this.deps.sourceId,
        firstTs: j.first,
        lastTs: j.last,
        prevLastTs: j.prev,
        count: j.count,
        bytes: j.writer.bytes,
      });
    } catch (err) {
      // Durable in the file (start-up seals it) but not visible yet: not counted as captured.
      this.failWrite(err, 'recording the capture journal in the catalog');
      return;
    }
    this.acknowledge(last, payload.subarray(lastEntryAt));
    // After capture's own state moved (the tail scan that reads it runs later, from a timer).
    this.deps.onJournalRecord?.({
      path: j.writer.relPath,
      countBefore,
      count,
      payload,
      entries: pending.takeIndex(),
      last,
    });
    if (this.pending.count) this.scheduleCommit();
    if (j.rawBytes >= this.opts.segmentMaxBytes || Date.now() - j.openedAt >= this.opts.segmentMaxMs)
      this.closeJournal();
  }

  /** Durable and planned-for: the recovery point moves. */
  private acknowledge(last: OpTime, lastEntry: Uint8Array): void {
    this.metrics.capturedTs = last;
    const wall = readEntryWall(lastEntry);
    if (wall !== null) this.metrics.capturedWall = wall;
    this.updateRecoveryPoint();
    this.writeRecovered();
    this.deps.onSegment?.(last); // the live edge moved (one event per group commit, 5/s at most by default)
  }

  /** Closes the open journal file and queues it for sealing (the segment cut). */
  private closeJournal(): void {
    const j = this.journal;
    if (!j) return;
    this.journal = null;
    void j.writer.close();
    this.lastJournalBytes = j.rawBytes;
    if (j.count === 0) {
      // Nothing durable in it (its first record failed): start-up recovery removes the file.
      return;
    }
    holdJournal(this.deps.store.repo.abs(j.writer.relPath), true);
    this.sealQueue.push({
      path: j.writer.relPath,
      payload: j.data.bytes(),
      sha256: j.hash.digest('hex'),
      first: j.first,
      last: j.last,
      count: j.count,
      prev: j.prev,
    });
    this.kickSeal();
  }

  /** Cuts by time when no commit does it (a quiet source): chained after any commit in flight. */
  private maybeCut(now: number): void {
    if (!this.journal || this.cutQueued || now - this.journal.openedAt < this.opts.segmentMaxMs) return;
    this.cutQueued = true;
    this.commitChain = this.commitChain.then(() => {
      this.cutQueued = false;
      if (this.journal && Date.now() - this.journal.openedAt >= this.opts.segmentMaxMs) this.closeJournal();
    });
  }

  // ---- sealing -----------------------------------------------------------------------------

  private kickSeal(): void {
    if (this.sealing || this.writeError) return;
    this.sealing = this.sealLoop().finally(() => {
      this.sealing = null;
    });
  }

  /**
   * Seals the closed journals in order, each encoded while the one before it is written and
   * recorded (BackupStore.sealJournals): a backlog (a slow disk, a long journal recovered) seals
   * at the seal worker's pace. A journal leaves the queue only once its segment is recorded.
   */
  private async sealLoop(): Promise<void> {
    while (this.sealQueue.length && !this.writeError) {
      let taken = 0; // queued journals handed to the pipeline and not yet recorded
      try {
        await this.deps.store.sealJournals(
          this.deps.sourceId,
          () => {
            const j = this.writeError ? undefined : this.sealQueue[taken];
            if (!j) return undefined;
            taken++;
            return {
              journalPath: j.path,
              payload: j.payload,
              range: { first: j.first, last: j.last, count: j.count },
              prevLastTs: j.prev,
              payloadSha256: j.sha256,
            };
          },
          encodeSegmentInWorker,
          () => {
            const j = this.sealQueue.shift()!;
            taken--;
            holdJournal(this.deps.store.repo.abs(j.path), false);
            this.metrics.segmentsWritten++;
            this.metrics.filesWritten++;
            this.writeRecovered();
          },
        );
      } catch (err) {
        this.failWrite(err, 'writing an oplog segment to the repository');
        return;
      }
    }
  }

  /** Waits until every closed journal is sealed; throws the write failure if one is refused. */
  private async drainSeals(): Promise<void> {
    this.kickSeal();
    while (this.sealing) await this.sealing;
    this.throwWriteError();
    if (this.sealQueue.length) {
      this.kickSeal();
      while (this.sealing) await this.sealing;
      this.throwWriteError();
    }
  }

  private dropBatch(): void {
    this.pending.clear();
  }

  private failWrite(err: unknown, what: string): void {
    this.failedSinceTail = true;
    this.dropBatch();
    if (this.writeError) return;
    this.writeError = new SegmentWriteError(fileSystemError(err, `${what} at ${this.deps.store.repo.root}`));
    // Stop reading now: whatever is read until the loop notices would only be thrown away.
    this.wake?.();
    void this.closeCursor?.().catch(() => undefined);
  }

  private writeRecovered(): void {
    if (!this.writeFailing) return;
    this.writeFailing = false;
    this.metrics.state = 'capturing';
    this.metrics.lastError = null;
    this.deps.onWriteRecovered?.();
  }

  private throwWriteError(): void {
    if (this.writeError) {
      const err = this.writeError;
      this.writeError = null;
      throw err;
    }
  }

  /** Commits what was read, cuts the open journal and seals everything (stop, pause). */
  private async flushAll(): Promise<void> {
    await this.commitNow();
    this.throwWriteError();
    await this.commitChain;
    this.closeJournal();
    await this.drainSeals();
  }

  // ---- metrics -----------------------------------------------------------------------------

  private updateRecoveryPoint(): void {
    const { sourceTs, capturedTs } = this.metrics;
    this.metrics.recoveryPointSeconds =
      sourceTs && capturedTs ? Math.max(0, sourceTs.t - capturedTs.t) : null;
  }

  private countRate(entries: number, bytes: number): void {
    this.rate.entries += entries;
    this.rate.bytes += bytes;
  }

  private rollRate(now: number): void {
    if (now - this.rate.windowStart < 1000) return;
    const ms = now - this.rate.windowStart;
    this.metrics.entriesPerSecond = Math.round((this.rate.entries * 1000) / ms);
    this.metrics.bytesPerSecond = Math.round((this.rate.bytes * 1000) / ms);
    this.metrics.fsyncIntervalMs = this.rate.commits ? Math.round(ms / this.rate.commits) : null;
    this.rate.windowStart = now;
    this.rate.entries = 0;
    this.rate.bytes = 0;
    this.rate.commits = 0;
  }

  // ---- the loop ----------------------------------------------------------------------------

  private async run(): Promise<void> {
    let backoff = this.opts.backoffMinMs;
    let recovered = false;
    while (!this.stopped) {
      if (this.paused) {
        this.metrics.state = 'paused';
        // Not written: the journal keeps what is durable, the source the rest.
        await this.flushAll().catch((err: unknown) => this.reportWriteFailure(err));
        // A resume() during the flush found no sleep to wake: check again before sleeping (no await
        // between this check and sleep() setting `wake`, so no resume can slip in).
        if (this.paused && !this.stopped) await this.sleep(60_000);
        continue;
      }
      try {
        if (!recovered) {
          // What an earlier run left in the journal is sealed before anything new is read.
          const rec = await recoverJournals(this.deps.store, this.deps.sourceId, encodeSegmentInWorker).catch(
            (err: unknown) => {
              throw new SegmentWriteError(
                fileSystemError(err, 'sealing the capture journal left by the last run'),
              );
            },
          );
          if (rec.damaged.length) this.deps.onJournalDamaged?.(rec.damaged);
          recovered = true;
          this.durableTip = this.deps.store.chainTip(this.deps.sourceId);
          this.chainLink = this.durableTip;
          this.metrics.capturedTs = this.durableTip ?? this.metrics.capturedTs;
        }
        this.client ??= await this.deps.connect();
        await this.tail(this.client);
        backoff = this.opts.backoffMinMs;
      } catch (err) {
        const e = err as { code?: number };
        if (e.code === 136) continue; // CappedPositionLost: reopen; the first-entry check finds the gap
        if (err instanceof SegmentWriteError) {
          // The source is fine (keep the connection); the repository is not. Retry with back-off.
          this.reportWriteFailure(err);
          if (this.stopped) break;
          await this.sleep(backoff);
          backoff = Math.min(backoff * 2, this.opts.backoffMaxMs);
          continue;
        }
        const apiErr = toSourceError(err);
        this.metrics.lastError = apiErr.message;
        this.deps.onError?.(apiErr);
        if (this.stopped) break;
        this.metrics.state = 'reconnecting';
        await this.client?.close().catch(() => undefined);
        this.client = null;
        await this.sleep(backoff);
        backoff = Math.min(backoff * 2, this.opts.backoffMaxMs);
      }
    }
    try {
      await this.flushAll();
    } catch (err) {
      if (!(err instanceof SegmentWriteError)) throw err;
      this.reportWriteFailure(err);
    } finally {
      if (this.commitTimer) clearTimeout(this.commitTimer);
      this.commitTimer = null;
      await this.commitChain.catch(() => undefined);
      if (this.journal) {
        // Could not be sealed (the repository refuses): the file stays for the next start.
        const j = this.journal;
        this.journal = null;
        await j.writer.close();
      }
      // Closed journals not sealed (the repository refuses) are the next start's to recover.
      for (const j of this.sealQueue.splice(0)) holdJournal(this.deps.store.repo.abs(j.path), false);
      await this.client?.close().catch(() => undefined);
      this.client = null;
    }
  }

  private reportWriteFailure(err: unknown): void {
    const apiErr =
      err instanceof SegmentWriteError ? err.apiError : fileSystemError(err, 'writing an oplog segment');
    this.writeFailing = true;
    this.metrics.state = 'write-failed';
    this.metrics.lastError = apiErr.message;
    this.deps.onWriteFailed?.(apiErr);
  }

  private async tail(client: MongoClient): Promise<void> {
    const oplog = client.db('local').collection('oplog.rs');
    // What was read is committed first (unless the repository refuses), then anything not durable
    // is dropped and read again, and closed journals are sealed: the resume point is the true tip.
    await this.commitNow(); // commits nothing after a failed write (see commit)
    this.throwWriteError(); // a write failed before this (re)start: report it first
    this.dropBatch();
    this.failedSinceTail = false;
    if (this.sealQueue.length) await this.drainSeals();
    const tip = this.durableTip;
    let start = tip;
    if (!start) {
      // Nothing durable yet: resume where this capture first started (entries read since then were
      // only buffered), or, on the very first start, at the source's newest entry.
      if (!this.firstStart) {
        const [newest] = await oplog
          .find({}, { projection: { ts: 1 } })
          .sort({ $natural: -1 })
          .limit(1)
          .toArray();
        if (!newest) throw new ApiError('UNAVAILABLE', 'The source oplog is empty.');
        this.firstStart = { t: (newest.ts as Timestamp).high, i: (newest.ts as Timestamp).low };
      }
      start = this.firstStart;
    }
    const cursor = oplog.find(
      { ts: { $gte: toTs(start) } },
      {
        tailable: true,
        awaitData: true,
        raw: true,
        batchSize: READ_BATCH,
        maxAwaitTimeMS: this.opts.awaitMs,
      },
    );
    this.closeCursor = () => cursor.close();
    let first = true;
    let lastHello = 0;
    // One getMore per group commit while the source keeps up with us, a round trip before its
    // slot (see read-pacing.ts).
    let lastFetch = 0;
    let lastFetchFull = false;
    let taken = 0;
    let takenBytes = 0;
    // Each entry's ts and summary, read in the one walk of its elements capture makes (no object per entry).
    const s = this.summary;
    const accept = (doc: Uint8Array): void => {
      summarizeEntry(doc, s);
      if (first) {
        first = false;
        if (tip) {
          const ts = { i: s.i, t: s.t };
          if (compareOpTime(ts, tip) === 0) return; // the entry we already have: continuity proven
          // The entry we stopped at is gone: the oplog rolled over. Start a new chain from here,
          // in a new journal file (so in a new segment) whose chain link is null.
          this.commitChain = this.commitChain.then(() => {
            this.closeJournal();
            this.chainLink = null;
          });
          this.metrics.gaps++;
          this.deps.onGap({ lastCaptured: tip, resumedAt: ts });
        }
      }
      this.pending.append(doc, s.t, s.i, s.summary);
      taken++;
      takenBytes += doc.byteLength;
    };
    // After a write failure the state and error stay until a record or segment is durable again.
    if (!this.writeFailing) {
      this.metrics.state = 'capturing';
      this.metrics.lastError = null;
    }
    try {
      while (!this.stopped && !this.paused) {
        const fetching = cursor.bufferedCount() === 0;
        if (fetching && !lastFetchFull) {
          const wait = this.nextReadAt(lastFetch) - Date.now();
          if (wait > 0) {
            this.waitingToRead = true;
            await this.sleep(wait); // stop, pause, a failed write and a commit's start wake it
            this.waitingToRead = false;
            if (this.stopped || this.paused) break;
            this.throwWriteError();
            continue; // a commit may have started meanwhile: its slot is when to read next
          }
        }
        if (fetching) lastFetch = Date.now();
        const doc = (await cursor.tryNext().catch((err: unknown) => {
          if (this.writeError) return null; // we closed the cursor because a write failed
          throw err;
        })) as unknown as Uint8Array | null;
        this.throwWriteError();
        if (doc) {
          // The rest of the reply is in the driver's buffer already: taken in one go, no await.
          if (fetching) {
            lastFetchFull = 1 + cursor.bufferedCount() >= READ_BATCH;
            this.roundTrip.add(Date.now() - lastFetch, this.readIntervalMs);
          }
          taken = takenBytes = 0;
          accept(doc);
          const rest = takeBufferedRaw(cursor) ?? (cursor.readBufferedDocuments() as unknown as Uint8Array[]);
          for (const d of rest) accept(d);
          if (taken) {
            this.countRate(taken, takenBytes);
            const ts = this.pending.last!; // the batch was taken without an await: nothing committed it
            if (!this.metrics.sourceTs || compareOpTime(ts, this.metrics.sourceTs) > 0)
              this.metrics.sourceTs = ts;
            this.scheduleCommit();
          }
        } else {
          if (fetching) lastFetchFull = false;
          if (first && !tip) first = false;
        }
        const now = Date.now();
        this.maybeCut(now);
        this.rollRate(now);
        if (this.sealQueue.length > MAX_SEALS_WAITING) await this.drainSeals(); // back-pressure
        if (now - lastHello >= 1000) {
          lastHello = now;
          const hello = await client.db('admin').command({ hello: 1 });
          const lw = hello.lastWrite?.opTime?.ts as Timestamp | undefined;
          if (lw) {
            const s = { t: lw.high, i: lw.low };
            if (!this.metrics.sourceTs || compareOpTime(s, this.metrics.sourceTs) > 0)
              this.metrics.sourceTs = s;
          }
          this.updateRecoveryPoint();
        }
        if (!doc && cursor.closed && !this.stopped)
          throw new ApiError('UNAVAILABLE', 'The oplog cursor closed.');
      }
    } finally {
      this.closeCursor = null;
      await cursor.close().catch(() => undefined);
    }
    if (this.paused || this.stopped) await this.flushAll();
  }

  /**
   * Resolves once `ts` is durable (captured), or when capture stops making progress (not
   * capturing) or `timeoutMs` passes: a snapshot taken while capture runs is restorable only once
   * the oplog through its consistentTs is captured (DESIGN.md rule 1).
   */
  async waitUntilDurable(ts: OpTime, timeoutMs: number): Promise<boolean> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const c = this.metrics.capturedTs;
      if (c && compareOpTime(c, ts) >= 0) return true;
      if (!this.alive || this.metrics.state !== 'capturing' || Date.now() > end) return false;
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  describe(): string {
    const m = this.metrics;
    return `${m.state}, captured ${m.capturedTs ? formatOpTime(m.capturedTs) : 'nothing'}, recovery point ${m.recoveryPointSeconds ?? '?'} s`;
  }
}
