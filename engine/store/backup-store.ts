/**
 * BackupStore binds one repository (the truth, on disk) to the catalog (the
 * index). Every write goes file first (durable), catalog second (one
 * transaction), so a crash between the two leaves a durable file that the
 * next start-up registers (reconcile.ts) and never a catalog row without a file.
 */
import { rm } from 'node:fs/promises';
import { ApiError } from '../errors.js';
import { audit } from '../catalog/audit.js';
import { coverageAfterAppend, recomputeCoverage } from '../catalog/coverage.js';
import type { CatalogDb } from '../catalog/open-catalog.js';
import { insertSegment, lastSegment, lastOf, type SegmentRow } from '../catalog/segments.js';
import { deleteSegmentRow, segmentByPath } from '../catalog/segments.js';
import { deleteSnapshotRow, insertCompleteSnapshot } from '../catalog/snapshots.js';
import { findSourceByName, upsertSource, getSourceByName, markImportedSource } from '../catalog/sources.js';
import { findLockTarget, setLockedUntil, type LockTargetRow } from '../catalog/retention-locks.js';
import type { OpTime } from '../repo/optime.js';
import type { Repository } from '../repo/repository.js';
import { writeLockFile, type LockKind } from '../repo/retention-lock-file.js';
import {
  concatInOrder,
  encodeSegmentPayload,
  writeEncodedSegment,
  type PayloadRange,
  type SegmentEncoder,
  type SegmentInfo,
} from '../repo/segment-file.js';
import { deleteJournalRow, journalLast, journalRowsOfSource } from '../catalog/journals.js';
import { compareOpTime } from '../repo/optime.js';
import { runSealPipeline } from './seal-pipeline.js';
import { SnapshotWriter, type SnapshotManifest, type SnapshotStart } from '../repo/snapshot-files.js';
import { writeSourceFile } from '../repo/source-file.js';
import { saveProtection } from './protection.js';
import { randomUUID } from 'node:crypto';

/**
 * Told about each segment once it is durable and registered, with its payload (the entries,
 * concatenated) still in memory: the incident finder scans it.
 */
export type SegmentListener = (sourceId: string, info: SegmentInfo, payload: Uint8Array) => void;

/** One closed journal file to seal into its segment. */
export interface JournalSeal {
  journalPath: string;
  payload: Uint8Array;
  range: PayloadRange;
  prevLastTs: OpTime | null;
  /** Taken already (capture hashes each journal record as it commits it). */
  payloadSha256?: string | undefined;
}

export class BackupStore {
  constructor(
    readonly db: CatalogDb,
    readonly repo: Repository,
    private readonly onSegment: SegmentListener | null = null,
  ) {}

  /** Creates the source in the repository (source.json) and the catalog; returns its id. */
  async ensureSource(
    name: string,
    uriRedacted: string | null = null,
    opts: { imported?: boolean } = {},
  ): Promise<string> {
    const existing = findSourceByName(this.db, name);
    if (existing) {
      if (existing.repository_id !== this.repo.id)
        throw new ApiError('CONFLICT', `Source "${name}" belongs to another repository.`);
      return existing.id;
    }
    const sourceId = randomUUID();
    const file = await writeSourceFile(this.repo, {
      sourceId,
      name,
      createdAt: new Date().toISOString(),
      uriRedacted,
      ...(opts.imported ? { imported: true } : {}),
    });
    upsertSource(this.db, {
      id: sourceId,
      name,
      repositoryId: this.repo.id,
      createdAt: file.createdAt,
      uriRedacted,
    });
    if (opts.imported) markImportedSource(this.db, sourceId);
    return sourceId;
  }

  /**
   * Mirrors the source's connection (no secrets) and backup job into the repository
   * (protection.json), so that `catalog rebuild` resumes protection as it was. Called after every
   * change to either.
   */
  async saveProtection(sourceId: string): Promise<void> {
    await saveProtection(this.db, this.repo, sourceId);
  }

  sourceId(name: string): string {
    const s = getSourceByName(this.db, name);
    if (s.repository_id !== this.repo.id)
      throw new ApiError('CONFLICT', `Source "${name}" belongs to another repository.`);
    return s.id;
  }

  /** The chain link for the next segment: the newest segment's last ts, or null. */
  chainTip(sourceId: string): OpTime | null {
    const last = lastSegment(this.db, sourceId);
    return last ? lastOf(last) : null;
  }

