/**
 * Crafted and damaged repository files, as an attacker with write access to
 * the repository (a shared NAS, a disk that travelled) or an unlucky user
 * would leave them. Each one must give a typed error (CORRUPT, CONFLICT)
 * with bounded memory, never a crash, a silent downgrade or a wrong catalog.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join, relative } from 'node:path';
import { createGzip } from 'node:zlib';
import { Long, Timestamp, serialize } from 'bson';
import { afterEach, describe, expect, it } from 'vitest';
import { decompress as zstdDecompress } from 'zstd-napi';
import { dispatch } from '../../engine/api/dispatch.js';
import { Engine } from '../../engine/engine.js';
import { DEFAULT_SCRYPT } from '../../engine/repo/crypto.js';
import { REPOSITORY_FORMAT_VERSION, Repository } from '../../engine/repo/repository.js';
import { FOREVER, readLockFile, readLockFiles } from '../../engine/repo/retention-lock-file.js';
import { readSegment, readSegmentHeader } from '../../engine/repo/segment-file.js';
import {
  readCollection,
  readManifest,
  readUsersAndRoles,
  snapshotRelDir,
} from '../../engine/repo/snapshot-files.js';
import { rebuildFromRepository } from '../../engine/store/reconcile.js';
import { addCopyTarget, runSecondaryCopy } from '../../engine/store/secondary-copy.js';
import { verifyRepository } from '../../engine/verify/repository-verify.js';
import { writeV1Repository } from '../support/format-v1.js';
import { TEST_KDF, makeStore, type StoreFixture } from '../support/store-fixture.js';
import { tempDir } from '../support/temp-dir.js';

const root = join(import.meta.dirname, '..', '..');
const PASS = 'correct horse battery staple';
const MEMORY_LIMIT_MB = 200;

const cleanups: (() => Promise<void> | void)[] = [];
let fx: StoreFixture | null = null;
afterEach(async () => {
  await fx?.close();
  fx = null;
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Runs test/support/hostile-read.ts in a child process: outcome and peak resident memory. */
function hostileRead(...args: string[]): {
  ok: boolean;
  code?: string;
  message?: string;
  problems?: { path: string; problem: string; error: string }[];
  peakMB: number;
} {
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', join(root, 'test', 'support', 'hostile-read.ts'), ...args],
    { cwd: root, encoding: 'utf8', timeout: 120_000 },
  );
  const line = r.stdout.trim().split('\n').pop();
  if (!line) throw new Error(`hostile-read printed nothing (status ${r.status}): ${r.stderr}`);
  return JSON.parse(line) as ReturnType<typeof hostileRead>;
}

const editJson = (path: string, edit: (v: Record<string, unknown>) => void) => {
  const v = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  edit(v);
  writeFileSync(path, JSON.stringify(v, null, 1));
};

/** What an attacker does to an unencrypted manifest: edit it and recompute its plain SHA-256. */
/** A manifest as JSON, with the one field the tests edit typed. */
type ManifestJson = Record<string, unknown> & { namespaces: Record<string, unknown>[] };

function resealPlainManifest(path: string, edit: (m: ManifestJson) => void): void {
  editJson(path, (m) => {
    edit(m as ManifestJson);
    const text = JSON.stringify({ ...m, integrity: undefined });
    m.integrity = { algorithm: 'sha256', value: createHash('sha256').update(text).digest('hex') };
  });
}

/** A version-1 container file with hand-made frames (docs/repository-format.md), unencrypted. */
function envelope(
  kind: number,
  compression: number,
  header: object,
  frames: { stored: Buffer; raw: number }[],
): Buffer {
  const json = Buffer.from(JSON.stringify(header));
  const fixed = Buffer.alloc(12);
  fixed.write('MBMF', 0, 'ascii');
  fixed[4] = 1;
  fixed[5] = kind;
  fixed[6] = compression;
  fixed[7] = 0;
  fixed.writeUInt32LE(json.length, 8);
  const parts: Buffer[] = [fixed, json, createHash('sha256').update(fixed).update(json).digest()];
  frames.forEach((f, k) => {
    const head = Buffer.alloc(9);
    head.writeUInt32LE(f.stored.length, 0);
    head.writeUInt32LE(f.raw, 4);
    head[8] = k === frames.length - 1 ? 1 : 0;
    parts.push(head, f.stored);
  });
  return Buffer.concat(parts);
}

