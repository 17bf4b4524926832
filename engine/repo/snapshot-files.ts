/**
 * Snapshot storage: one directory per snapshot with one data file per
 * collection (concatenated BSON documents in the envelope format) and a
 * manifest.json written last. A snapshot without a durable manifest is
 * incomplete and never restorable.
 */
import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { EJSON, serialize } from 'bson';
import { ApiError } from '../errors.js';
import { parseDocument, splitBsonDocuments } from './bson-entries.js';
import { DurableFile, writeFileDurable } from './durable-file.js';
import { EnvelopeEncoder, EnvelopeReader, FRAME_RAW_BYTES, FileKind, fileSource } from './envelope.js';
import { isOpTime, type OpTime } from './optime.js';
import { openRepoFile, readRepoFile } from './repo-file.js';
import type { Repository } from './repository.js';

export const MANIFEST_FILE = 'manifest.json';
/**
 * 2: users and roles are data files (`users.bin`, `roles.bin`) like any
 * collection, so they are encrypted in an encrypted repository; version 1
 * kept them in the manifest as Extended JSON, in clear. Both are read.
 */
export const MANIFEST_FORMAT_VERSION = 2;
/** A manifest larger than this is not one we wrote (10,000 namespaces take about 10 MB). */
const MAX_MANIFEST_BYTES = 64 * 1024 * 1024;
/** A data file name inside its snapshot directory: no separator, no leading dot. */
const DATA_FILE_NAME = /^[0-9A-Za-z_-][0-9A-Za-z._-]{0,99}$/;

export type NamespaceType = 'collection' | 'view' | 'timeseries';

export interface NamespaceMeta {
  db: string;
  name: string;
  type: NamespaceType;
  uuid: string | null;
  /** Collection options (capped, validator, collation, viewOn/pipeline, timeseries…) as canonical Extended JSON. */
  options: Record<string, unknown>;
  /** Index specifications as canonical Extended JSON. */
  indexes: Record<string, unknown>[];
  /**
   * Imported from a mongodump: the top-level fields its metadata.json had,
   * in order (null: the dump had no metadata file), so an export writes the
   * same ones. Absent for snapshots taken from a source.
   */
  dumpMetadataFields?: string[] | null;
}

export interface NamespaceEntry extends NamespaceMeta {
  ns: string;
  count: number;
  rawBytes: number;
  storedBytes: number;
  /** Data file name inside the snapshot directory; null for views and time-series definitions. */
  file: string | null;
  sha256: string | null;
}

/** admin.system.users or admin.system.roles, stored as a data file (manifest version 2). */
export interface SecurityDataEntry {
  ns: 'admin.system.users' | 'admin.system.roles';
  file: string;
  count: number;
  rawBytes: number;
  storedBytes: number;
  sha256: string;
}

export interface SnapshotManifest {
  type: 'snapshot-manifest';
  formatVersion: number;
  sourceId: string;
  snapshotId: string;
  startTs: OpTime;
  consistentTs: OpTime;
  startedAt: string;
  completedAt: string;
  serverVersion: string | null;
  namespaces: NamespaceEntry[];
  /**
   * admin.system.users / system.roles when chosen: their data file (version 2),
   * or in version 1 the documents themselves as canonical Extended JSON.
   */
  users: SecurityDataEntry | Record<string, unknown>[] | null;
  roles: SecurityDataEntry | Record<string, unknown>[] | null;
  totals: { count: number; rawBytes: number; storedBytes: number };
  /** Schedule tiers this snapshot was taken for (empty: on demand). */
  tiers?: string[];
  /** Set when the snapshot was imported from mongodump output (import.dump). */
  importedFrom?: ImportedFrom;
  integrity?: { algorithm: 'sha256' | 'hmac-sha256'; value: string };
}

export interface ImportedFrom {
  format: 'directory' | 'archive';
  /** Whether the dump had a prelude (an archive header, or prelude.json: older mongodump wrote none); a directory export writes prelude.json only then. */
  preludeJson: boolean;
  toolVersion: string;
}