  /**
   * The last durable entry of the source: the newest segment's last ts, or the journal's durable
   * tail when that is newer (what capture resumes from, and what `latest` restores to).
   */
  durableTip(sourceId: string): OpTime | null {
    let tip = this.chainTip(sourceId);
    for (const j of journalRowsOfSource(this.db, sourceId)) {
      const last = journalLast(j);
      if (!tip || compareOpTime(last, tip) > 0) tip = last;
    }
    return tip;
  }

  /**
   * Seals the entries of one journal file into its segment: the segment is written durably (the
   * CPU work by `encode`, the seal worker on the capture path), then registered with its coverage
   * and the journal's row dropped in one transaction, and only then is the journal file removed.
   * A crash anywhere in between leaves the journal, which start-up seals again (same name: the
   * segment is written over, the catalog row is not doubled).
   */
  async sealJournal(
    sourceId: string,
    journalPath: string,
    payload: Uint8Array,
    range: PayloadRange,
    prevLastTs: OpTime | null,
    encode?: SegmentEncoder,
    payloadSha256?: string,
  ): Promise<{ info: SegmentInfo; row: SegmentRow }> {
    const job: JournalSeal = { journalPath, payload, range, prevLastTs, payloadSha256 };
    let out: { info: SegmentInfo; row: SegmentRow } | null = null;
    let taken = false;
    await this.sealJournals(
      sourceId,
      () => (taken ? undefined : ((taken = true), job)),
      encode,
      (_, r) => (out = r),
    );
    return out!;
  }

  /**
   * Seals closed journal files one after the other as sealJournal does, each encoded while the
   * one before it is written and recorded (seal-pipeline.ts): `next` gives them in chain order
   * (capture's queue of closed journals), `sealed` is told of each once it is recorded and its
   * journal removed. The first failure is thrown; nothing after it is written.
   */
  async sealJournals(
    sourceId: string,
    next: () => JournalSeal | undefined,
    encode?: SegmentEncoder,
    sealed?: (job: JournalSeal, result: { info: SegmentInfo; row: SegmentRow }) => void,
  ): Promise<void> {
    await this.repo.upgradeFormat();
    await runSealPipeline(
      next,
      (j) =>
        encodeSegmentPayload(this.repo, sourceId, j.payload, j.range, j.prevLastTs, encode, j.payloadSha256),
      async (j, enc) => {
        const info = await writeEncodedSegment(this.repo, enc);
        const row = this.db.transaction(() => {
          const { row: r, inserted } = insertSegment(this.db, info);
          if (inserted) coverageAfterAppend(this.db, r);
          deleteJournalRow(this.db, j.journalPath);
          return r;
        })();
        // Told in the same turn as the commit: a scan already running would otherwise meet the new
        // row while the journal file is being removed, and read the segment back from its file.
        this.onSegment?.(sourceId, info, j.payload);
        await rm(this.repo.abs(j.journalPath), { force: true });
        sealed?.(j, { info, row });
      },
    );
  }

  /** Writes a segment durably, then registers it and extends coverage in one transaction. */
  async appendSegment(
    sourceId: string,
    entries: readonly Uint8Array[],
    prevLastTs: OpTime | null,
    opts: { encode?: SegmentEncoder } = {},
  ): Promise<{ info: SegmentInfo; row: SegmentRow }> {
    const [only] = await this.appendSegments(sourceId, [entries], prevLastTs, opts);
    return only!;
  }

  /**
   * Appends consecutive segments of one chain (each linked to the one before it, the first to
   * `prevLastTs`) as appendSegment would one by one, each encoded while the one before it is
   * written and recorded (seal-pipeline.ts). Entries out of order are refused before their segment
   * is written; the segments before them are kept. `encode`: the seal worker (repo/seal-pool.ts)
   * for bulk ingest; on this thread by default.
   */
  async appendSegments(
    sourceId: string,
    batches: Iterable<readonly Uint8Array[]>,
    prevLastTs: OpTime | null,
    opts: { encode?: SegmentEncoder } = {},
  ): Promise<{ info: SegmentInfo; row: SegmentRow }[]> {
    await this.repo.upgradeFormat();
    const out: { info: SegmentInfo; row: SegmentRow }[] = [];
    const it = batches[Symbol.iterator]();
    let prev = prevLastTs;
    await runSealPipeline(
      () => {
        const r = it.next();
        if (r.done) return undefined;
        const { first, last, payload } = concatInOrder(r.value, prev);
        const job = { payload, range: { first, last, count: r.value.length }, prev };
        prev = last;
        return job;
      },
      (j) => encodeSegmentPayload(this.repo, sourceId, j.payload, j.range, j.prev, opts.encode),
      async (j, enc) => {
        const info = await writeEncodedSegment(this.repo, enc);
        const row = this.db.transaction(() => {
          const { row: r, inserted } = insertSegment(this.db, info);
          if (inserted) coverageAfterAppend(this.db, r);
          return r;
        })();
        this.onSegment?.(sourceId, info, j.payload);
        out.push({ info, row });
      },
    );
    return out;
  }

