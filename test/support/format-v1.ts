/**
 * Writes a repository in format version 1 (container version 1, manifest
 * version 1, users and roles in the manifest, retention locks without a
 * MAC) exactly as the app wrote it before format 2, built from the version-1
 * rules in docs/repository-format.md with node:crypto and zlib only, never
 * with the engine's writers. Tests use it to prove that old repositories
 * still open, read and verify.
 */
import { createCipheriv, createHash, createHmac, randomBytes, randomUUID, scryptSync } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { EJSON, serialize, type Document } from 'bson';

export interface V1Options {
  passphrase?: string;
  /** scrypt N of the version-1 default was 2^15; tests use a cheaper one. */
  kdf?: { N: number; r: number; p: number };
}

export interface V1Repository {
  root: string;
  repositoryId: string;
  sourceId: string;
  dataKey: Buffer | null;
  /** Writes a version-1 data file (kind 1 segment, 2 collection data) and returns its bytes. */
  dataFile(rel: string, kind: 1 | 2, header: object, payload: Buffer): Buffer;
  segment(entries: Document[], prevLastTs: { t: number; i: number } | null): string;
  snapshot(
    snapshotId: string,
    docs: Document[],
    at: { t: number; i: number },
    users: Document[] | null,
  ): string;
  lock(kind: 'snapshot' | 'segment', target: string, name: string, until: string): void;
}

const pad = (n: number) => String(n).padStart(2, '0');