export const snapshotRelDir = (sourceId: string, snapshotId: string) =>
  join('sources', sourceId, 'snapshots', snapshotId);

/** Streams one collection's documents into its data file, frame by frame. */
export class CollectionWriter {
  private buffered: Uint8Array[] = [];
  private bufferedBytes = 0;
  private readonly hash = createHash('sha256');
  count = 0;
  rawBytes = 0;

  constructor(
    private readonly file: DurableFile,
    private readonly encoder: EnvelopeEncoder,
    readonly meta: NamespaceMeta,
    readonly fileName: string,
  ) {}

  static async create(
    repo: Repository,
    dir: string,
    fileName: string,
    header: object,
    meta: NamespaceMeta,
  ): Promise<CollectionWriter> {
    const file = await DurableFile.create(join(dir, fileName), repo.io);
    const encoder = new EnvelopeEncoder(FileKind.CollectionData, header, {
      compression: repo.config.compression,
      key: repo.key(),
    });
    const w = new CollectionWriter(file, encoder, meta, fileName);
    await w.emit([encoder.preamble]);
    return w;
  }

  private async emit(parts: Buffer[]): Promise<void> {
    for (const p of parts) this.hash.update(p);
    await this.file.write(parts);
  }

  async write(doc: Uint8Array): Promise<void> {
    this.buffered.push(doc);
    this.bufferedBytes += doc.byteLength;
    this.count++;
    this.rawBytes += doc.byteLength;
    if (this.bufferedBytes >= FRAME_RAW_BYTES) await this.flush(false);
  }

  private async flush(final: boolean): Promise<void> {
    const raw = Buffer.concat(this.buffered);
    this.buffered = [];
    this.bufferedBytes = 0;
    await this.emit(this.encoder.frame(raw, final));
  }

  async close(): Promise<NamespaceEntry> {
    await this.flush(true);
    await this.file.commit();
    return {
      ...this.meta,
      ns: `${this.meta.db}.${this.meta.name}`,
      count: this.count,
      rawBytes: this.rawBytes,
      storedBytes: this.file.bytes,
      file: this.fileName,
      sha256: this.hash.digest('hex'),
    };
  }

  abort(): Promise<void> {
    return this.file.abort();
  }
}

export interface SnapshotStart {
  sourceId: string;
  snapshotId: string;
  startTs: OpTime;
  startedAt?: string;
  serverVersion?: string | null;
  tiers?: string[];
}

export class SnapshotWriter {
  private readonly namespaces: NamespaceEntry[] = [];
  private fileNo = 0;
  readonly relDir: string;

  private constructor(
    private readonly repo: Repository,
    readonly start: Required<SnapshotStart>,
  ) {
    this.relDir = snapshotRelDir(start.sourceId, start.snapshotId);
  }

  static begin(repo: Repository, start: SnapshotStart): SnapshotWriter {
    repo.key(); // fail early (LOCKED) rather than after reading the source
    return new SnapshotWriter(repo, {
      startedAt: new Date().toISOString(),
      serverVersion: null,
      tiers: [],
      ...start,
    });
  }

  /** Opens the data file of one collection; several may be open at once. */
  async collection(meta: NamespaceMeta): Promise<CollectionWriter> {
    const fileName = `${String(++this.fileNo).padStart(5, '0')}.bin`;
    const header = this.dataHeader(`${meta.db}.${meta.name}`);
    return CollectionWriter.create(this.repo, this.repo.abs(this.relDir), fileName, header, meta);
  }

  /** Records a finished collection (from CollectionWriter.close) or a view (no data). */
  add(entry: NamespaceEntry): void {
    this.namespaces.push(entry);
  }

  /** A namespace recorded by its definition only: a view, or a time-series collection (its data is its buckets). */
  addWithoutData(meta: NamespaceMeta): void {
    this.add({
      ...meta,
      ns: `${meta.db}.${meta.name}`,
      count: 0,
      rawBytes: 0,
      storedBytes: 0,
      file: null,
      sha256: null,
    });
  }

