/**
 * An archive reader for tests, written from mongo-tools' format description
 * (common/archive/spec.md) and nothing of the engine: the whole file in
 * memory, BigInt CRC-64 (a different implementation from the engine's), and
 * every rule of the grammar checked. It judges what the engine writes.
 */
import { gunzipSync } from 'node:zlib';
import { deserialize } from 'bson';

export interface SpecArchive {
  header: Record<string, unknown>;
  prelude: Record<string, unknown>[];
  /** Documents per `db.collection` (the oplog is `.oplog`), raw bytes, in file order. */
  data: Map<string, Buffer[]>;
  /** CRC of each EOF header as 16 hex digits. */
  eofCrc: Map<string, string>;
}

const POLY = 0xc96c5795d7870f42n;
const TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = BigInt(n);
  for (let k = 0; k < 8; k++) c = c & 1n ? (c >> 1n) ^ POLY : c >> 1n;
  return c;
});
const MASK = (1n << 64n) - 1n;

export function crc64Bigint(parts: readonly Uint8Array[]): bigint {
  let crc = MASK;
  for (const p of parts) for (const b of p) crc = TABLE[Number((crc ^ BigInt(b)) & 0xffn)]! ^ (crc >> 8n);
  return crc ^ MASK;
}

export function parseArchiveBySpec(file: Buffer): SpecArchive {
  const buf = file[0] === 0x1f && file[1] === 0x8b ? gunzipSync(file) : file;
  let off = 0;
  const u32 = () => buf.readUInt32LE(off);
  const doc = (): [Buffer, Record<string, unknown>] => {
    const len = buf.readInt32LE(off);
    if (len < 5 || off + len > buf.length) throw new Error(`bad document length ${len} at ${off}`);
    const raw = buf.subarray(off, off + len);
    off += len;
    return [raw, deserialize(raw, { promoteLongs: false })];
  };
  if (u32() !== 0x8199e26d) throw new Error('magic number');
  off += 4;
  const [, header] = doc();
  const prelude: Record<string, unknown>[] = [];
  while (u32() !== 0xffffffff) prelude.push(doc()[1]);
  off += 4;
  const data = new Map<string, Buffer[]>();
  const eofCrc = new Map<string, string>();
  while (off < buf.length) {
    const [, h] = doc();
    const key = `${h.db as string}.${h.collection as string}`;
    if (eofCrc.has(key)) throw new Error(`${key} after its EOF`);
    if (h.EOF === true) {
      const crc = h.CRC as { toBytesLE(): number[] };
      eofCrc.set(key, Buffer.from(crc.toBytesLE()).reverse().toString('hex'));
      if (u32() !== 0xffffffff) throw new Error(`no terminator after EOF of ${key}`);
      off += 4;
      continue;
    }
    if (h.EOF !== false) throw new Error('namespace header without EOF flag');
    const docs = data.get(key) ?? [];
    data.set(key, docs);
    let n = 0;
    while (u32() !== 0xffffffff) {
      docs.push(doc()[0]);
      n++;
    }
    if (n === 0) throw new Error(`empty namespace segment for ${key}`);
    off += 4;
  }
  for (const [key, docs] of data) {
    const want = eofCrc.get(key);
    if (!want) throw new Error(`${key} has no EOF`);
    if (crc64Bigint(docs).toString(16).padStart(16, '0') !== want) throw new Error(`CRC of ${key}`);
  }
  return { header, prelude, data, eofCrc };
}
