/** Feeding real oplog fixtures through the replay core and reading the result as raw BSON. */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { EJSON, deserialize, serialize, type Document } from 'bson';
import { idKey } from '../../engine/oplog/bson-raw.js';
import { splitBsonDocuments } from '../../engine/repo/bson-entries.js';
import { OfflineState } from '../../engine/restore/offline-state.js';
import { OplogReplay, type ReplayOptions } from '../../engine/restore/replay.js';

/** Extended JSON values parsed in canonical mode (relaxed: false) so Int32/Int64/Double survive (legacy: the v1 `{$binary, $type}` some fixtures use), then BSON. */
export const ejsonToBson = (v: unknown): Buffer =>
  Buffer.from(serialize(EJSON.deserialize(v as Document, { relaxed: false, legacy: true }) as Document));

export const readBsonFile = (path: string): Buffer[] =>
  [...splitBsonDocuments(readFileSync(path), path)].map((d) => Buffer.from(d));

/** One Extended JSON document per line (mongo-tools' oplog.json). */
export const readJsonLines = (path: string): Buffer[] =>
  readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => Buffer.from(serialize(EJSON.parse(l, { relaxed: false }) as Document)));

export function replayEntries(entries: Buffer[], options: ReplayOptions = {}, state = new OfflineState()) {
  const replay = new OplogReplay(state, options);
  for (const e of entries) replay.push(e);
  state.report = replay.report();
  return state;
}

export const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** A collection's documents as hex of their exact bytes, sorted (byte-for-byte comparison). */
export const docsHex = (state: OfflineState, ns: string): string[] =>
  [...(state.get(ns)?.docs.values() ?? [])].map(hex).sort();

/** Decoded for reading only, every type kept (Int32, Double, Long stay wrappers). */
export const decodeExact = (b: Uint8Array): Document =>
  deserialize(b, { promoteValues: false, promoteLongs: false, bsonRegExp: true });

export const indexNames = (state: OfflineState, ns: string): string[] =>
  (state.get(ns)?.indexes ?? []).map((i) => String(decodeExact(i).name)).sort();

/** An index spec as canonical Extended JSON (types visible: {"$numberInt": "1"} vs {"$numberDouble": "1.0"}). */
export const indexSpec = (state: OfflineState, ns: string, name: string): string | undefined => {
  const spec = state.get(ns)?.indexes.find((i) => decodeExact(i).name === name);
  return spec && EJSON.stringify(decodeExact(spec), { relaxed: false });
};

/**
 * A mongodump directory as an offline state (what a snapshot holds): each
 * `<db>/<coll>.metadata.json` (options, indexes as canonical Extended JSON)
 * and `<coll>.bson` (the documents' exact bytes).
 */
export function loadDump(dir: string): OfflineState {
  const state = new OfflineState();
  for (const db of readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory())) {
    for (const f of readdirSync(join(dir, db.name)).filter((n) => n.endsWith('.metadata.json'))) {
      const coll = f.slice(0, -'.metadata.json'.length);
      const meta = EJSON.parse(readFileSync(join(dir, db.name, f), 'utf8'), { relaxed: false }) as Document;
      const docs = new Map<string, Buffer>();
      const data = join(dir, db.name, `${coll}.bson`);
      if (existsSync(data)) for (const d of readBsonFile(data)) docs.set(idKey(d), d);
      state.set(`${db.name}.${coll}`, {
        docs,
        options: Buffer.from(serialize((meta.options as Document | undefined) ?? {})),
        indexes: ((meta.indexes as Document[] | undefined) ?? []).map((i) => Buffer.from(serialize(i))),
      });
    }
  }
  return state;
}
