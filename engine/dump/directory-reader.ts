/**
 * Reads a mongodump directory as mongorestore finds things in it: one
 * sub-directory per database holding `<coll>.bson` and
 * `<coll>.metadata.json` (URL-escaped names, `.gz` when gzipped; the real
 * name of a truncated one is the metadata's collectionName), a time-series
 * collection's buckets in `system.buckets.<coll>.bson`, `oplog.bson` and
 * `prelude.json` at the top. Other files are ignored, as mongorestore does.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { ApiError } from '../errors.js';
import { ByteReader } from './byte-reader.js';
import type { DumpContents, DumpItem, DumpNamespace, DumpPrelude } from './dump-types.js';
import { parseDumpMetadata } from './metadata.js';
import { queryUnescape } from './names.js';

const BUCKETS_PREFIX = 'system.buckets.';

interface Found {
  ns: DumpNamespace;
  /** The .bson file holding its documents, if any. */
  dataPath: string | null;
}

async function readSmall(path: string): Promise<string> {
  const raw = await readFile(path);
  if (!path.endsWith('.gz')) return raw.toString('utf8');
  try {
    return gunzipSync(raw).toString('utf8');
  } catch (err) {
    throw new ApiError('INVALID_INPUT', `${path}: not valid gzip data (${(err as Error).message}).`);
  }
}

/** Strips `.gz` (when the dump is gzipped) and the given suffix; null when the name is not one. */
function baseOf(name: string, suffix: string, gzip: boolean | undefined): string | null {
  let n = name;
  const gz = n.endsWith('.gz');
  if (gz) n = n.slice(0, -3);
  if (gzip === true && !gz) return null;
  if (gzip === false && gz) return null;
  return n.endsWith(suffix) ? n.slice(0, -suffix.length) : null;
}

export async function readDirectory(root: string, gzip?: boolean): Promise<DumpContents> {
  const info = await stat(root).catch(() => {
    throw new ApiError('NOT_FOUND', `${root} does not exist.`);
  });
  if (!info.isDirectory()) throw new ApiError('INVALID_INPUT', `${root} is not a directory.`);
  const top = await readdir(root, { withFileTypes: true });
  let oplogPath: string | null = null;
  let prelude: DumpPrelude | null = null;
  const found: Found[] = [];
  let writtenAt = info.mtime;
  for (const e of top) {
    const p = join(root, e.name);
    if (e.isFile()) {
      if (e.name === 'oplog.bson' || e.name === 'oplog.bson.gz') oplogPath = p;
      else if (baseOf(e.name, 'prelude.json', gzip) === '') {
        try {
          const j = JSON.parse(await readSmall(p)) as { ServerVersion?: unknown; ToolVersion?: unknown };
          prelude = {
            serverVersion: typeof j.ServerVersion === 'string' ? j.ServerVersion : '',
            toolVersion: typeof j.ToolVersion === 'string' ? j.ToolVersion : '',
          };
        } catch (err) {
          if (err instanceof ApiError) throw err;
          throw new ApiError('INVALID_INPUT', `${p} is not valid JSON.`);
        }
      }
      continue;
    }
    if (!e.isDirectory()) continue;
    found.push(...(await readDatabase(e.name, p, gzip)));
    const m = (await stat(p)).mtime;
    if (m > writtenAt) writtenAt = m;
  }
  if (found.length === 0 && !oplogPath)
    throw new ApiError(
      'INVALID_INPUT',
      `${root} holds no mongodump output (no <db>/<collection>.bson or .metadata.json, no oplog.bson).`,
    );
  found.sort((a, b) => (a.ns.db + '.' + a.ns.collection < b.ns.db + '.' + b.ns.collection ? -1 : 1));

  async function* items(): AsyncGenerator<DumpItem> {
    for (const f of found) {
      if (!f.dataPath) continue;
      const r = await ByteReader.open(f.dataPath, f.dataPath, f.dataPath.endsWith('.gz'));
      for (;;) {
        const doc = await r.document('document');
        if (!doc) break;
        yield { kind: 'document', ns: f.ns, doc };
      }
    }
    if (oplogPath) {
      // mongodump --gzip writes a gzipped oplog.bson without the .gz suffix: detected by its magic bytes.
      const r = await ByteReader.open(oplogPath, oplogPath);
      for (;;) {
        const doc = await r.document('oplog entry');
        if (!doc) break;
        yield { kind: 'oplog', doc };
      }
    }
  }

  return {
    format: 'directory',
    prelude,
    namespaces: found.map((f) => f.ns),
    hasOplog: !!oplogPath,
    writtenAt,
    items,
  };
}

async function readDatabase(db: string, dir: string, gzip: boolean | undefined): Promise<Found[]> {
  const entries = (await readdir(dir, { withFileTypes: true })).filter((e) => e.isFile());
  const data = new Map<string, string>();
  const meta = new Map<string, string>();
  for (const e of entries) {
    const m = baseOf(e.name, '.metadata.json', gzip);
    if (m !== null) {
      meta.set(m, join(dir, e.name));
      continue;
    }
    const b = baseOf(e.name, '.bson', gzip);
    if (b !== null) data.set(b, join(dir, e.name));
  }
  const out: Found[] = [];
  const usedData = new Set<string>();
  for (const [base, path] of meta) {
    const text = await readSmall(path);
    const md = parseDumpMetadata(text, path);
    const collection = md.collectionName ?? queryUnescape(base, path);
    const type = md.type === 'view' ? 'view' : md.type === 'timeseries' ? 'timeseries' : '';
    // A time-series collection's documents are its buckets, in a file named after the buckets collection.
    const dataBase =
      type === 'timeseries'
        ? [...data.keys()].find((k) => queryUnescape(k, path) === `${BUCKETS_PREFIX}${collection}`)
        : base;
    const dataPath = type === 'view' || dataBase === undefined ? null : (data.get(dataBase) ?? null);
    if (dataBase !== undefined && dataPath) usedData.add(dataBase);
    out.push({
      ns: { db, collection, type, metadata: text, hasData: !!dataPath, size: 0 },
      dataPath,
    });
  }
  for (const [base, path] of data) {
    if (usedData.has(base)) continue;
    out.push({
      ns: { db, collection: queryUnescape(base, path), type: '', metadata: null, hasData: true, size: 0 },
      dataPath: path,
    });
  }
  for (const f of out) if (f.dataPath) f.ns.size = (await stat(f.dataPath)).size;
  return out;
}