/**
 * A valid zstd frame (RFC 8878) of RLE blocks: 4 bytes per 128 KiB of output,
 * so 2 GiB take 64 KiB. With `declareSize` the frame header states the real
 * content size (8-byte Frame_Content_Size), otherwise none is given.
 */
function zstdBomb(bytes: number, declareSize: boolean): Buffer {
  const BLOCK = 128 * 1024;
  const n = Math.ceil(bytes / BLOCK);
  const head = Buffer.alloc(declareSize ? 14 : 6);
  head.writeUInt32LE(0xfd2fb528, 0); // magic
  head[4] = declareSize ? 0xc0 : 0x00; // FCS field 8 bytes (or none), no single segment, no checksum
  head[5] = 0x38; // window 2^17
  if (declareSize) head.writeBigUInt64LE(BigInt(n * BLOCK), 6);
  const blocks = Buffer.alloc(n * 4);
  for (let k = 0; k < n; k++) {
    const h = (BLOCK << 3) | (1 << 1) | (k === n - 1 ? 1 : 0); // RLE block of BLOCK bytes
    blocks.writeUIntLE(h, k * 4, 3);
    blocks[k * 4 + 3] = 0x61;
  }
  return Buffer.concat([head, blocks]);
}

/** A gzip member of `bytes` zeros, compressed as a stream (never holding the zeros in memory). */
async function gzipBomb(bytes: number): Promise<Buffer> {
  const gz = createGzip({ level: 9 });
  const out: Buffer[] = [];
  gz.on('data', (c: Buffer) => out.push(c));
  const done = new Promise((r) => gz.on('end', r));
  const zeros = Buffer.alloc(1 << 20);
  for (let n = 0; n < bytes; n += zeros.length)
    if (!gz.write(zeros)) await new Promise((r) => gz.once('drain', r));
  gz.end();
  await done;
  return Buffer.concat(out);
}

function files(dir: string): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  const walk = (d: string) => {
    for (const n of readdirSync(d)) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else out[relative(dir, p)] = readFileSync(p);
    }
  };
  walk(dir);
  return out;
}

const segPaths = (f: StoreFixture) =>
  f.engine.catalog.prepare('SELECT path FROM oplog_segments ORDER BY first_t').pluck().all() as string[];

/** Rewrites a data file's header JSON and recomputes the SHA-256 that follows it, as an attacker would. */
function forgeHeader(abs: string, edit: (h: Record<string, unknown>) => void): void {
  const b = readFileSync(abs);
  const len = b.readUInt32LE(8);
  const h = JSON.parse(b.subarray(12, 12 + len).toString('utf8')) as Record<string, unknown>;
  edit(h);
  const json = Buffer.from(JSON.stringify(h));
  const fixed = Buffer.from(b.subarray(0, 12));
  fixed.writeUInt32LE(json.length, 8);
  const sum = createHash('sha256').update(fixed).update(json).digest();
  writeFileSync(abs, Buffer.concat([fixed, json, sum, b.subarray(12 + len + 32)]));
}

describe('scrypt parameters in repository.json', () => {
  it('are bounded: N = 2^20, p = 4 is refused with CORRUPT before any work, in little memory', async () => {
    fx = await makeStore({ passphrase: PASS });
    editJson(fx.repo.abs('repository.json'), (c) => {
      Object.assign((c.encryption as { kdf: object }).kdf, { N: 1 << 20, r: 8, p: 4 });
    });
    const r = hostileRead('open', fx.repo.root, PASS);
    console.log(`open with N = 2^20, p = 4: peak resident memory ${r.peakMB} MB`);
    expect(r).toMatchObject({ ok: false, code: 'CORRUPT', message: expect.stringMatching(/scrypt/) });
    expect(r.peakMB).toBeLessThan(MEMORY_LIMIT_MB);
  });

  it.each([
    ['N not a power of two', { N: 3000 }],
    ['N far too large', { N: 2 ** 30 }],
    ['N too small', { N: 2 }],
    ['r = 0', { r: 0 }],
    ['p = 0', { p: 0 }],
    ['p huge', { p: 1 << 20 }],
    ['N a string', { N: '1024' }],
    ['a short salt', { salt: 'AAAA' }],
  ])('refuses %s with CORRUPT', async (_name, change) => {
    fx = await makeStore({ passphrase: PASS });
    editJson(fx.repo.abs('repository.json'), (c) => {
      Object.assign((c.encryption as { kdf: object }).kdf, change);
    });
    expect(() => Repository.open(fx!.repo.root, PASS)).toThrow(
      expect.objectContaining({ code: 'CORRUPT' }) as Error,
    );
  });

  it('our own default is at least N = 2^17, r = 8 (OWASP) and opens', async () => {
    expect(DEFAULT_SCRYPT.N).toBeGreaterThanOrEqual(2 ** 17);
    expect(DEFAULT_SCRYPT.r).toBe(8);
    const d = tempDir();
    cleanups.push(() => d.remove());
    const repo = await Repository.init(join(d.path, 'repo'), { passphrase: PASS });
    expect(repo.config.encryption!.kdf).toMatchObject({ N: DEFAULT_SCRYPT.N, r: 8, p: 1 });
    expect(Repository.open(repo.root, PASS).unlocked).toBe(true);
  });
});