  /** admin.system.users or roles (raw BSON) as a data file, encrypted like any collection. */
  private async securityFile(
    ns: SecurityDataEntry['ns'],
    docs: readonly Uint8Array[] | null | undefined,
  ): Promise<SecurityDataEntry | null> {
    if (!docs) return null;
    const name = ns === 'admin.system.users' ? 'system.users' : 'system.roles';
    const fileName = ns === 'admin.system.users' ? 'users.bin' : 'roles.bin';
    const meta: NamespaceMeta = {
      db: 'admin',
      name,
      type: 'collection',
      uuid: null,
      options: {},
      indexes: [],
    };
    const w = await CollectionWriter.create(
      this.repo,
      this.repo.abs(this.relDir),
      fileName,
      this.dataHeader(ns),
      meta,
    );
    try {
      for (const d of docs) await w.write(d);
      const e = await w.close();
      return {
        ns,
        file: fileName,
        count: e.count,
        rawBytes: e.rawBytes,
        storedBytes: e.storedBytes,
        sha256: e.sha256!,
      };
    } catch (err) {
      await w.abort();
      throw err;
    }
  }

  private dataHeader(ns: string) {
    return {
      type: 'collection-data',
      formatVersion: MANIFEST_FORMAT_VERSION,
      sourceId: this.start.sourceId,
      snapshotId: this.start.snapshotId,
      ns,
    };
  }

  /** Writes users and roles, then the manifest durably: from now on the snapshot is complete. */
  async commit(end: {
    consistentTs: OpTime;
    /** An import learns its start only from the dump's oplog, after the data is written. */
    startTs?: OpTime;
    /** admin.system.users documents as raw BSON, when chosen. */
    users?: readonly Uint8Array[] | null;
    roles?: readonly Uint8Array[] | null;
    importedFrom?: ImportedFrom;
  }): Promise<SnapshotManifest> {
    const users = await this.securityFile('admin.system.users', end.users);
    const roles = await this.securityFile('admin.system.roles', end.roles);
    const namespaces = [...this.namespaces].sort((a, b) => (a.ns < b.ns ? -1 : a.ns > b.ns ? 1 : 0));
    const body: SnapshotManifest = {
      type: 'snapshot-manifest',
      formatVersion: MANIFEST_FORMAT_VERSION,
      sourceId: this.start.sourceId,
      snapshotId: this.start.snapshotId,
      startTs: end.startTs ?? this.start.startTs,
      consistentTs: end.consistentTs,
      startedAt: this.start.startedAt,
      completedAt: new Date().toISOString(),
      serverVersion: this.start.serverVersion,
      namespaces,
      users,
      roles,
      tiers: this.start.tiers,
      ...(end.importedFrom ? { importedFrom: end.importedFrom } : {}),
      totals: namespaces.reduce(
        (t, n) => ({
          count: t.count + n.count,
          rawBytes: t.rawBytes + n.rawBytes,
          storedBytes: t.storedBytes + n.storedBytes,
        }),
        { count: 0, rawBytes: 0, storedBytes: 0 },
      ),
    };
    const manifest = sealManifest(this.repo, body);
    await writeFileDurable(
      join(this.repo.abs(this.relDir), MANIFEST_FILE),
      [Buffer.from(`${JSON.stringify(manifest, null, 1)}\n`)],
      this.repo.io,
    );
    return manifest;
  }

  /** Removes everything written so far: a failed or cancelled snapshot leaves no trace. */
  async abort(): Promise<void> {
    await rm(this.repo.abs(this.relDir), { recursive: true, force: true });
  }
}

function integrityOf(repo: Repository, body: SnapshotManifest): NonNullable<SnapshotManifest['integrity']> {
  const text = JSON.stringify({ ...body, integrity: undefined });
  const mac = repo.encrypted ? repo.mac(text) : null;
  return mac
    ? { algorithm: 'hmac-sha256', value: mac }
    : { algorithm: 'sha256', value: createHash('sha256').update(text).digest('hex') };
}

function sealManifest(repo: Repository, body: SnapshotManifest): SnapshotManifest {
  return { ...body, integrity: integrityOf(repo, body) };
}

