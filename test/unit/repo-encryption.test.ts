import { readFileSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { dispatch } from '../../engine/api/dispatch.js';
import { Repository } from '../../engine/repo/repository.js';
import { readSegment } from '../../engine/repo/segment-file.js';
import { makeStore, type StoreFixture } from '../support/store-fixture.js';

let fx: StoreFixture | null = null;
afterEach(async () => {
  await fx?.close();
  fx = null;
});

const PASS = 'correct horse battery staple';

async function encryptedWithSegment() {
  fx = await makeStore({ passphrase: PASS });
  await fx.appendSegments(1, 30);
  const path = fx.engine.catalog.prepare('SELECT path FROM oplog_segments').pluck().get() as string;
  return { fx, path, abs: fx.repo.abs(path) };
}

describe('repository encryption', () => {
  it('never stores the key or the plaintext', async () => {
    const { fx, abs } = await encryptedWithSegment();
    const config = readFileSync(fx.repo.abs('repository.json'), 'utf8');
    expect(JSON.parse(config).encryption).toMatchObject({
      algorithm: 'AES-256-GCM',
      kdf: { name: 'scrypt' },
    });
    expect(config).not.toContain(PASS);
    const bytes = readFileSync(abs);
    expect(bytes.includes(Buffer.from('shop.orders'))).toBe(false);
    expect(bytes.includes(Buffer.from('customer'))).toBe(false);
  });

  it('opens with the right passphrase and refuses a wrong one with WRONG_PASSPHRASE', async () => {
    const { fx, path } = await encryptedWithSegment();
    const ok = Repository.open(fx.repo.root, PASS);
    expect((await readSegment(ok, path)).entries).toHaveLength(30);
    expect(() => Repository.open(fx.repo.root, 'not the passphrase')).toThrow(
      expect.objectContaining({ code: 'WRONG_PASSPHRASE' }) as Error,
    );
    const res = await dispatch(fx.engine, 'repo.unlock', { passphrase: 'nope nope nope' });
    expect(res).toMatchObject({ ok: false, error: { code: 'WRONG_PASSPHRASE' } });
  });

  it('says LOCKED, not garbage, when read without the passphrase', async () => {
    const { fx, path } = await encryptedWithSegment();
    const locked = Repository.open(fx.repo.root);
    expect(locked.unlocked).toBe(false);
    await expect(readSegment(locked, path)).rejects.toMatchObject({ code: 'LOCKED' });
  });

  it('detects a tampered header as CORRUPT', async () => {
    const { fx, path, abs } = await encryptedWithSegment();
    const b = readFileSync(abs);
    const at = b.indexOf(Buffer.from('"count":30'));
    b[at + 9] = '4'.charCodeAt(0); // "count":34
    writeFileSync(abs, b);
    await expect(readSegment(fx.repo, path)).rejects.toMatchObject({
      code: 'CORRUPT',
      message: expect.stringMatching(/header/),
    });
  });

  it('detects a tampered payload as CORRUPT (authentication)', async () => {
    const { fx, path, abs } = await encryptedWithSegment();
    const b = readFileSync(abs);
    b[b.length - 40] = b[b.length - 40]! ^ 0x01;
    writeFileSync(abs, b);
    await expect(readSegment(fx.repo, path)).rejects.toMatchObject({
      code: 'CORRUPT',
      message: expect.stringMatching(/authentication/),
    });
  });

  it('detects a file swapped in from another repository with the same passphrase', async () => {
    const { fx, path } = await encryptedWithSegment();
    const other = await makeStore({ passphrase: PASS });
    try {
      await other.appendSegments(1, 30);
      const otherPath = other.engine.catalog
        .prepare('SELECT path FROM oplog_segments')
        .pluck()
        .get() as string;
      writeFileSync(fx.repo.abs(path), readFileSync(other.repo.abs(otherPath)));
      await expect(readSegment(fx.repo, path)).rejects.toMatchObject({ code: 'CORRUPT' });
    } finally {
      await other.close();
    }
  });
});