describe('decompression', () => {
  it('the crafted zstd frames are valid zstd (so the refusals below are the cap, not garbage)', () => {
    const expected = Buffer.alloc(1 << 20, 0x61);
    expect(zstdDecompress(zstdBomb(1 << 20, true)).equals(expected)).toBe(true);
    expect(zstdDecompress(zstdBomb(1 << 20, false)).equals(expected)).toBe(true);
  });

  it('a 64 KiB frame that expands to 2 GiB gives CORRUPT in repo verify, under 200 MB resident', async () => {
    fx = await makeStore();
    await fx.appendSegments(1, 10);
    const id = await fx.snapshot({ t: 1_763_805_600, i: 1 }, { t: 1_763_805_600, i: 1 });
    // A segment whose one frame says 1 MiB and declares 2 GiB in its zstd header.
    const ts = { t: 1_763_900_000, i: 1 };
    const segRel = fx.repo.segmentRelPath(fx.sourceId, ts, ts);
    const bomb = zstdBomb(2 ** 31, true);
    expect(bomb.length).toBeLessThan(70_000);
    mkdirSync(join(fx.repo.abs(segRel), '..'), { recursive: true });
    writeFileSync(
      fx.repo.abs(segRel),
      envelope(
        1,
        1,
        {
          type: 'oplog-segment',
          formatVersion: 1,
          sourceId: fx.sourceId,
          firstTs: ts,
          lastTs: ts,
          count: 1,
          rawBytes: 1 << 20,
          prevLastTs: null,
          payloadSha256: '0'.repeat(64),
          createdAt: new Date().toISOString(),
        },
        [{ stored: bomb, raw: 1 << 20 }],
      ),
    );
    // A snapshot data file whose frame gives no content size at all (streamed by a naive reader).
    const dir = snapshotRelDir(fx.sourceId, id);
    const data = envelope(
      2,
      1,
      { type: 'collection-data', formatVersion: 1, sourceId: fx.sourceId, snapshotId: id, ns: 'shop.orders' },
      [{ stored: zstdBomb(2 ** 31, false), raw: 1 << 20 }],
    );
    writeFileSync(fx.repo.abs(join(dir, '00001.bin')), data);
    // And a gzip member of 1 GiB of zeros (about 1 MB) in a segment that says 1 KiB.
    const ts2 = { t: 1_763_900_100, i: 1 };
    const gzRel = fx.repo.segmentRelPath(fx.sourceId, ts2, ts2);
    writeFileSync(
      fx.repo.abs(gzRel),
      envelope(
        1,
        2,
        {
          type: 'oplog-segment',
          formatVersion: 1,
          sourceId: fx.sourceId,
          firstTs: ts2,
          lastTs: ts2,
          count: 1,
          rawBytes: 1024,
          prevLastTs: null,
          payloadSha256: '0'.repeat(64),
          createdAt: new Date().toISOString(),
        },
        [{ stored: await gzipBomb(1 << 30), raw: 1024 }],
      ),
    );
    resealPlainManifest(fx.repo.abs(join(dir, 'manifest.json')), (m) => {
      m.namespaces[0]!.sha256 = createHash('sha256').update(data).digest('hex');
      m.namespaces[0]!.storedBytes = data.length;
    });

    // And a segment whose ten frames each really hold their declared 32 MiB (320 MiB in all):
    // verify streams it, so it never holds more than one frame.
    const ts3 = { t: 1_763_900_200, i: 1 };
    const bigRel = fx.repo.segmentRelPath(fx.sourceId, ts3, ts3);
    writeFileSync(
      fx.repo.abs(bigRel),
      envelope(
        1,
        1,
        {
          type: 'oplog-segment',
          formatVersion: 1,
          sourceId: fx.sourceId,
          firstTs: ts3,
          lastTs: ts3,
          count: 1,
          rawBytes: 10 * (32 << 20),
          prevLastTs: null,
          payloadSha256: '0'.repeat(64),
          createdAt: new Date().toISOString(),
        },
        Array.from({ length: 10 }, () => ({ stored: zstdBomb(32 << 20, true), raw: 32 << 20 })),
      ),
    );

    await fx.engine.close(); // one writing engine per repository: the child attaches it
    const r = hostileRead('verify', fx.repo.root);
    console.log(`repo verify of the bombs: peak resident memory ${r.peakMB} MB`);
    expect(r.ok).toBe(true);
    expect(r.problems).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          path: segRel,
          problem: 'corrupt',
          error: expect.stringMatching(/decompress/),
        }),
        expect.objectContaining({
          path: gzRel,
          problem: 'corrupt',
          error: expect.stringMatching(/decompress/),
        }),
        expect.objectContaining({
          path: join(dir, '00001.bin'),
          problem: 'corrupt',
          error: expect.stringMatching(/decompress/),
        }),
      ]),
    );
    expect(r.peakMB).toBeLessThan(MEMORY_LIMIT_MB);
  });
});

