/**
 * Writes a mongodump directory: `<db>/<coll>.bson` and
 * `<db>/<coll>.metadata.json` (names escaped as mongodump does, `.gz` added
 * with gzip), a time-series collection's buckets in
 * `<db>/system.buckets.<coll>.bson`, views as metadata only, `oplog.bson`
 * and `prelude.json` at the top. Everything goes into a temporary directory
 * beside the target, each file fsynced, which is renamed to the target name
 * only when complete.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { fsyncDir, TEMP_MARKER } from '../repo/durable-file.js';
import type { DocumentSink, DumpNamespace, DumpPrelude, DumpWriter } from './dump-types.js';
import { collectionFileBase } from './names.js';
import { EXPORT_GZIP_LEVEL, OutputFile } from './output-file.js';

const BUCKETS_PREFIX = 'system.buckets.';

export class DirectoryWriter implements DumpWriter {
  private readonly tempDir: string;
  private readonly dirs = new Set<string>();
  private written = 0;
  private open: OutputFile | null = null;

  constructor(
    readonly path: string,
    private readonly gzip: boolean,
    private readonly writePrelude = true,
  ) {
    this.tempDir = join(
      dirname(path),
      `${basename(path)}${TEMP_MARKER}${process.pid}-${randomBytes(4).toString('hex')}`,
    );
  }

  get bytes(): number {
    return this.written + (this.open?.bytes ?? 0);
  }

  private name(base: string): string {
    return this.gzip ? `${base}.gz` : base;
  }

  private async small(rel: string, text: string): Promise<void> {
    const data = Buffer.from(text);
    await writeFile(
      join(this.tempDir, this.name(rel)),
      this.gzip ? gzipSync(data, { level: EXPORT_GZIP_LEVEL }) : data,
      {
        flag: 'wx',
        flush: true,
      },
    );
    this.written += data.length;
  }

  private async dbDir(db: string): Promise<void> {
    if (this.dirs.has(db)) return;
    await mkdir(join(this.tempDir, db), { recursive: true });
    this.dirs.add(db);
  }

  async begin(prelude: DumpPrelude, namespaces: readonly DumpNamespace[]): Promise<void> {
    await mkdir(this.tempDir, { recursive: true });
    for (const ns of namespaces) {
      await this.dbDir(ns.db);
      if (ns.metadata !== null)
        await this.small(join(ns.db, `${collectionFileBase(ns.collection)}.metadata.json`), ns.metadata);
    }
    // mongodump writes prelude.json when the dump holds any data directory.
    if (namespaces.length && this.writePrelude)
      await this.small(
        'prelude.json',
        JSON.stringify({ ServerVersion: prelude.serverVersion, ToolVersion: prelude.toolVersion }),
      );
  }

  private async sink(rel: string, name = this.name(rel)): Promise<DocumentSink> {
    const file = OutputFile.create(join(this.tempDir, name), this.gzip);
    this.open = file;
    return {
      write: (doc) => file.write(doc),
      close: async () => {
        await file.close();
        this.written += file.bytes;
        this.open = null;
      },
    };
  }

  async collection(ns: DumpNamespace): Promise<DocumentSink> {
    await this.dbDir(ns.db);
    const base = ns.type === 'timeseries' ? `${BUCKETS_PREFIX}${ns.collection}` : ns.collection;
    return this.sink(join(ns.db, `${collectionFileBase(base)}.bson`));
  }

  oplog(): Promise<DocumentSink> {
    // mongodump --gzip compresses the oplog but keeps the name oplog.bson, the one mongorestore looks for.
    return this.sink('oplog.bson', 'oplog.bson');
  }

  async commit(): Promise<void> {
    for (const db of this.dirs) fsyncDir(join(this.tempDir, db));
    fsyncDir(this.tempDir);
    await rename(this.tempDir, this.path);
    fsyncDir(dirname(this.path));
  }

  async abort(): Promise<void> {
    await this.open?.abort();
    await rm(this.tempDir, { recursive: true, force: true });
  }
}
