/**
 * Snapshot storage: one directory per snapshot with one data file per
 * collection (concatenated BSON documents in the envelope format) and a
 * manifest.json written last. A snapshot without a durable manifest is
 * incomplete and never restorable.
 */
import { createHash } from 'node:crypto';
import { readFile, rm, open } from 'node:fs/promises';
import { join } from 'node:path';
import { ApiError } from '../errors.js';
import { parseDocument, splitBsonDocuments } from './bson-entries.js';
import { DurableFile, writeFileDurable } from './durable-file.js';
import { EnvelopeEncoder, EnvelopeReader, FRAME_RAW_BYTES, FileKind, fileSource } from './envelope.js';
import type { OpTime } from './optime.js';
import type { Repository } from './repository.js';

export const MANIFEST_FILE = 'manifest.json';
export const MANIFEST_FORMAT_VERSION = 1;

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
  /** admin.system.users / system.roles documents (canonical Extended JSON) when chosen. */
  users: Record<string, unknown>[] | null;
  roles: Record<string, unknown>[] | null;
  totals: { count: number; rawBytes: number; storedBytes: number };
  /** Schedule tiers this snapshot was taken for (empty: on demand). */
  tiers?: string[];
  integrity?: { algorithm: 'sha256' | 'hmac-sha256'; value: string };
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
    const header = {
      type: 'collection-data',
      formatVersion: MANIFEST_FORMAT_VERSION,
      sourceId: this.start.sourceId,
      snapshotId: this.start.snapshotId,
      ns: `${meta.db}.${meta.name}`,
    };
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

  /** Writes the manifest durably: from now on the snapshot is complete. */
  async commit(end: {
    consistentTs: OpTime;
    users?: Record<string, unknown>[] | null;
    roles?: Record<string, unknown>[] | null;
  }): Promise<SnapshotManifest> {
    const namespaces = [...this.namespaces].sort((a, b) => (a.ns < b.ns ? -1 : a.ns > b.ns ? 1 : 0));
    const body: SnapshotManifest = {
      type: 'snapshot-manifest',
      formatVersion: MANIFEST_FORMAT_VERSION,
      sourceId: this.start.sourceId,
      snapshotId: this.start.snapshotId,
      startTs: this.start.startTs,
      consistentTs: end.consistentTs,
      startedAt: this.start.startedAt,
      completedAt: new Date().toISOString(),
      serverVersion: this.start.serverVersion,
      namespaces,
      users: end.users ?? null,
      roles: end.roles ?? null,
      tiers: this.start.tiers,
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

/** Reads and checks a manifest (checksum, or HMAC in an encrypted repository). */
export async function readManifest(repo: Repository, relDir: string): Promise<SnapshotManifest> {
  const path = join(relDir, MANIFEST_FILE);
  let manifest: SnapshotManifest;
  try {
    manifest = JSON.parse(await readFile(repo.abs(path), 'utf8')) as SnapshotManifest;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT')
      throw new ApiError('NOT_FOUND', `${path} is missing.`);
    throw new ApiError('CORRUPT', `${path} is not valid JSON.`);
  }
  if (manifest?.type !== 'snapshot-manifest' || !manifest.integrity)
    throw new ApiError('CORRUPT', `${path}: not a snapshot manifest.`);
  if (manifest.formatVersion > MANIFEST_FORMAT_VERSION)
    throw new ApiError('CORRUPT', `${path}: manifest format is newer than supported.`);
  // An unencrypted check can be done while locked; an HMAC needs the key.
  if (manifest.integrity.algorithm === 'hmac-sha256' && !repo.unlocked) return manifest;
  const expected = integrityOf(repo, manifest);
  if (expected.value !== manifest.integrity.value || expected.algorithm !== manifest.integrity.algorithm) {
    throw new ApiError('CORRUPT', `${path}: manifest checksum mismatch.`);
  }
  return manifest;
}

/** Verifies a collection file against the manifest and yields its documents. */
export async function* readCollection(
  repo: Repository,
  relDir: string,
  entry: NamespaceEntry,
  opts: { parse?: boolean } = {},
): AsyncGenerator<Uint8Array> {
  if (!entry.file) return;
  const rel = join(relDir, entry.file);
  const fh = await open(repo.abs(rel), 'r').catch((err: NodeJS.ErrnoException) => {
    throw err.code === 'ENOENT' ? new ApiError('NOT_FOUND', `${rel} is missing.`) : err;
  });
  try {
    const reader = await EnvelopeReader.open<{ ns: string }>(await fileSource(fh), rel, repo.key());
    if (reader.info.kind !== FileKind.CollectionData || reader.info.header.ns !== entry.ns) {
      throw new ApiError('CORRUPT', `${rel}: header does not belong to ${entry.ns}.`);
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

/** SHA-256 of a whole file, compared with the manifest by verify. */
export async function fileSha256(path: string): Promise<string> {
  const fh = await open(path, 'r');
  try {
    const hash = createHash('sha256');
    for await (const chunk of fh.createReadStream({ highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
    return hash.digest('hex');
  } finally {
    await fh.close();
  }
}