describe('encryption switched off in repository.json', () => {
  it('is refused with CONFLICT (catalog says encrypted) and nothing is written in clear', async () => {
    fx = await makeStore({ passphrase: PASS });
    await fx.appendSegments(1, 10);
    const before = Object.keys(files(fx.repo.root)).sort();
    editJson(fx.repo.abs('repository.json'), (c) => {
      c.encryption = null;
    });
    fx.engine.stores.forget(fx.repo.id);
    await expect(fx.engine.stores.get()).rejects.toMatchObject({
      code: 'CONFLICT',
      message: expect.stringMatching(/encrypt/i),
    });
    const res = await dispatch(fx.engine, 'snapshot.take', { source: 'prod-rs' });
    expect(res.ok).toBe(false);
    expect(Object.keys(files(fx.repo.root)).sort()).toEqual(before);
  });

  it('is refused with CONFLICT by a fresh catalog too: the repository holds encrypted files', async () => {
    fx = await makeStore({ passphrase: PASS });
    await fx.appendSegments(1, 10);
    editJson(fx.repo.abs('repository.json'), (c) => {
      c.encryption = null;
    });
    await fx.engine.close(); // one writing engine per repository: the fresh catalog's engine attaches it
    const e2 = Engine.open({ dataDir: join(fx.dir.path, 'data2'), mode: 'cli', kdfCost: TEST_KDF });
    cleanups.push(() => e2.close());
    const res = await dispatch(e2, 'repo.attach', { path: fx.repo.root });
    expect(res).toMatchObject({
      ok: false,
      error: { code: 'CONFLICT', message: expect.stringMatching(/encrypt/i) },
    });
  });
});

describe('secondary copy', () => {
  it('does not follow symbolic links: a link in locks/ to /etc/passwd never lands in the copy', async () => {
    fx = await makeStore();
    await fx.appendSegments(2, 10);
    const outside = join(fx.dir.path, 'outside');
    mkdirSync(outside);
    writeFileSync(join(outside, 'secret.txt'), 'not part of the repository');
    const locks = fx.repo.locksDir(fx.sourceId);
    mkdirSync(locks, { recursive: true });
    const victim = existsSync('/etc/passwd') ? '/etc/passwd' : join(outside, 'secret.txt');
    symlinkSync(victim, join(locks, 'snapshot-20261122T000000Z-abcdef.json'));
    symlinkSync(outside, join(fx.repo.sourceDir(fx.sourceId), 'snapshots-elsewhere'));
    mkdirSync(join(fx.dir.path, 'nas'));
    const target = addCopyTarget(fx.engine.catalog, fx.repo, join(fx.dir.path, 'nas', 'mirror'));
    const report = await runSecondaryCopy(fx.engine.catalog, fx.repo, target);
    const copied = files(target.path);
    const leaked = [readFileSync(victim), readFileSync(join(outside, 'secret.txt'))];
    for (const [p, bytes] of Object.entries(copied))
      for (const l of leaked) expect(bytes.equals(l), `${p} carries a file from outside`).toBe(false);
    expect(Object.keys(copied).some((p) => p.includes('snapshot-20261122T000000Z-abcdef'))).toBe(false);
    expect(Object.keys(copied).some((p) => p.includes('snapshots-elsewhere'))).toBe(false);
    expect(report.failed).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          path: join('sources', fx.sourceId, 'locks', 'snapshot-20261122T000000Z-abcdef.json'),
          error: expect.stringMatching(/symbolic link/),
        }),
      ]),
    );
    expect(Object.keys(copied).filter((p) => p.endsWith('.seg'))).toHaveLength(2);
  });
});

