/**
 * A mongodump directory or archive becomes one snapshot of a source in the
 * repository, through the same snapshot writer and store commit path as a
 * snapshot taken from a server: collection data files, the manifest last,
 * the dump's oplog as segments. Its start is just before the first oplog
 * entry (see anchorBefore), its consistent point the last entry; a dump
 * without oplog is consistent at the time it was written. Everything is read and checked before anything
 * becomes visible; a failure removes what was written.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Timestamp, serialize } from 'bson';
import { ApiError } from '../errors.js';
import { newestSegmentEnd } from '../catalog/segments.js';
import { parseDocument, readEntryTs } from '../repo/bson-entries.js';
import { TEMP_MARKER } from '../repo/durable-file.js';
import { MAX_INCREMENT, compareOpTime, formatOpTime, type OpTime } from '../repo/optime.js';
import { T, asBuffer, makeElement, withField } from '../oplog/bson-raw.js';
import type { CollectionWriter, NamespaceMeta } from '../repo/snapshot-files.js';
import type { BackupStore } from '../store/backup-store.js';
import { readArchive } from './archive-reader.js';
import { ByteReader } from './byte-reader.js';
import { readDirectory } from './directory-reader.js';
import type { DumpContents, DumpNamespace } from './dump-types.js';
import { parseDumpMetadata, type DumpMetadata } from './metadata.js';
import { OutputFile } from './output-file.js';
import type { WorkContext } from './progress.js';

export const BUCKETS_PREFIX = 'system.buckets.';
const SEGMENT_MAX_ENTRIES = 50_000;
const SEGMENT_MAX_BYTES = 16 * 1024 * 1024;

export interface ImportInput {
  dir?: string;
  archive?: string;
  gzip?: boolean;
}

export interface ImportSummary {
  snapshotId: string;
  namespaces: number;
  documents: number;
  oplogEntries: number;
  segments: number;
  startTs: OpTime;
  consistentTs: OpTime;
  users: number;
  roles: number;
  /**
   * Oplog entries whose ts did not follow the entry before them in the file (hand-edited dumps),
   * stored under the next ts after it, in file order, as mongorestore applies them (the first 100).
   */
  oplogRestamped?: { count: number; entries: { entry: number; ts: string; storedAs: string }[] };
}

export function openDump(input: ImportInput): Promise<DumpContents> {
  if (!!input.dir === !!input.archive)
    throw new ApiError(
      'INVALID_INPUT',
      'Give exactly one of --dir (a mongodump directory) or --archive (a file).',
    );
  return input.dir ? readDirectory(input.dir, input.gzip) : readArchive(input.archive!, input.gzip);
}

const nsKey = (n: { db: string; collection: string }) => `${n.db}.${n.collection}`;

function metaOf(ns: DumpNamespace, label: string): DumpMetadata | null {
  return ns.metadata === null ? null : parseDumpMetadata(ns.metadata, `metadata of ${nsKey(ns)} (${label})`);
}

