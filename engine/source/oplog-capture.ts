/**
 * Continuous oplog capture for one source (DESIGN.md rule 3). A tailable,
 * awaitData cursor reads `local.oplog.rs` from the last durable ts with
 * `ts >= last`, and the first entry it returns must be that same entry;
 * otherwise the oplog rolled over past our position: the next segment starts
 * a new chain (a gap), a PITR_GAP alert is raised and a new snapshot is
 * requested. Entries are buffered and cut into segments by size or by time,
 * so the recovery point stays bounded on a quiet source too (MongoDB's
 * periodic no-ops keep the oplog moving). Network errors are retried with
 * back-off; nothing in the buffer is acknowledged until its segment is durable,
 * so a crash re-reads it from the source.
 *
 * A segment that cannot be written (full disk, read-only or vanished
 * repository) stops reading at once: the state becomes `write-failed` with the
 * cause in `lastError`, `onWriteFailed` raises the alert, and the loop retries
 * with back-off from the last durable entry, so once the cause is gone capture
 * resumes by itself, with no gap while the source's oplog still holds that entry.
 */
import { Timestamp, type MongoClient } from 'mongodb';
import { deserialize } from 'bson';
import { ApiError, fileSystemError } from '../errors.js';
import { readEntryTs } from '../repo/bson-entries.js';
import { compareOpTime, formatOpTime, type OpTime } from '../repo/optime.js';
import type { BackupStore } from '../store/backup-store.js';
import { toSourceError } from '../mongo/connect.js';

export interface CaptureOptions {
  segmentMaxBytes: number;
  segmentMaxMs: number;
  /** How long a getMore waits for new entries. */
  awaitMs: number;
  backoffMinMs: number;
  backoffMaxMs: number;
}

export const DEFAULT_CAPTURE: CaptureOptions = {
  segmentMaxBytes: 16 * 1024 * 1024,
  segmentMaxMs: 10_000,
  awaitMs: 1000,
  backoffMinMs: 250,
  backoffMaxMs: 30_000,
};

export type CaptureState =
  | 'starting'
  | 'capturing'
  | 'paused'
  | 'reconnecting'
  /** The repository refused a segment (ENOSPC, EROFS…): retrying, nothing new is durable. */
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
});

export interface CaptureDeps {
  store: BackupStore;
  sourceId: string;
  connect: () => Promise<MongoClient>;
  /** Called when the chain broke (the oplog rolled over past our position). */
  onGap: (info: { lastCaptured: OpTime; resumedAt: OpTime }) => void;
  onError?: (err: ApiError) => void;
  /** A segment could not be written: capture stopped reading and retries with back-off. */
  onWriteFailed?: (err: ApiError) => void;
  /** The first segment written after a write failure: capture is whole again. */
  onWriteRecovered?: () => void;
  /** A segment is durable and in the catalog: the live edge moved to its last entry. */
  onSegment?: (lastTs: OpTime) => void;
}