describe('manifest file names', () => {
  it.each([['../../x'], ['/etc/passwd'], ['sub/00001.bin'], ['..'], ['manifest.json']])(
    'are confined to their snapshot directory: %s is CORRUPT',
    async (name) => {
      fx = await makeStore();
      const id = await fx.snapshot({ t: 1_763_805_600, i: 1 }, { t: 1_763_805_600, i: 1 });
      const dir = snapshotRelDir(fx.sourceId, id);
      // Put a readable data file where the escaping name points, so following it would "work".
      cpSync(fx.repo.abs(join(dir, '00001.bin')), fx.repo.abs(join('sources', fx.sourceId, 'x')));
      resealPlainManifest(fx.repo.abs(join(dir, 'manifest.json')), (m) => {
        m.namespaces[0]!.file = name;
      });
      await expect(readManifest(fx.repo, dir)).rejects.toMatchObject({
        code: 'CORRUPT',
        message: expect.stringMatching(/file name/),
      });
      const report = await verifyRepository(fx.engine.catalog, fx.repo);
      expect(report.problems).toEqual([expect.objectContaining({ kind: 'snapshot', problem: 'corrupt' })]);
    },
  );
});

describe('ids come from the place of a file in the tree, not from its contents', () => {
  it('a snapshot directory copied under another name is CORRUPT and does not take over the original', async () => {
    fx = await makeStore();
    const id = await fx.snapshot({ t: 1_763_805_600, i: 1 }, { t: 1_763_805_600, i: 2 });
    const real = snapshotRelDir(fx.sourceId, id);
    const fake = snapshotRelDir(fx.sourceId, '20000101T000000Z-000000'); // sorts first
    cpSync(fx.repo.abs(real), fx.repo.abs(fake), { recursive: true });
    await expect(readManifest(fx.repo, fake)).rejects.toMatchObject({ code: 'CORRUPT' });
    const [report] = await rebuildFromRepository(fx.engine.catalog, [fx.repo], { removeTemporaries: true });
    expect(report!.unreadable).toEqual([
      expect.objectContaining({
        path: join(fake, 'manifest.json'),
        error: expect.stringMatching(/20000101T000000Z-000000/),
      }),
    ]);
    const rows = fx.engine.catalog.prepare('SELECT id, path, status FROM snapshots ORDER BY id').all();
    expect(rows).toEqual([
      { id: '20000101T000000Z-000000', path: fake, status: 'corrupt' },
      { id, path: real, status: 'complete' },
    ]);
  });

  it('a segment of one source placed under another is CORRUPT there, and the other source gains nothing', async () => {
    fx = await makeStore();
    await fx.appendSegments(1, 10);
    const otherId = await fx.store.ensureSource('other-rs');
    const [p] = segPaths(fx);
    const moved = p!.replace(fx.sourceId, otherId);
    mkdirSync(join(fx.repo.abs(moved), '..'), { recursive: true });
    cpSync(fx.repo.abs(p!), fx.repo.abs(moved));
    expect(() => readSegmentHeader(fx!.repo, moved)).toThrow(
      expect.objectContaining({ code: 'CORRUPT', message: expect.stringMatching(/source/) }) as Error,
    );
    await rebuildFromRepository(fx.engine.catalog, [fx.repo], { removeTemporaries: true });
    expect(
      fx.engine.catalog.prepare('SELECT source_id, status FROM oplog_segments WHERE path = ?').get(moved),
    ).toEqual({ source_id: otherId, status: 'corrupt' });
    expect(
      fx.engine.catalog.prepare('SELECT source_id, status FROM oplog_segments WHERE path = ?').get(p),
    ).toEqual({ source_id: fx.sourceId, status: 'ok' });
  });

  it('a lock in one source’s locks/ cannot lock another source’s snapshot', async () => {
    fx = await makeStore();
    const id = await fx.snapshot({ t: 1_763_805_600, i: 1 }, { t: 1_763_805_600, i: 2 });
    const otherId = await fx.store.ensureSource('other-rs');
    const locks = fx.repo.locksDir(otherId);
    mkdirSync(locks, { recursive: true });
    writeFileSync(
      join(locks, `snapshot-${id}.json`),
      JSON.stringify({
        type: 'retention-lock',
        kind: 'snapshot',
        sourceId: fx.sourceId,
        target: id,
        until: FOREVER,
        reason: 'planted',
        createdAt: new Date().toISOString(),
      }),
    );
    await expect(readLockFile(fx.repo, otherId, `snapshot-${id}.json`)).rejects.toMatchObject({
      code: 'CORRUPT',
    });
    await rebuildFromRepository(fx.engine.catalog, [fx.repo], { removeTemporaries: true });
    expect(
      fx.engine.catalog.prepare('SELECT locked_until FROM snapshots WHERE id = ?').pluck().get(id),
    ).toBeNull();
  });
});