/** The data file of a manifest entry: CORRUPT unless it is a plain name inside the snapshot directory. */
export function dataFilePath(relDir: string, file: unknown): string {
  if (typeof file !== 'string' || !DATA_FILE_NAME.test(file) || file === MANIFEST_FILE)
    throw new ApiError(
      'CORRUPT',
      `${join(relDir, MANIFEST_FILE)}: data file name ${JSON.stringify(file)} is not a plain file name inside the snapshot directory.`,
    );
  return join(relDir, file);
}

const isCount = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 0;

/** CORRUPT unless the manifest has the shape we write, with every data file inside its directory. */
function checkManifestShape(m: SnapshotManifest, relDir: string, path: string): void {
  const bad = (why: string) => new ApiError('CORRUPT', `${path}: ${why}`);
  if (!isOpTime(m.startTs) || !isOpTime(m.consistentTs)) throw bad('startTs or consistentTs is malformed.');
  if (!Array.isArray(m.namespaces)) throw bad('namespaces is not a list.');
  if (!m.totals || !isCount(m.totals.count) || !isCount(m.totals.rawBytes) || !isCount(m.totals.storedBytes))
    throw bad('totals are malformed.');
  for (const n of m.namespaces) {
    if (!n || typeof n.ns !== 'string' || !isCount(n.count)) throw bad('a namespace entry is malformed.');
    if (n.file !== null) dataFilePath(relDir, n.file);
  }
  for (const key of ['users', 'roles'] as const) {
    const v = m[key];
    if (v === null || v === undefined || Array.isArray(v)) {
      if (Array.isArray(v) && m.formatVersion >= 2) throw bad(`${key} in clear in a version-2 manifest.`);
      continue;
    }
    if (typeof v !== 'object' || !isCount(v.count)) throw bad(`${key} is malformed.`);
    dataFilePath(relDir, v.file);
  }
}

/**
 * Reads and checks a manifest (checksum, or HMAC in an encrypted repository),
 * its shape, and that it is the manifest of the snapshot whose directory
 * holds it: source and snapshot ids come from the place in the tree.
 */
export async function readManifest(repo: Repository, relDir: string): Promise<SnapshotManifest> {
  const path = join(relDir, MANIFEST_FILE);
  let manifest: SnapshotManifest;
  try {
    manifest = JSON.parse(
      (await readRepoFile(repo.abs(path), MAX_MANIFEST_BYTES)).toString('utf8'),
    ) as SnapshotManifest;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT')
      throw new ApiError('NOT_FOUND', `${path} is missing.`);
    if (err instanceof ApiError) throw err;
    throw new ApiError('CORRUPT', `${path} is not valid JSON.`);
  }
  if (manifest?.type !== 'snapshot-manifest' || !manifest.integrity)
    throw new ApiError('CORRUPT', `${path}: not a snapshot manifest.`);
  if (manifest.formatVersion > MANIFEST_FORMAT_VERSION)
    throw new ApiError('CORRUPT', `${path}: manifest format is newer than supported.`);
  checkManifestShape(manifest, relDir, path);
  const place = /^sources[/\\]([^/\\]+)[/\\]snapshots[/\\]([^/\\]+)$/.exec(relDir);
  if (!place || place[1] !== manifest.sourceId || place[2] !== manifest.snapshotId)
    throw new ApiError(
      'CORRUPT',
      `${path}: the manifest is of snapshot ${String(manifest.snapshotId)} (source ${String(manifest.sourceId)}), not of ${basename(relDir)} whose directory holds it.`,
    );
  // An unencrypted check can be done while locked; an HMAC needs the key.
  if (manifest.integrity.algorithm === 'hmac-sha256' && !repo.unlocked) return manifest;
  const expected = integrityOf(repo, manifest);
  if (expected.value !== manifest.integrity.value || expected.algorithm !== manifest.integrity.algorithm) {
    throw new ApiError('CORRUPT', `${path}: manifest checksum mismatch.`);
  }
  return manifest;
}

