/**
 * Exports a restore point as mongodump output, which is what
 * `mongodump --oplog` would have written had it run then: the plan's
 * snapshot collections as they are, and `oplog.bson` holding exactly the
 * entries from the snapshot's start through the point (mongodump includes
 * the start entry too; an imported snapshot's start is an anchor no-op that
 * is left out), so that `mongorestore --oplogReplay` rebuilds the
 * point. Include / exclude / rename apply to the files and to the oplog
 * entries alike. Written under a temporary name and renamed when complete.
 */
import { stat, readdir } from 'node:fs/promises';
import { ApiError } from '../errors.js';
import { sourceHasOplog } from '../catalog/sources.js';
import { parseRestorePoint, planRestore } from '../restore/planner.js';
import { NamespaceFilter, type NamespaceRules } from '../oplog/namespace-selection.js';
import { readEntryTs } from '../repo/bson-entries.js';
import { compareOpTime, type OpTime } from '../repo/optime.js';
import { readSegment } from '../repo/segment-file.js';
import {
  readCollection,
  readManifest,
  readUsersAndRoles,
  type NamespaceEntry,
} from '../repo/snapshot-files.js';
import type { BackupStore } from '../store/backup-store.js';
import { APP_NAME, APP_VERSION } from '../version.js';
import { ArchiveWriter } from './archive-writer.js';
import { DirectoryWriter } from './directory-writer.js';
import type { DumpNamespace, DumpWriter } from './dump-types.js';
import { BUCKETS_PREFIX } from './import-dump.js';
import { dumpMetadataJson, type MetadataField } from './metadata.js';
import type { WorkContext } from './progress.js';

export interface ExportInput extends NamespaceRules {
  at: string;
  out?: string;
  archive?: string;
  gzip?: boolean;
}

export interface ExportSummary {
  path: string;
  format: 'directory' | 'archive';
  gzip: boolean;
  snapshotId: string;
  startTs: OpTime;
  pointTs: OpTime;
  namespaces: number;
  documents: number;
  oplogEntries: number;
  bytes: number;
}

/** Where a namespace's documents come from: a snapshot data file, or the manifest's users/roles. */
type DataSource = { entry: NamespaceEntry } | { docs: Uint8Array[] } | null;

interface Planned {
  ns: DumpNamespace;
  data: DataSource;
}

const AUTH_INDEX: Record<string, Record<string, unknown>> = {
  'system.users': { user: { $numberInt: '1' }, db: { $numberInt: '1' } },
  'system.roles': { role: { $numberInt: '1' }, db: { $numberInt: '1' } },
};

function authIndexes(coll: 'system.users' | 'system.roles'): Record<string, unknown>[] {
  const v = { $numberInt: '2' };
  const key = AUTH_INDEX[coll]!;
  return [
    { v, key: { _id: { $numberInt: '1' } }, name: '_id_' },
    {
      v,
      unique: true,
      key,
      name: Object.keys(key)
        .map((k) => `${k}_1`)
        .join('_'),
    },
  ];
}

async function refuseExisting(path: string): Promise<void> {
  const s = await stat(path).catch(() => null);
  if (!s) return;
  if (s.isDirectory() && (await readdir(path)).length === 0) return;
  throw new ApiError('CONFLICT', `${path} already exists; choose a new name (an export never overwrites).`);
}