describe('retention lock files', () => {
  it('carry a MAC in an encrypted repository; one without it (or edited) is CORRUPT and holds for ever', async () => {
    fx = await makeStore({ passphrase: PASS });
    const id = await fx.snapshot({ t: 1_763_805_600, i: 1 }, { t: 1_763_805_600, i: 2 });
    await fx.store.lock('snapshot', id, new Date('2031-01-01T00:00:00Z'), 'legal hold', 'test');
    const name = `snapshot-${id}.json`;
    const path = join(fx.repo.locksDir(fx.sourceId), name);
    const sealed = readFileSync(path, 'utf8');
    expect(JSON.parse(sealed)).toMatchObject({ formatVersion: 2, integrity: { algorithm: 'hmac-sha256' } });
    expect(await readLockFile(fx.repo, fx.sourceId, name)).toMatchObject({
      until: '2031-01-01T00:00:00.000Z',
      authenticated: true,
    });

    for (const tamper of [
      (l: Record<string, unknown>) => {
        delete l.integrity;
        l.until = '2020-01-01T00:00:00.000Z';
      },
      (l: Record<string, unknown>) => {
        l.until = '2020-01-01T00:00:00.000Z';
      },
    ]) {
      writeFileSync(path, sealed);
      editJson(path, tamper);
      await expect(readLockFile(fx.repo, fx.sourceId, name)).rejects.toMatchObject({ code: 'CORRUPT' });
      expect(await readLockFiles(fx.repo, fx.sourceId)).toEqual([
        expect.objectContaining({ kind: 'snapshot', target: id, until: FOREVER }),
      ]);
      const [report] = await rebuildFromRepository(fx.engine.catalog, [fx.repo], { removeTemporaries: true });
      expect(report!.unreadable).toEqual([
        expect.objectContaining({ path: join('sources', fx.sourceId, 'locks', name) }),
      ]);
      expect(
        fx.engine.catalog.prepare('SELECT locked_until FROM snapshots WHERE id = ?').pluck().get(id),
      ).toBe(FOREVER);
    }
  });
});

describe('segment headers at start-up in an encrypted repository', () => {
  it('are authenticated: a forged header (SHA-256 recomputed) is CORRUPT, never registered as ok', async () => {
    fx = await makeStore({ passphrase: PASS });
    await fx.appendSegments(2, 10);
    const [p1, p2] = segPaths(fx);
    forgeHeader(fx.repo.abs(p2!), (h) => {
      h.count = 11; // claims an entry it does not hold
    });
    expect(() => readSegmentHeader(fx!.repo, p2!)).toThrow(
      expect.objectContaining({ code: 'CORRUPT' }) as Error,
    );
    // A fresh catalog, locked first: nothing unauthenticated is registered; unlocked: the forgery is corrupt.
    await fx.engine.close(); // one writing engine per repository
    const e2 = Engine.open({ dataDir: join(fx.dir.path, 'data2'), mode: 'cli', kdfCost: TEST_KDF });
    cleanups.push(() => e2.close());
    expect(await dispatch(e2, 'repo.attach', { path: fx.repo.root })).toMatchObject({ ok: true });
    expect(e2.catalog.prepare(`SELECT count(*) FROM oplog_segments WHERE status = 'ok'`).pluck().get()).toBe(
      0,
    );
    expect(await dispatch(e2, 'repo.unlock', { passphrase: PASS })).toMatchObject({ ok: true });
    expect(e2.catalog.prepare('SELECT path, status FROM oplog_segments ORDER BY path').all()).toEqual(
      [
        { path: p1, status: 'ok' },
        { path: p2, status: 'corrupt' },
      ].sort((a, b) => (a.path! < b.path! ? -1 : 1)),
    );
  });

  it('a plaintext file planted in an encrypted repository is CORRUPT', async () => {
    fx = await makeStore({ passphrase: PASS });
    await fx.appendSegments(1, 10);
    const ts = { t: 1_763_900_000, i: 1 };
    const entry = Buffer.from(
      serialize({
        op: 'n',
        ns: '',
        o: { msg: 'planted' },
        ts: new Timestamp({ t: ts.t, i: ts.i }),
        t: Long.fromNumber(1),
      }),
    );
    const rel = fx.repo.segmentRelPath(fx.sourceId, ts, ts);
    mkdirSync(join(fx.repo.abs(rel), '..'), { recursive: true });
    writeFileSync(
      fx.repo.abs(rel),
      envelope(
        1,
        0,
        {
          type: 'oplog-segment',
          formatVersion: 1,
          sourceId: fx.sourceId,
          firstTs: ts,
          lastTs: ts,
          count: 1,
          rawBytes: entry.length,
          prevLastTs: null,
          payloadSha256: createHash('sha256').update(entry).digest('hex'),
          createdAt: new Date().toISOString(),
        },
        [{ stored: entry, raw: entry.length }],
      ),
    );
    expect(() => readSegmentHeader(fx!.repo, rel)).toThrow(
      expect.objectContaining({ code: 'CORRUPT' }) as Error,
    );
    await expect(readSegment(fx.repo, rel)).rejects.toMatchObject({ code: 'CORRUPT' });
  });
});

