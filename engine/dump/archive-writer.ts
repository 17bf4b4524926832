/**
 * Writes one `mongodump --archive` file (format: mongo-tools
 * common/archive/spec.md): magic number 0x8199e26d little-endian, the header
 * document, one collection-metadata document per namespace, a terminator
 * (0xffffffff); then per namespace a namespace header, its documents and a
 * terminator, and an EOF header carrying the CRC-64 of all its documents,
 * and a terminator. Namespaces are written one after another (mongodump
 * interleaves them only because it dumps several at once).
 */
import { rename, rm, mkdir } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { Int32, Long, serialize } from 'bson';
import { fsyncDir, TEMP_MARKER } from '../repo/durable-file.js';
import { Crc64 } from './crc64.js';
import {
  ARCHIVE_OPLOG,
  type DocumentSink,
  type DumpNamespace,
  type DumpPrelude,
  type DumpWriter,
} from './dump-types.js';
import { OutputFile } from './output-file.js';

export const ARCHIVE_MAGIC = 0x8199e26d;
export const TERMINATOR = Buffer.from([0xff, 0xff, 0xff, 0xff]);
export const ARCHIVE_FORMAT_VERSION = '0.1';

export function namespaceHeader(db: string, collection: string, eof: boolean, crc: Buffer | null): Buffer {
  return Buffer.from(
    serialize({
      db,
      collection,
      EOF: eof,
      CRC: crc ? Long.fromBytesLE([...crc]) : Long.ZERO,
    }),
  );
}

export class ArchiveWriter implements DumpWriter {
  private file: OutputFile | null = null;
  private readonly tempPath: string;

  constructor(
    readonly path: string,
    private readonly gzip: boolean,
  ) {
    this.tempPath = join(
      dirname(path),
      `${basename(path)}${TEMP_MARKER}${process.pid}-${randomBytes(4).toString('hex')}`,
    );
  }

  get bytes(): number {
    return this.file?.bytes ?? 0;
  }

  async begin(prelude: DumpPrelude, namespaces: readonly DumpNamespace[], withOplog: boolean): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true });
    this.file = OutputFile.create(this.tempPath, this.gzip);
    const magic = Buffer.alloc(4);
    magic.writeUInt32LE(ARCHIVE_MAGIC);
    await this.file.write(magic);
    await this.file.write(
      serialize({
        concurrent_collections: new Int32(1),
        version: ARCHIVE_FORMAT_VERSION,
        server_version: prelude.serverVersion,
        tool_version: prelude.toolVersion,
      }),
    );
    const listed = withOplog
      ? [...namespaces, { ...ARCHIVE_OPLOG, metadata: null, type: '' as const, size: 0 }]
      : namespaces;
    for (const ns of listed) {
      await this.file.write(
        serialize({
          db: ns.db,
          collection: ns.collection,
          metadata: ns.metadata ?? '',
          size: new Int32(Math.min(ns.size, 0x7fffffff)),
          type: ns.type,
        }),
      );
    }
    await this.file.write(TERMINATOR);
  }

  private section(db: string, collection: string): DocumentSink {
    const file = this.file!;
    const crc = new Crc64();
    let opened = false;
    return {
      async write(doc) {
        if (!opened) {
          await file.write(namespaceHeader(db, collection, false, null));
          opened = true;
        }
        crc.update(doc);
        await file.write(doc);
      },
      async close() {
        if (opened) await file.write(TERMINATOR);
        await file.write(namespaceHeader(db, collection, true, crc.digestLE()));
        await file.write(TERMINATOR);
      },
    };
  }

  collection(ns: DumpNamespace): Promise<DocumentSink> {
    return Promise.resolve(this.section(ns.db, ns.collection));
  }

  oplog(): Promise<DocumentSink> {
    return Promise.resolve(this.section(ARCHIVE_OPLOG.db, ARCHIVE_OPLOG.collection));
  }

  async commit(): Promise<void> {
    await this.file!.close();
    await rename(this.tempPath, this.path);
    fsyncDir(dirname(this.path));
  }

  async abort(): Promise<void> {
    await this.file?.abort();
    await rm(this.tempPath, { force: true });
  }
}
