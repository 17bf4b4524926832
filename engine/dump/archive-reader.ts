/**
 * Reads a `mongodump --archive` file (gzip or not): the prelude (magic
 * number, header, collection metadata up to the terminator), then the
 * namespace segments in file order, checking every namespace's CRC-64
 * against its EOF header as mongorestore does. Anything else is a clear
 * INVALID_INPUT / INVALID_BSON, never a partial read taken for a whole one.
 */
import { stat } from 'node:fs/promises';
import { deserialize } from 'bson';
import { ApiError } from '../errors.js';
import { ARCHIVE_MAGIC } from './archive-writer.js';
import { ByteReader } from './byte-reader.js';
import { Crc64 } from './crc64.js';
import {
  ARCHIVE_OPLOG,
  type DumpContents,
  type DumpItem,
  type DumpNamespace,
  type DumpType,
} from './dump-types.js';

const TERMINATOR = -1; // 0xffffffff read as int32

function parseDoc(bytes: Uint8Array, label: string): Record<string, unknown> {
  try {
    return deserialize(bytes, { promoteLongs: false, promoteValues: true });
  } catch (err) {
    throw new ApiError('INVALID_BSON', `${label}: ${(err as Error).message}`);
  }
}

const key = (db: string, coll: string) => `${db}\u0000${coll}`;

export async function readArchive(path: string, gzip?: boolean): Promise<DumpContents> {
  const label = `archive ${path}`;
  const info = await stat(path).catch(() => {
    throw new ApiError('NOT_FOUND', `${path} does not exist.`);
  });
  if (!info.isFile()) throw new ApiError('INVALID_INPUT', `${path} is not a file.`);
  const r = await ByteReader.open(path, label, gzip);
  const magic = await r.take(4, 'the magic number').catch(() => {
    throw new ApiError('INVALID_INPUT', `${path} is not a mongodump archive (too short).`);
  });
  if (magic.readUInt32LE(0) !== ARCHIVE_MAGIC)
    throw new ApiError('INVALID_INPUT', `${path} is not a mongodump archive (wrong magic number).`);
  const headerBytes = await r.document('archive header');
  if (!headerBytes) throw new ApiError('INVALID_INPUT', `${label}: no header after the magic number.`);
  const header = parseDoc(headerBytes, `${label} header`);
  if (typeof header.version !== 'string')
    throw new ApiError('INVALID_INPUT', `${label}: the header has no format version.`);

  const namespaces: DumpNamespace[] = [];
  const byKey = new Map<string, DumpNamespace>();
  let hasOplog = false;
  for (;;) {
    const next = await r.peekInt32();
    if (next === null)
      throw new ApiError('INVALID_INPUT', `${label}: the prelude has no terminator (truncated).`);
    if (next === TERMINATOR) {
      await r.take(4, 'terminator');
      break;
    }
    const m = parseDoc((await r.document('collection metadata'))!, `${label} prelude`);
    if (typeof m.db !== 'string' || typeof m.collection !== 'string')
      throw new ApiError('INVALID_INPUT', `${label}: a prelude entry has no db/collection.`);
    if (m.db === ARCHIVE_OPLOG.db && m.collection === ARCHIVE_OPLOG.collection) {
      hasOplog = true;
      continue;
    }
    const type = (m.type === 'view' || m.type === 'timeseries' ? m.type : '') as DumpType;
    const ns: DumpNamespace = {
      db: m.db,
      collection: m.collection,
      type,
      metadata: typeof m.metadata === 'string' && m.metadata !== '' ? m.metadata : null,
      hasData: type !== 'view',
      size: typeof m.size === 'number' ? m.size : 0,
    };
    namespaces.push(ns);
    byKey.set(key(ns.db, ns.collection), ns);
  }

  async function* items(): AsyncGenerator<DumpItem> {
    const crcs = new Map<string, Crc64>();
    const ended = new Set<string>();
    while (!(await r.atEnd())) {
      const h = parseDoc((await r.document('namespace header'))!, `${label} namespace header`);
      if (typeof h.db !== 'string' || typeof h.collection !== 'string' || typeof h.EOF !== 'boolean')
        throw new ApiError('INVALID_INPUT', `${label}: malformed namespace header at byte ${r.consumed}.`);
      const k = key(h.db, h.collection);
      const isOplog = h.db === ARCHIVE_OPLOG.db && h.collection === ARCHIVE_OPLOG.collection;
      const ns = byKey.get(k);
      if (!ns && !isOplog)
        throw new ApiError(
          'INVALID_INPUT',
          `${label}: data for ${h.db}.${h.collection}, which the prelude does not list.`,
        );
      if (ended.has(k))
        throw new ApiError('INVALID_INPUT', `${label}: ${h.db}.${h.collection} continues after its EOF.`);
      let crc = crcs.get(k);
      if (!crc) crcs.set(k, (crc = new Crc64()));
      if (h.EOF) {
        const expected = h.CRC as { toBytesLE?: () => number[] } | number | undefined;
        const got = crc.digestLE();
        const want =
          typeof expected === 'object' && expected?.toBytesLE ? Buffer.from(expected.toBytesLE()) : null;
        if (want && !want.equals(got))
          throw new ApiError(
            'CORRUPT',
            `${label}: CRC mismatch for ${h.db}.${h.collection} (the archive is damaged).`,
          );
        ended.add(k);
        if ((await r.peekInt32()) !== TERMINATOR)
          throw new ApiError(
            'INVALID_INPUT',
            `${label}: no terminator after the EOF of ${h.db}.${h.collection}.`,
          );
        await r.take(4, 'terminator');
        continue;
      }
      for (;;) {
        const next = await r.peekInt32();
        if (next === null)
          throw new ApiError(
            'INVALID_INPUT',
            `${label}: ${h.db}.${h.collection} is cut off (no terminator).`,
          );
        if (next === TERMINATOR) {
          await r.take(4, 'terminator');
          break;
        }
        const doc = (await r.document(`document of ${h.db}.${h.collection}`))!;
        crc.update(doc);
        yield isOplog ? { kind: 'oplog', doc } : { kind: 'document', ns: ns!, doc };
      }
    }
    for (const k of crcs.keys())
      if (!ended.has(k))
        throw new ApiError(
          'INVALID_INPUT',
          `${label}: ends before the EOF of ${k.replace('\u0000', '.')} (truncated).`,
        );
  }

  return {
    format: 'archive',
    prelude: {
      serverVersion: typeof header.server_version === 'string' ? header.server_version : '',
      toolVersion: typeof header.tool_version === 'string' ? header.tool_version : '',
    },
    namespaces,
    hasOplog,
    writtenAt: info.mtime,
    items,
  };
}