/** What readCollection needs of a manifest entry (namespaces, users, roles). */
type DataEntry = Pick<NamespaceEntry, 'ns' | 'count'> & { file: string | null };

/** Verifies a collection file against the manifest and yields its documents. */
export async function* readCollection(
  repo: Repository,
  relDir: string,
  entry: DataEntry,
  opts: { parse?: boolean } = {},
): AsyncGenerator<Uint8Array> {
  if (!entry.file) return;
  const rel = dataFilePath(relDir, entry.file);
  const fh = await openRepoFile(repo.abs(rel)).catch((err: NodeJS.ErrnoException) => {
    throw err.code === 'ENOENT' ? new ApiError('NOT_FOUND', `${rel} is missing.`) : err;
  });
  try {
    repo.key(); // LOCKED before anything is read
    const reader = await EnvelopeReader.open<{ ns: string; sourceId?: string; snapshotId?: string }>(
      await fileSource(fh),
      rel,
      repo.keying(),
    );
    const h = reader.info.header;
    const place = /^sources[/\\]([^/\\]+)[/\\]snapshots[/\\]([^/\\]+)$/.exec(relDir);
    if (
      reader.info.kind !== FileKind.CollectionData ||
      h.ns !== entry.ns ||
      h.sourceId !== place?.[1] ||
      h.snapshotId !== place?.[2]
    ) {
      throw new ApiError('CORRUPT', `${rel}: header does not belong to ${entry.ns} of this snapshot.`);
    }
    let count = 0;
    let carry: Buffer = Buffer.alloc(0);
    for await (const frame of reader.frames()) {
      // Frames are cut on document boundaries by the writer; carry handles any other producer.
      const buf: Buffer = carry.length ? Buffer.concat([carry, frame]) : frame;
      let used = 0;
      for (;;) {
        if (buf.length - used < 4) break;
        const len = buf.readInt32LE(used);
        if (len <= 0 || used + len > buf.length) break;
        const [doc] = splitBsonDocuments(buf.subarray(used, used + len), rel);
        if (opts.parse) parseDocument(doc!, `${rel} document ${count}`);
        yield doc!;
        used += len;
        count++;
      }
      carry = buf.subarray(used);
    }
    if (carry.length)
      throw new ApiError('INVALID_BSON', `${rel}: ${carry.length} trailing bytes (truncated document).`);
    if (count !== entry.count)
      throw new ApiError('CORRUPT', `${rel}: ${count} documents, manifest says ${entry.count}.`);
  } finally {
    await fh.close();
  }
}

/** The data-file entries of users and roles (manifest version 2); none for version 1. */
export function securityEntries(m: SnapshotManifest): SecurityDataEntry[] {
  return [m.users, m.roles].filter(
    (v): v is SecurityDataEntry => !!v && !Array.isArray(v) && typeof v === 'object',
  );
}

/**
 * admin.system.users and system.roles of a snapshot as raw BSON (null when
 * they were not chosen): from their data files, or from a version-1
 * manifest's Extended JSON (canonical, so every type and the field order
 * come back as they were).
 */
export async function readUsersAndRoles(
  repo: Repository,
  relDir: string,
  m: SnapshotManifest,
): Promise<{ users: Uint8Array[] | null; roles: Uint8Array[] | null }> {
  const load = async (v: SnapshotManifest['users']): Promise<Uint8Array[] | null> => {
    if (!v) return null;
    if (Array.isArray(v))
      return v.map((d) => serialize(EJSON.deserialize(d, { relaxed: false }) as Record<string, unknown>));
    const out: Uint8Array[] = [];
    for await (const d of readCollection(repo, relDir, v)) out.push(Buffer.from(d));
    return out;
  };
  return { users: await load(m.users), roles: await load(m.roles) };
}

/** SHA-256 of a whole file, compared with the manifest by verify. */
export async function fileSha256(path: string): Promise<string> {
  const fh = await openRepoFile(path);
  try {
    const hash = createHash('sha256');
    for await (const chunk of fh.createReadStream({ highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
    return hash.digest('hex');
  } finally {
    await fh.close();
  }
}