describe('users and roles', () => {
  it('are stored encrypted like data: no seeded storedKey anywhere in an encrypted repository', async () => {
    fx = await makeStore({ passphrase: PASS });
    const storedKey = 'U2VlZGVkU3RvcmVkS2V5VGhhdE11c3ROb3RMZWFrMQ==';
    const serverKey = 'U2VlZGVkU2VydmVyS2V5VGhhdE11c3ROb3RMZWFrMg==';
    const user = {
      _id: 'admin.backup',
      userId: new (await import('bson')).UUID('3b241101-e2bb-4255-8caf-4136c566a962'),
      user: 'backup',
      db: 'admin',
      credentials: {
        'SCRAM-SHA-256': { iterationCount: 15000, salt: 'c2FsdHNhbHQ=', storedKey, serverKey },
      },
      roles: [{ role: 'backup', db: 'admin' }],
    };
    const role = { _id: 'admin.auditor', role: 'auditor', db: 'admin', privileges: [], roles: [] };
    const w = fx.store.beginSnapshot({ sourceId: fx.sourceId, startTs: { t: 1_763_805_600, i: 1 } });
    const m = await fx.store.commitSnapshot(w, {
      consistentTs: { t: 1_763_805_600, i: 1 },
      users: [serialize(user)],
      roles: [serialize(role)],
    });
    for (const [p, bytes] of Object.entries(files(fx.repo.root))) {
      for (const secret of [storedKey, serverKey, Buffer.from(storedKey, 'base64').toString('hex')])
        expect(bytes.includes(Buffer.from(secret)), `${p} holds a SCRAM key`).toBe(false);
      expect(bytes.includes(Buffer.from(storedKey, 'base64')), `${p} holds raw key bytes`).toBe(false);
    }
    const back = await readUsersAndRoles(fx.repo, snapshotRelDir(fx.sourceId, m.snapshotId), m);
    expect(back.users!.map((d) => Buffer.from(d).toString('hex'))).toEqual([
      Buffer.from(serialize(user)).toString('hex'),
    ]);
    expect(back.roles!.map((d) => Buffer.from(d).toString('hex'))).toEqual([
      Buffer.from(serialize(role)).toString('hex'),
    ]);
    const report = await verifyRepository(fx.engine.catalog, fx.repo);
    expect(report.problems).toEqual([]);
  });
});

