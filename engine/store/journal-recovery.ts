/**
 * Start-up recovery of capture journals (docs/repository-format.md, "The
 * capture journal"): every journal file a crash left is read up to its valid
 * prefix, sealed into its segment chained to what is already durable, and
 * removed. A torn last record (the crash hit an append) is dropped: it was
 * never acknowledged. A record that is complete but fails its check (a bit
 * flip) stops the reading there: the prefix is sealed, the damaged file and
 * every later one are set aside (renamed `*.jnl.damaged-<time>`, kept for
 * inspection, ignored by readers), and the caller raises JOURNAL_DAMAGED.
 * Capture then resumes from the last entry sealed, so what followed the flip
 * is read again from the source's oplog while it still holds it, and if it
 * does not, the first-entry check records an honest gap. Nothing after a
 * damaged record is ever trusted, nothing is skipped silently.
 */
import { readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ApiError } from '../errors.js';
import type { NewAlert } from '../catalog/alerts.js';
import type { CatalogDb } from '../catalog/open-catalog.js';
import { deleteJournalRow, journalRowsOfSource, saveJournalTail } from '../catalog/journals.js';
import { splitBsonDocuments, readEntryTs } from '../repo/bson-entries.js';
import { fsyncDir } from '../repo/durable-file.js';
import {
  JOURNAL_NAME,
  isJournalOpenHere,
  journalDir,
  readJournal,
  type JournalScan,
} from '../repo/journal-file.js';
import { compareOpTime, type OpTime } from '../repo/optime.js';
import type { Repository } from '../repo/repository.js';
import { concatShared, type SegmentEncoder } from '../repo/segment-file.js';
import type { BackupStore } from './backup-store.js';

export interface JournalDamage {
  path: string;
  error: string;
  /** Where the file (and any later one) was moved; null when only reported (a reader). */
  setAsideAs: string | null;
}

export interface JournalRecovery {
  /** Segments sealed from journals. */
  sealed: { journal: string; segment: string; count: number }[];
  /** Journal files removed with nothing left to seal (already sealed, or torn before a record). */
  removed: string[];
  /** Files whose last record was torn by the crash (dropped, never acknowledged). */
  torn: string[];
  damaged: JournalDamage[];
}

/** A source's journal files (relative paths), oldest first; files this process appends to are left out. */
export async function listJournalFiles(repo: Repository, sourceId: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(repo.abs(journalDir(sourceId)));
  } catch {
    return [];
  }
  return names
    .map((n) => ({ n, m: JOURNAL_NAME.exec(n) }))
    .filter((x): x is { n: string; m: RegExpExecArray } => !!x.m)
    .sort((a, b) => Number(a.m[1]) - Number(b.m[1]) || Number(a.m[2]) - Number(b.m[2]))
    .map((x) => join(journalDir(sourceId), x.n))
    .filter((p) => !isJournalOpenHere(repo.abs(p)));
}

/** The entries of a scan that follow `tip`, as one payload with its range; null when none do. */
function entriesAfter(
  scan: JournalScan,
  tip: OpTime | null,
): { payload: Buffer; first: OpTime; last: OpTime; count: number; overlapped: boolean } | null {
  if (scan.count === 0) return null;
  if (!tip || compareOpTime(scan.firstTs!, tip) > 0)
    return {
      payload: concatShared(scan.payloads),
      first: scan.firstTs!,
      last: scan.lastTs!,
      count: scan.count,
      overlapped: false,
    };
  if (compareOpTime(scan.lastTs!, tip) <= 0) return null; // all of it is sealed already
  const kept: Uint8Array[] = [];
  for (const p of scan.payloads)
    for (const d of splitBsonDocuments(p)) if (compareOpTime(readEntryTs(d), tip) > 0) kept.push(d);
  return {
    payload: concatShared(kept),
    first: readEntryTs(kept[0]!),
    last: scan.lastTs!,
    count: kept.length,
    overlapped: true,
  };
}

async function setAside(repo: Repository, paths: string[]): Promise<Map<string, string>> {
  const stamp = new Date().toISOString().replace(/[-:.]/g, '');
  const moved = new Map<string, string>();
  for (const p of paths) {
    const to = `${p}.damaged-${stamp}`;
    await rename(repo.abs(p), repo.abs(to));
    moved.set(p, to);
  }
  if (paths.length) fsyncDir(repo.abs(join(paths[0]!, '..')));
  return moved;
}

/**
 * Seals every journal file of a source left by an earlier run. Only the engine holding the
 * repository's writer lock calls this (reconcile at start-up, and capture before it tails).
 */