  beginSnapshot(start: Omit<SnapshotStart, 'snapshotId'> & { snapshotId?: string }): SnapshotWriter {
    return SnapshotWriter.begin(this.repo, { snapshotId: start.snapshotId ?? newSnapshotId(), ...start });
  }

  /** Writes the manifest (the snapshot becomes complete) and registers it. */
  async commitSnapshot(
    writer: SnapshotWriter,
    end: Parameters<SnapshotWriter['commit']>[0],
  ): Promise<SnapshotManifest> {
    await this.repo.upgradeFormat();
    const manifest = await writer.commit(end);
    insertCompleteSnapshot(this.db, writer.relDir, manifest);
    return manifest;
  }

  /**
   * Removes a segment this run has just written for work that then failed
   * (an import): it never was a backup anyone relied on, so no audit entry.
   */
  async forgetSegment(path: string): Promise<void> {
    const row = segmentByPath(this.db, path);
    if (row)
      this.db.transaction(() => {
        deleteSegmentRow(this.db, path);
        recomputeCoverage(this.db, row.source_id);
      })();
    await rm(this.repo.abs(path), { force: true });
  }

  /** Locks a snapshot or segment until a date (extend only). */
  async lock(kind: LockKind, target: string, until: Date, reason: string, actor: string): Promise<void> {
    const row = this.lockTarget(kind, target);
    if (row.locked_until && Date.parse(row.locked_until) > until.getTime()) {
      throw new ApiError(
        'CONFLICT',
        `${kind} ${target} is already locked until ${row.locked_until}; a lock can only be extended.`,
      );
    }
    await this.repo.upgradeFormat();
    await writeLockFile(this.repo, {
      kind,
      sourceId: row.source_id,
      target,
      until: until.toISOString(),
      reason,
      createdAt: new Date().toISOString(),
    });
    setLockedUntil(this.db, kind, target, until.toISOString());
    audit(this.db, {
      repositoryId: this.repo.id,
      actor,
      action: `${kind}.lock`,
      target,
      outcome: 'done',
      details: { until: until.toISOString(), reason },
    });
  }

  private lockTarget(kind: LockKind, target: string): LockTargetRow {
    const row = findLockTarget(this.db, kind, target);
    if (!row) throw new ApiError('NOT_FOUND', `No ${kind} ${target}.`);
    return row;
  }

  /** Deletes a snapshot or segment: refused inside a retention lock, always audited. */
  async delete(kind: LockKind, target: string, actor: string, now = new Date()): Promise<void> {
    const row = this.lockTarget(kind, target);
    if (row.locked_until && Date.parse(row.locked_until) > now.getTime()) {
      audit(this.db, {
        repositoryId: this.repo.id,
        actor,
        action: `${kind}.delete`,
        target,
        outcome: 'refused',
        details: { lockedUntil: row.locked_until },
      });
      throw new ApiError(
        'RETENTION_LOCKED',
        `${kind} ${target} is under a retention lock until ${row.locked_until}.`,
        {
          lockedUntil: row.locked_until,
        },
      );
    }
    // Catalog first here: a crash after this leaves a file that reconcile re-registers (nothing is lost);
    // deleting the file first could leave a row pointing at nothing.
    this.db.transaction(() => {
      if (kind === 'snapshot') deleteSnapshotRow(this.db, target);
      else {
        deleteSegmentRow(this.db, target);
        recomputeCoverage(this.db, row.source_id);
      }
      audit(this.db, {
        repositoryId: this.repo.id,
        actor,
        action: `${kind}.delete`,
        target,
        outcome: 'done',
      });
    })();
    await rm(this.repo.abs(row.path), { recursive: true, force: true });
  }
}

/** Snapshot ids sort by time: 20261122T101530Z-<6 hex>. */
export function newSnapshotId(at = new Date()): string {
  const stamp = at
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${randomUUID().slice(0, 6)}`;
}