export async function exportDump(
  store: BackupStore,
  sourceId: string,
  input: ExportInput,
  ctx: WorkContext,
): Promise<ExportSummary> {
  if (!!input.out === !!input.archive)
    throw new ApiError('INVALID_INPUT', 'Give exactly one of --out (a directory) or --archive (a file).');
  const filter = new NamespaceFilter(input);
  const plan = planRestore(store.db, sourceId, parseRestorePoint(input.at));
  if (!plan.ok) throw new ApiError('CONFLICT', plan.message, { reason: plan.reason });
  const target = (input.out ?? input.archive)!;
  await refuseExisting(target);
  const manifest = await readManifest(store.repo, plan.snapshot.path);

  const byNs = new Map(manifest.namespaces.map((n) => [n.ns, n]));
  const planned: Planned[] = [];
  const add = (
    n: Pick<NamespaceEntry, 'ns' | 'type' | 'options' | 'indexes' | 'uuid' | 'dumpMetadataFields'>,
    data: DataSource,
    size: number,
  ) => {
    if (!filter.keeps(n.ns)) return;
    const to = filter.rename(n.ns);
    const dot = to.indexOf('.');
    const [db, collection] = [to.slice(0, dot), to.slice(dot + 1)];
    const metadata =
      n.dumpMetadataFields === null
        ? null
        : dumpMetadataJson({
            options: n.options,
            indexes: n.indexes,
            uuid: n.uuid,
            type: n.type,
            name: collection,
            ...(n.dumpMetadataFields ? { fields: n.dumpMetadataFields as MetadataField[] } : {}),
          });
    const type = n.type === 'collection' ? '' : n.type;
    planned.push({ ns: { db, collection, type, metadata, hasData: data !== null, size }, data });
  };
  for (const n of manifest.namespaces) {
    if (n.type === 'collection' && n.name.startsWith(BUCKETS_PREFIX)) {
      const def = byNs.get(`${n.db}.${n.name.slice(BUCKETS_PREFIX.length)}`);
      if (def?.type === 'timeseries') continue; // exported as the time-series collection's data
    }
    if (n.type === 'view') add(n, null, 0);
    else if (n.type === 'timeseries') {
      const buckets = byNs.get(`${n.db}.${BUCKETS_PREFIX}${n.name}`);
      add(n, buckets ? { entry: buckets } : null, buckets?.rawBytes ?? 0);
    } else add(n, { entry: n }, n.rawBytes);
  }
  // Users and roles taken with the snapshot, as mongodump writes them (admin.system.users / roles).
  const security = await readUsersAndRoles(store.repo, plan.snapshot.path, manifest);
  for (const [coll, docs] of [
    ['system.users', security.users],
    ['system.roles', security.roles],
  ] as const) {
    if (!docs?.length || byNs.has(`admin.${coll}`)) continue;
    add(
      { ns: `admin.${coll}`, type: 'collection', options: {}, indexes: authIndexes(coll), uuid: null },
      { docs },
      0,
    );
  }
  planned.sort((a, b) => (`${a.ns.db}.${a.ns.collection}` < `${b.ns.db}.${b.ns.collection}` ? -1 : 1));

  const gzip = !!input.gzip;
  const writer: DumpWriter = input.out
    ? new DirectoryWriter(input.out, gzip, manifest.importedFrom?.preludeJson ?? true)
    : new ArchiveWriter(input.archive!, gzip);
  // mongodump --oplog of a replica set always writes oplog.bson, even when nothing happened during
  // the dump; a standalone's snapshot or a dump imported without oplog has none.
  const withOplog =
    plan.segments.length > 0 || (!manifest.importedFrom && sourceHasOplog(store.db, sourceId));
  // Progress counts documents and oplog entries (the planned segments may hold a few outside the range).
  const total =
    planned.reduce(
      (n, p) => n + (p.data ? ('entry' in p.data ? p.data.entry.count : p.data.docs.length) : 0),
      0,
    ) + plan.segments.reduce((n, s) => n + s.count, 0);
  let documents = 0;
  let oplogEntries = 0;
  const tick = () => {
    if ((documents + oplogEntries) % 1000 !== 0) return;
    ctx.throwIfCancelled();
    ctx.progress({
      done: documents + oplogEntries,
      total: total || null,
      unit: 'documents',
      message: `Exporting to ${target}`,
    });
  };
  try {
    await writer.begin(
      { serverVersion: manifest.serverVersion ?? '', toolVersion: `${APP_NAME} ${APP_VERSION}` },
      planned.map((p) => p.ns),
      withOplog,
    );
    for (const p of planned) {
      if (!p.data) continue;
      const sink = await writer.collection(p.ns);
      if ('entry' in p.data) {
        for await (const doc of readCollection(store.repo, plan.snapshot.path, p.data.entry)) {
          await sink.write(doc);
          documents++;
          tick();
        }
      } else {
        for (const d of p.data.docs) {
          await sink.write(d);
          documents++;
        }
      }
      await sink.close();
    }
    if (withOplog) {
      const sink = await writer.oplog();
      const from = plan.snapshot.startTs;
      // mongodump includes its start entry; an imported snapshot's start is its anchor, which is left out.
      const firstKept = manifest.importedFrom ? 1 : 0;
      outer: for (const seg of plan.segments) {
        const { entries } = await readSegment(store.repo, seg.path);
        for (const raw of entries) {
          const ts = readEntryTs(raw);
          if (compareOpTime(ts, from) < firstKept) continue;
          if (compareOpTime(ts, plan.bound) > 0) break outer;
          const kept = filter.entry(raw);
          if (!kept) continue;
          await sink.write(kept);
          oplogEntries++;
          tick();
        }
      }
      await sink.close();
    }
    ctx.throwIfCancelled();
    await writer.commit();
  } catch (err) {
    await writer.abort();
    throw err;
  }
  return {
    path: target,
    format: input.out ? 'directory' : 'archive',
    gzip,
    snapshotId: plan.snapshot.id,
    startTs: plan.snapshot.startTs,
    pointTs: plan.bound,
    namespaces: planned.length,
    documents,
    oplogEntries,
    bytes: writer.bytes,
  };
}