describe('a format-1 repository (written before these changes)', () => {
  for (const passphrase of [PASS, undefined]) {
    it(`still opens, reads and verifies (${passphrase ? 'encrypted' : 'not encrypted'})`, async () => {
      const d = tempDir();
      cleanups.push(() => d.remove());
      const old = writeV1Repository(join(d.path, 'repo'), {
        ...(passphrase ? { passphrase } : {}),
        kdf: TEST_KDF,
      });
      const at = (t: number, i: number) => new Timestamp({ t, i });
      const e = (t: number, i: number) => ({
        op: 'n',
        ns: '',
        o: { msg: `${t}:${i}` },
        ts: at(t, i),
        t: Long.fromNumber(1),
      });
      const s1 = old.segment([e(1_763_805_600, 1), e(1_763_805_600, 2)], null);
      const s2 = old.segment([e(1_763_805_601, 1)], { t: 1_763_805_600, i: 2 });
      const user = {
        _id: 'admin.backup',
        user: 'backup',
        db: 'admin',
        credentials: { 'SCRAM-SHA-256': { storedKey: 'x' } },
      };
      const snapDir = old.snapshot(
        '20261122T120000Z-abcdef',
        [{ _id: 1, a: 'x' }],
        { t: 1_763_805_600, i: 2 },
        [user],
      );
      old.lock(
        'snapshot',
        '20261122T120000Z-abcdef',
        'snapshot-20261122T120000Z-abcdef.json',
        '2031-01-01T00:00:00.000Z',
      );

      const engine = Engine.open({ dataDir: join(d.path, 'data'), mode: 'cli', kdfCost: TEST_KDF });
      cleanups.push(() => engine.close());
      const repo = Repository.open(old.root, passphrase);
      const store = await engine.stores.attach(repo);
      expect((await readSegment(store.repo, s2)).entries).toHaveLength(1);
      const manifest = await readManifest(store.repo, snapDir);
      const docs: Uint8Array[] = [];
      for await (const doc of readCollection(store.repo, snapDir, manifest.namespaces[0]!)) docs.push(doc);
      expect(docs.map((x) => Buffer.from(x).toString('hex'))).toEqual([
        Buffer.from(serialize({ _id: 1, a: 'x' })).toString('hex'),
      ]);
      const ur = await readUsersAndRoles(store.repo, snapDir, manifest);
      expect(ur.users!.map((x) => Buffer.from(x).toString('hex'))).toEqual([
        Buffer.from(serialize(user)).toString('hex'),
      ]);
      expect(ur.roles).toEqual([]);
      expect(
        await readLockFile(store.repo, old.sourceId, 'snapshot-20261122T120000Z-abcdef.json'),
      ).toMatchObject({
        until: '2031-01-01T00:00:00.000Z',
        authenticated: false,
      });
      const report = await verifyRepository(engine.catalog, store.repo);
      expect(report).toMatchObject({ problems: [], segmentsOk: 2, snapshotsOk: 1 });
      expect(engine.catalog.prepare('SELECT path, status FROM oplog_segments ORDER BY path').all()).toEqual([
        { path: s1, status: 'ok' },
        { path: s2, status: 'ok' },
      ]);
      expect(engine.catalog.prepare('SELECT locked_until FROM snapshots').pluck().get()).toBe(
        '2031-01-01T00:00:00.000Z',
      );
      // New files go into the old repository in the new format, and everything still verifies.
      await store.appendSegment(old.sourceId, [serialize(e(1_763_805_602, 1))], { t: 1_763_805_601, i: 1 });
      expect((await verifyRepository(engine.catalog, store.repo)).problems).toEqual([]);
      // ...and the repository says so, so that an older app refuses it whole rather than file by file.
      expect(JSON.parse(readFileSync(join(old.root, 'repository.json'), 'utf8'))).toMatchObject({
        formatVersion: REPOSITORY_FORMAT_VERSION,
        repositoryId: old.repositoryId,
      });
      expect(Repository.open(old.root, passphrase).unlocked).toBe(true);
    });
  }

  it('a forged header in an old encrypted segment is caught at start-up (its first frame authenticates it)', async () => {
    const d = tempDir();
    cleanups.push(() => d.remove());
    const old = writeV1Repository(join(d.path, 'repo'), { passphrase: PASS, kdf: TEST_KDF });
    const e = (t: number, i: number) => ({
      op: 'n',
      ns: '',
      o: {},
      ts: new Timestamp({ t, i }),
      t: Long.fromNumber(1),
    });
    const s1 = old.segment([e(1_763_805_600, 1)], null);
    forgeHeader(join(old.root, s1), (h) => {
      h.count = 5;
    });
    const repo = Repository.open(old.root, PASS);
    expect(() => readSegmentHeader(repo, s1)).toThrow(expect.objectContaining({ code: 'CORRUPT' }) as Error);
    const engine = Engine.open({ dataDir: join(d.path, 'data'), mode: 'cli', kdfCost: TEST_KDF });
    cleanups.push(() => engine.close());
    await engine.stores.attach(repo);
    expect(engine.catalog.prepare('SELECT status FROM oplog_segments').pluck().all()).toEqual(['corrupt']);
  });
});