export function writeV1Repository(root: string, opts: V1Options = {}): V1Repository {
  const repositoryId = randomUUID();
  const sourceId = randomUUID();
  let dataKey: Buffer | null = null;
  let encryption: unknown = null;
  if (opts.passphrase) {
    const kdf = { name: 'scrypt', ...(opts.kdf ?? { N: 1 << 15, r: 8, p: 1 }), salt: randomBytes(16) };
    const kek = scryptSync(opts.passphrase.normalize('NFC'), kdf.salt, 32, {
      N: kdf.N,
      r: kdf.r,
      p: kdf.p,
      maxmem: 256 * kdf.N * kdf.r + (1 << 20),
    });
    dataKey = randomBytes(32);
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', kek, iv);
    c.setAAD(Buffer.from(`mbm-repository-key:${repositoryId}`));
    const ciphertext = Buffer.concat([c.update(dataKey), c.final()]);
    encryption = {
      algorithm: 'AES-256-GCM',
      kdf: { ...kdf, salt: kdf.salt.toString('base64') },
      wrappedKey: {
        algorithm: 'AES-256-GCM',
        iv: iv.toString('base64'),
        ciphertext: ciphertext.toString('base64'),
        tag: c.getAuthTag().toString('base64'),
      },
    };
  }
  const write = (rel: string, bytes: Buffer | string) => {
    mkdirSync(dirname(join(root, rel)), { recursive: true });
    writeFileSync(join(root, rel), bytes);
  };
  write(
    'repository.json',
    `${JSON.stringify(
      {
        format: 'mongo-backup-manager-repository',
        formatVersion: 1,
        repositoryId,
        createdAt: '2026-11-22T12:00:00.000Z',
        compression: { algorithm: 'gzip', level: 6 },
        encryption,
      },
      null,
      2,
    )}\n`,
  );
  write(
    `sources/${sourceId}/source.json`,
    JSON.stringify({
      type: 'source',
      formatVersion: 1,
      sourceId,
      name: 'old-rs',
      createdAt: '2026-11-22T12:00:00.000Z',
      uriRedacted: null,
    }),
  );
  const mac = (text: string) => {
    const k = createHmac('sha256', dataKey!).update('mbm-manifest-mac').digest();
    return createHmac('sha256', k).update(text).digest('hex');
  };

  const dataFile = (rel: string, kind: 1 | 2, header: object, payload: Buffer): Buffer => {
    const json = Buffer.from(JSON.stringify(header));
    const fixed = Buffer.alloc(12);
    fixed.write('MBMF', 0, 'ascii');
    fixed[4] = 1;
    fixed[5] = kind;
    fixed[6] = 2; // gzip
    fixed[7] = dataKey ? 1 : 0;
    fixed.writeUInt32LE(json.length, 8);
    const sum = createHash('sha256').update(fixed).update(json).digest();
    const prefix = dataKey ? randomBytes(8) : null;
    const parts: Buffer[] = [fixed, json, sum, ...(prefix ? [prefix] : [])];
    const chunks: Buffer[] = [];
    for (let off = 0; off < payload.length || chunks.length === 0; off += 1 << 20)
      chunks.push(payload.subarray(off, off + (1 << 20)));
    chunks.forEach((raw, index) => {
      const flags = index === chunks.length - 1 ? 1 : 0;
      let stored = gzipSync(raw, { level: 6 });
      if (dataKey && prefix) {
        const nonce = Buffer.alloc(12);
        prefix.copy(nonce);
        nonce.writeUInt32BE(index, 8);
        const aad = Buffer.alloc(37);
        sum.copy(aad);
        aad.writeUInt32BE(index, 32);
        aad[36] = flags;
        const c = createCipheriv('aes-256-gcm', dataKey, nonce);
        c.setAAD(aad);
        stored = Buffer.concat([c.update(stored), c.final(), c.getAuthTag()]);
      }
      const head = Buffer.alloc(9);
      head.writeUInt32LE(stored.length, 0);
      head.writeUInt32LE(raw.length, 4);
      head[8] = flags;
      parts.push(head, stored);
    });
    const bytes = Buffer.concat(parts);
    write(rel, bytes);
    return bytes;
  };

  return {
    root,
    repositoryId,
    sourceId,
    dataKey,
    dataFile,
    segment(entries, prevLastTs) {
      const raw = entries.map((e) => serialize(e));
      const ts = (d: Document) => ({ t: (d.ts as { t: number }).t, i: (d.ts as { i: number }).i });
      const first = ts(entries[0]!);
      const last = ts(entries[entries.length - 1]!);
      const payload = Buffer.concat(raw);
      const d = new Date(first.t * 1000);
      const rel = `sources/${sourceId}/oplog/${d.getUTCFullYear()}/${pad(d.getUTCMonth() + 1)}/${pad(
        d.getUTCDate(),
      )}/${first.t}-${first.i}_${last.t}-${last.i}.seg`;
      dataFile(
        rel,
        1,
        {
          type: 'oplog-segment',
          formatVersion: 1,
          sourceId,
          firstTs: first,
          lastTs: last,
          count: raw.length,
          rawBytes: payload.length,
          prevLastTs,
          payloadSha256: createHash('sha256').update(payload).digest('hex'),
          createdAt: '2026-11-22T12:00:00.000Z',
        },
        payload,
      );
      return rel;
    },
    snapshot(snapshotId, docs, at, users) {
      const dir = `sources/${sourceId}/snapshots/${snapshotId}`;
      const payload = Buffer.concat(docs.map((d) => serialize(d)));
      const bytes = dataFile(
        `${dir}/00001.bin`,
        2,
        { type: 'collection-data', formatVersion: 1, sourceId, snapshotId, ns: 'shop.orders' },
        payload,
      );
      const body = {
        type: 'snapshot-manifest',
        formatVersion: 1,
        sourceId,
        snapshotId,
        startTs: at,
        consistentTs: at,
        startedAt: '2026-11-22T12:00:00.000Z',
        completedAt: '2026-11-22T12:00:01.000Z',
        serverVersion: '8.0.4',
        namespaces: [
          {
            db: 'shop',
            name: 'orders',
            type: 'collection',
            uuid: null,
            options: {},
            indexes: [{ v: 2, key: { _id: 1 }, name: '_id_' }],
            ns: 'shop.orders',
            count: docs.length,
            rawBytes: payload.length,
            storedBytes: bytes.length,
            file: '00001.bin',
            sha256: createHash('sha256').update(bytes).digest('hex'),
          },
        ],
        users: users && users.map((u) => EJSON.serialize(u, { relaxed: false })),
        roles: users && [],
        tiers: [],
        totals: { count: docs.length, rawBytes: payload.length, storedBytes: bytes.length },
      };
      const text = JSON.stringify({ ...body, integrity: undefined });
      const integrity = dataKey
        ? { algorithm: 'hmac-sha256', value: mac(text) }
        : { algorithm: 'sha256', value: createHash('sha256').update(text).digest('hex') };
      write(`${dir}/manifest.json`, `${JSON.stringify({ ...body, integrity }, null, 1)}\n`);
      return dir;
    },
    lock(kind, target, name, until) {
      write(
        `sources/${sourceId}/locks/${name}`,
        JSON.stringify({
          type: 'retention-lock',
          kind,
          sourceId,
          target,
          until,
          reason: 'legal hold',
          createdAt: '2026-11-22T12:00:00.000Z',
        }),
      );
    },
  };
}