/** Reads the whole dump into the repository as a snapshot of `sourceId`. */
export async function importDump(
  store: BackupStore,
  sourceId: string,
  dump: DumpContents,
  label: string,
  ctx: WorkContext,
): Promise<ImportSummary> {
  // Every metadata document is parsed before anything is written: a bad one refuses the dump.
  const metas = new Map<string, DumpMetadata | null>();
  for (const ns of dump.namespaces) metas.set(nsKey(ns), metaOf(ns, label));
  const total = dump.namespaces.reduce((n, ns) => n + ns.size, 0) || null;

  const writer = store.beginSnapshot({
    sourceId,
    startTs: { t: 0, i: 0 },
    serverVersion: dump.prelude?.serverVersion || null,
  });
  const open = new Map<string, CollectionWriter>();
  const dirAbs = store.repo.abs(writer.relDir);
  const oplogTemp = join(
    dirAbs,
    `oplog-import${TEMP_MARKER}${process.pid}-${randomBytes(4).toString('hex')}`,
  );
  let oplogFile: OutputFile | null = null;
  const appended: string[] = [];
  try {
    // Views and time-series definitions are recorded by their metadata alone.
    for (const ns of dump.namespaces) {
      const m = metas.get(nsKey(ns)) ?? null;
      if (ns.type === 'view' || ns.type === 'timeseries') writer.addWithoutData(namespaceMeta(ns, m));
    }
    let documents = 0;
    let oplogEntries = 0;
    let first: OpTime | null = null;
    let last: OpTime | null = null;
    let bytes = 0;
    const restamped: { entry: number; ts: string; storedAs: string }[] = [];
    let restampedCount = 0;
    // Raw BSON: the snapshot stores users and roles as encrypted data files, byte for byte.
    const users: Uint8Array[] = [];
    const roles: Uint8Array[] = [];
    for await (const item of dump.items()) {
      bytes += item.doc.byteLength;
      if (item.kind === 'oplog') {
        parseDocument(item.doc, `${label} oplog entry ${oplogEntries}`);
        let ts = readEntryTs(item.doc);
        let entry = item.doc;
        if (last && compareOpTime(ts, last) <= 0) {
          // No server writes an oplog whose ts repeats or goes back; a hand-edited oplog.bson does
          // (mongo-tools' create_indexes/ and commit_indexes_build/ append entries that repeat earlier
          // ts). mongorestore applies oplog.bson in file order and ends --oplogLimit at the first entry
          // (in file order) at or past the limit, so such an entry takes effect right after the one
          // before it in the file. The repository keeps an oplog in strictly increasing ts order (and a
          // captured one is refused if it breaks it), so the entry is stored under the next ts after its
          // predecessor, and the summary lists it with its own ts.
          const storedAs = last.i < MAX_INCREMENT ? { t: last.t, i: last.i + 1 } : { t: last.t + 1, i: 0 };
          if (restamped.length < 100)
            restamped.push({ entry: oplogEntries, ts: formatOpTime(ts), storedAs: formatOpTime(storedAs) });
          restampedCount++;
          entry = withEntryTs(item.doc, storedAs);
          ts = storedAs;
        }
        first ??= ts;
        last = ts;
        if (!oplogFile) {
          await mkdir(dirAbs, { recursive: true });
          oplogFile = OutputFile.create(oplogTemp, false);
        }
        await oplogFile.write(entry);
        oplogEntries++;
      } else {
        const key = nsKey(item.ns);
        parseDocument(item.doc, `${label} ${key} document ${documents}`);
        let w = open.get(key);
        if (!w) {
          const m = metas.get(key) ?? null;
          const meta =
            item.ns.type === 'timeseries'
              ? // The buckets collection carries the data; its definition was added above.
                {
                  ...namespaceMeta(item.ns, m),
                  name: `${BUCKETS_PREFIX}${item.ns.collection}`,
                  type: 'collection' as const,
                  options: {},
                  indexes: [],
                  uuid: null,
                  dumpMetadataFields: null,
                }
              : namespaceMeta(item.ns, m);
          w = await writer.collection(meta);
          open.set(key, w);
        }
        await w.write(item.doc);
        documents++;
        if (item.ns.db === 'admin' && item.ns.collection === 'system.users')
          users.push(Buffer.from(item.doc));
        if (item.ns.db === 'admin' && item.ns.collection === 'system.roles')
          roles.push(Buffer.from(item.doc));
      }
      if ((documents + oplogEntries) % 1000 === 0) {
        ctx.throwIfCancelled();
        ctx.progress({ done: bytes, total, unit: 'bytes', message: `Reading ${label}` });
      }
    }
    // A collection listed with no documents still exists (empty) in the snapshot.
    for (const ns of dump.namespaces) {
      if (ns.type === 'view' || open.has(nsKey(ns))) continue;
      const m = metas.get(nsKey(ns)) ?? null;
      if (ns.type === 'timeseries') continue;
      open.set(nsKey(ns), await writer.collection(namespaceMeta(ns, m)));
    }
    for (const w of open.values()) writer.add(await w.close());
    open.clear();
    await oplogFile?.close();
    ctx.throwIfCancelled();

    const newest = newestSegmentEnd(store.db, sourceId);
    if (first && newest && compareOpTime(first, newest) <= 0)
      throw new ApiError(
        'CONFLICT',
        `The dump's oplog starts at ${formatOpTime(first)}, inside what this source already holds (up to ${formatOpTime(newest)}); import it into another source.`,
      );

    let segments = 0;
    const anchor = first ? anchorBefore(first) : null;
    if (oplogFile) {
      ctx.progress({ message: 'Writing oplog segments' });
      const r = await ByteReader.open(oplogTemp, 'imported oplog', false);
      let batch: Uint8Array[] = [anchorEntry(anchor!)];
      let batchBytes = 0;
      let prev: OpTime | null = null;
      const flush = async () => {
        if (!batch.length) return;
        // The first segment starts a chain of its own: a dump is never continuous with what came before.
        const { info } = await store.appendSegment(sourceId, batch, prev);
        appended.push(info.path);
        prev = info.lastTs;
        segments++;
        batch = [];
        batchBytes = 0;
        ctx.throwIfCancelled();
      };
      for (;;) {
        const doc = await r.document('oplog entry');
        if (!doc) break;
        batch.push(doc);
        batchBytes += doc.byteLength;
        if (batch.length >= SEGMENT_MAX_ENTRIES || batchBytes >= SEGMENT_MAX_BYTES) await flush();
      }
      await flush();
      await rm(oplogTemp, { force: true });
    }
    const at = { t: Math.floor(dump.writtenAt.getTime() / 1000), i: 0 };
    const manifest = await store.commitSnapshot(writer, {
      startTs: anchor ?? at,
      consistentTs: last ?? at,
      users: users.length ? users : null,
      roles: roles.length ? roles : null,
      importedFrom: {
        format: dump.format,
        preludeJson: dump.prelude !== null,
        toolVersion: dump.prelude?.toolVersion ?? '',
      },
    });
    return {
      snapshotId: manifest.snapshotId,
      namespaces: manifest.namespaces.length,
      documents,
      oplogEntries,
      segments,
      startTs: manifest.startTs,
      consistentTs: manifest.consistentTs,
      users: users.length,
      roles: roles.length,
      ...(restampedCount ? { oplogRestamped: { count: restampedCount, entries: restamped } } : {}),
    };
  } catch (err) {
    for (const w of open.values()) await w.abort();
    await oplogFile?.abort();
    await writer.abort();
    for (const path of appended.reverse()) await store.forgetSegment(path);
    throw err;
  }
}