/** A failed segment write, told apart from source errors by the tail loop. */
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
  /** Set from a failed segment write until the next segment is durable. */
  private writeFailing = false;
  private buffer: Uint8Array[] = [];
  private bufferBytes = 0;
  private bufferSince = 0;
  private bufferOldestWrite = 0;
  private wake: (() => void) | null = null;
  private closeCursor: (() => Promise<void>) | null = null;
  private readonly rate = { windowStart: Date.now(), entries: 0, bytes: 0, eps: 0, bps: 0 };
  readonly metrics: CaptureMetrics = stoppedMetrics();

  constructor(
    private readonly deps: CaptureDeps,
    /** Read by tests and status: how this capture cuts segments. */
    readonly opts: CaptureOptions = DEFAULT_CAPTURE,
  ) {}

  start(): void {
    if (this.loop) return;
    this.stopped = false;
    this.loopEnded = false;
    this.metrics.state = 'starting';
    this.metrics.capturedTs = this.deps.store.chainTip(this.deps.sourceId);
    this.loop = this.run().finally(() => {
      this.loopEnded = true;
    });
  }

  /** True while the tail loop runs (capturing, paused or retrying); false once it has ended. */
  get alive(): boolean {
    return this.loop !== null && !this.loopEnded;
  }

  /**
   * Stops tailing, writes what is buffered as a last segment, and closes the connection. Never
   * throws: a last segment that cannot be written is left in the source's oplog (the next start
   * reads it again) and named in `lastError`.
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

  /** Pauses capture (in-place restores); what was read is flushed first. */
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

  /**
   * Hands the buffer to the segment writer and goes on reading: segments are
   * written one after the other (each chained to the one before, even if that
   * one is not durable yet), while the cursor keeps draining the source. A
   * write failure stops the chain and interrupts the tail loop at once (it
   * throws, backs off, and restarts from the last durable entry). At most a
   * few segments wait, so memory stays bounded.
   */
  private async flush(): Promise<void> {
    if (this.buffer.length === 0) return;
    const entries = this.buffer;
    const prev = this.chainLink;
    this.chainLink = readEntryTs(entries[entries.length - 1]!);
    this.buffer = [];
    this.bufferBytes = 0;
    this.pendingWrites++;
    this.writeChain = this.writeChain.then(async () => {
      try {
        if (this.writeError) return;
        const { info } = await this.deps.store.appendSegment(this.deps.sourceId, entries, prev);
        this.metrics.capturedTs = info.lastTs;
        const wall = (deserialize(entries[entries.length - 1]!) as { wall?: Date }).wall;
        if (wall instanceof Date) this.metrics.capturedWall = wall.getTime();
        this.metrics.segmentsWritten++;
        this.updateRecoveryPoint();
        this.deps.onSegment?.(info.lastTs);
        if (this.writeFailing) {
          this.writeFailing = false;
          this.metrics.state = 'capturing';
          this.metrics.lastError = null;
          this.deps.onWriteRecovered?.();
        }
      } catch (err) {
        this.writeError = new SegmentWriteError(
          fileSystemError(err, `writing an oplog segment to the repository at ${this.deps.store.repo.root}`),
        );
        // Stop reading now: whatever is read until the loop notices would only be thrown away.
        this.wake?.();
        void this.closeCursor?.().catch(() => undefined);
      } finally {
        this.pendingWrites--;
      }
    });
    if (this.pendingWrites > 4) await this.writeChain; // back-pressure
  }

  /** Waits until every handed-over segment is written (or the chain failed). */
  private async drainWrites(): Promise<void> {
    await this.writeChain;
    this.throwWriteError();
  }

  private throwWriteError(): void {
    if (this.writeError) {
      const err = this.writeError;
      this.writeError = null;
      throw err;
    }
  }

  private writeChain: Promise<void> = Promise.resolve();
  private writeError: SegmentWriteError | null = null;
  private pendingWrites = 0;

  /** The chain link for the next segment: the last durable ts, or null after a gap / at the first start. */
  private chainLink: OpTime | null = null;

  /** Where a capture that has nothing durable yet started reading. */
  private firstStart: OpTime | null = null;

  private updateRecoveryPoint(): void {
    const { sourceTs, capturedTs } = this.metrics;
    this.metrics.recoveryPointSeconds =
      sourceTs && capturedTs ? Math.max(0, sourceTs.t - capturedTs.t) : null;
  }

  private countRate(bytes: number): void {
    const now = Date.now();
    this.rate.entries++;
    this.rate.bytes += bytes;
    if (now - this.rate.windowStart >= 1000) {
      const s = (now - this.rate.windowStart) / 1000;
      this.metrics.entriesPerSecond = Math.round(this.rate.entries / s);
      this.metrics.bytesPerSecond = Math.round(this.rate.bytes / s);
      this.rate.windowStart = now;
      this.rate.entries = 0;
      this.rate.bytes = 0;
    }
  }

  private async run(): Promise<void> {
    let backoff = this.opts.backoffMinMs;
    while (!this.stopped) {
      if (this.paused) {
        this.metrics.state = 'paused';
        await this.flush();
        // Not written: the source still holds it, and resume re-reads from the durable tip.
        await this.drainWrites().catch((err: unknown) => this.reportWriteFailure(err));
        await this.sleep(60_000);
        continue;
      }
      try {
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
      await this.flush();
      await this.drainWrites();
    } catch (err) {
      if (!(err instanceof SegmentWriteError)) throw err;
      this.reportWriteFailure(err);
    } finally {
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
    // Anything buffered but not durable is read again from the source; segments already handed
    // over are finished first, so the resume point is the true durable tip.
    await this.writeChain;
    this.throwWriteError(); // a segment handed over before the last stop failed: report it first
    this.buffer = [];
    this.bufferBytes = 0;
    const tip = this.deps.store.chainTip(this.deps.sourceId);
    this.chainLink = tip;
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
      { tailable: true, awaitData: true, raw: true, batchSize: 5000, maxAwaitTimeMS: this.opts.awaitMs },
    );
    this.closeCursor = () => cursor.close();
    let first = true;
    let lastHello = 0;
    // After a write failure the state and error stay until a segment is durable again.
    if (!this.writeFailing) {
      this.metrics.state = 'capturing';
      this.metrics.lastError = null;
    }
    try {
      while (!this.stopped && !this.paused) {
        const doc = (await cursor.tryNext().catch((err: unknown) => {
          if (this.writeError) return null; // we closed the cursor because a write failed
          throw err;
        })) as unknown as Uint8Array | null;
        this.throwWriteError();
        if (doc) {
          const ts = readEntryTs(doc);
          if (first) {
            first = false;
            if (tip) {
              if (compareOpTime(ts, tip) === 0) continue; // the entry we already have: continuity proven
              // The entry we stopped at is gone: the oplog rolled over. Start a new chain from here.
              this.chainLink = null;
              this.metrics.gaps++;
              this.deps.onGap({ lastCaptured: tip, resumedAt: ts });
            }
          }
          if (this.buffer.length === 0) {
            this.bufferSince = Date.now();
            const wall = (deserialize(doc, { promoteValues: true }) as { wall?: Date }).wall;
            this.bufferOldestWrite =
              wall instanceof Date ? Math.min(wall.getTime(), this.bufferSince) : this.bufferSince;
          }
          this.buffer.push(doc);
          this.bufferBytes += doc.byteLength;
          this.countRate(doc.byteLength);
          if (!this.metrics.sourceTs || compareOpTime(ts, this.metrics.sourceTs) > 0)
            this.metrics.sourceTs = ts;
        } else if (first && !tip) {
          first = false;
        }
        const now = Date.now();
        if (
          this.bufferBytes >= this.opts.segmentMaxBytes ||
          (this.buffer.length && now - this.bufferSince >= this.opts.segmentMaxMs)
        )
          await this.flush();
        this.throwWriteError();
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
    if (this.paused || this.stopped) {
      await this.flush();
      await this.drainWrites();
    }
  }

  describe(): string {
    const m = this.metrics;
    return `${m.state}, captured ${m.capturedTs ? formatOpTime(m.capturedTs) : 'nothing'}, recovery point ${m.recoveryPointSeconds ?? '?'} s`;
  }
}