export async function recoverJournals(
  store: BackupStore,
  sourceId: string,
  encode?: SegmentEncoder,
): Promise<JournalRecovery> {
  const { repo, db } = store;
  const out: JournalRecovery = { sealed: [], removed: [], torn: [], damaged: [] };
  const files = await listJournalFiles(repo, sourceId);
  let tip = store.chainTip(sourceId);
  for (let k = 0; k < files.length; k++) {
    const path = files[k]!;
    let scan: JournalScan;
    try {
      scan = readJournal(repo, path);
    } catch (err) {
      const code = (err as ApiError).code;
      if (code === 'LOCKED' || code === 'CONFLICT' || !(err instanceof ApiError)) throw err;
      const moved = await setAside(repo, files.slice(k));
      out.damaged.push({ path, error: err.message, setAsideAs: moved.get(path)! });
      for (const p of files.slice(k)) deleteJournalRow(db, p);
      break;
    }
    const fresh = entriesAfter(scan, tip);
    // A damaged file (and every later one) is set aside first, kept as evidence; its prefix is
    // sealed from memory below.
    const moved = scan.end === 'damaged' ? await setAside(repo, files.slice(k)) : null;
    if (fresh) {
      // The chain link the capture recorded, unless part of the file was sealed already.
      const prev = fresh.overlapped ? tip : (scan.header?.prevLastTs ?? null);
      const { info } = await store.sealJournal(
        sourceId,
        path,
        fresh.payload,
        { first: fresh.first, last: fresh.last, count: fresh.count },
        prev,
        encode,
      );
      out.sealed.push({ journal: path, segment: info.path, count: fresh.count });
      tip = fresh.last;
    }
    if (scan.end === 'torn' && scan.validBytes < scan.fileBytes) out.torn.push(path);
    if (moved) {
      out.damaged.push({ path, error: `${path}: ${scan.damage}`, setAsideAs: moved.get(path)! });
      for (const p of files.slice(k)) deleteJournalRow(db, p);
      break;
    }
    if (!fresh) {
      await removeJournal(repo, db, path);
      out.removed.push(path);
    }
  }
  // Rows whose file is gone (sealed by an engine that crashed before its transaction, or removed).
  const left = new Set(await listJournalFiles(repo, sourceId));
  for (const r of journalRowsOfSource(db, sourceId))
    if (!left.has(r.path) && !isJournalOpenHere(repo.abs(r.path))) deleteJournalRow(db, r.path);
  return out;
}

async function removeJournal(repo: Repository, db: CatalogDb, path: string): Promise<void> {
  deleteJournalRow(db, path);
  await rm(repo.abs(path), { force: true });
}

/** The alert for journals that recovery found damaged (one open alert per source and kind). */
export function journalDamageAlert(sourceId: string, damaged: readonly JournalDamage[]): NewAlert {
  return {
    sourceId,
    kind: 'JOURNAL_DAMAGED',
    severity: 'critical',
    message: `A capture journal failed its check at start-up (${damaged.map((d) => d.error).join('; ')}). Everything before the damaged record was sealed; the damaged file was set aside${damaged[0]?.setAsideAs ? ` as ${damaged[0].setAsideAs}` : ''}. Capture reads the rest again from the source's oplog; if the oplog no longer holds it, a gap is recorded.`,
    details: damaged,
  };
}

/**
 * For an engine that does not write the repository (or a locked one): records the durable tail
 * of each journal file in the catalog so coverage and planning see it, without sealing anything.
 */
export async function indexJournals(
  db: CatalogDb,
  repo: Repository,
  sourceId: string,
  unreadable: { path: string; error: string }[],
): Promise<void> {
  const files = await listJournalFiles(repo, sourceId);
  const present = new Set(files);
  for (const path of files) {
    try {
      const scan = readJournal(repo, path);
      if (scan.damage) unreadable.push({ path, error: `${path}: ${scan.damage}` });
      if (!scan.header || scan.count === 0) continue;
      saveJournalTail(db, {
        path,
        sourceId,
        firstTs: scan.firstTs!,
        lastTs: scan.lastTs!,
        prevLastTs: scan.header.prevLastTs,
        count: scan.count,
        bytes: scan.validBytes,
      });
      if (scan.damage) break; // nothing after a damaged record is trusted
    } catch (err) {
      const code = (err as ApiError).code;
      if (code === 'LOCKED' || code === 'CONFLICT') throw err;
      unreadable.push({ path, error: (err as Error).message });
      break;
    }
  }
  for (const r of journalRowsOfSource(db, sourceId))
    if (!present.has(r.path) && !isJournalOpenHere(repo.abs(r.path))) deleteJournalRow(db, r.path);
}