/**
 * mongodump copies the oplog from the newest entry before it started
 * (inclusive) and mongorestore replays every entry of oplog.bson, the first
 * one included. A snapshot replays the entries after its start, so an
 * imported snapshot starts one tick before the dump's first entry, and the
 * oplog is anchored there by a no-op entry (the planner needs the snapshot's
 * start inside the segments' coverage). Export leaves the anchor out.
 */
export function anchorBefore(first: OpTime): OpTime {
  return first.i > 0 ? { t: first.t, i: first.i - 1 } : { t: first.t - 1, i: 0xffffffff };
}

/** The entry with its `ts` set to another value (in place: every other byte as it was). */
function withEntryTs(doc: Uint8Array, ts: OpTime): Uint8Array {
  const v = Buffer.alloc(8);
  v.writeUInt32LE(ts.i, 0); // a BSON Timestamp is the increment, then the seconds
  v.writeUInt32LE(ts.t, 4);
  return withField(asBuffer(doc), 'ts', makeElement(T.timestamp, 'ts', v));
}

export const ANCHOR_MESSAGE = 'import anchor: the dump oplog starts after this entry';

function anchorEntry(ts: OpTime): Uint8Array {
  return serialize({
    ts: new Timestamp({ t: ts.t, i: ts.i }),
    op: 'n',
    ns: '',
    o: { msg: ANCHOR_MESSAGE },
  });
}

function namespaceMeta(ns: DumpNamespace, m: DumpMetadata | null): NamespaceMeta {
  return {
    db: ns.db,
    name: ns.collection,
    type: ns.type === 'view' ? 'view' : ns.type === 'timeseries' ? 'timeseries' : 'collection',
    uuid: m?.uuid ?? null,
    options: m?.options ?? {},
    indexes: m?.indexes ?? [],
    dumpMetadataFields: m ? m.fields : null,
  };
}
