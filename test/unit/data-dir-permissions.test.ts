import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApiError } from '../../engine/errors.js';
import { Engine } from '../../engine/engine.js';
import { loadOrCreateToken } from '../../engine/server/token-file.js';
import { tempDir } from '../support/temp-dir.js';

const posix = process.platform !== 'win32';
const mode = (p: string) => statSync(p).mode & 0o777;

let dir: ReturnType<typeof tempDir>;
beforeEach(() => (dir = tempDir()));
afterEach(() => dir.remove());

describe.skipIf(!posix)('owner-only files (POSIX modes)', () => {
  it('creates the data dir 0700 and the catalog with its -wal and -shm 0600', async () => {
    const dataDir = join(dir.path, 'data');
    const engine = Engine.open({ dataDir, mode: 'cli' });
    try {
      engine.catalog
        .prepare("INSERT INTO settings (key, value_json, updated_at) VALUES ('probe', '1', 'now')")
        .run();
      expect(mode(dataDir)).toBe(0o700);
      for (const f of ['catalog.sqlite', 'catalog.sqlite-wal', 'catalog.sqlite-shm'])
        expect(mode(join(dataDir, f)), f).toBe(0o600);
    } finally {
      await engine.close();
    }
  });

  it('tightens a data dir and catalog that an older version left readable by others', async () => {
    const dataDir = join(dir.path, 'data');
    await (await Engine.open({ dataDir, mode: 'cli' })).close();
    chmodSync(dataDir, 0o755);
    chmodSync(join(dataDir, 'catalog.sqlite'), 0o644);
    const engine = Engine.open({ dataDir, mode: 'cli' });
    try {
      expect(mode(dataDir)).toBe(0o700);
      expect(mode(join(dataDir, 'catalog.sqlite'))).toBe(0o600);
      expect(mode(join(dataDir, 'catalog.sqlite-wal'))).toBe(0o600);
    } finally {
      await engine.close();
    }
  });

  it('creates a token file 0600 and refuses one that others can read', () => {
    const file = join(dir.path, 'token');
    const token = loadOrCreateToken(file);
    expect(mode(file)).toBe(0o600);
    expect(loadOrCreateToken(file)).toBe(token);
    chmodSync(file, 0o644);
    let err: unknown;
    try {
      loadOrCreateToken(file);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).code).toBe('INVALID_INPUT');
    expect((err as ApiError).message).toMatch(/chmod 600/);
    expect(readFileSync(file, 'utf8').trim()).toBe(token); // refused, not replaced
  });

  it('refuses a token file that its group can read', () => {
    const sub = join(dir.path, 'etc');
    mkdirSync(sub);
    const file = join(sub, 'token');
    writeFileSync(file, `${'a'.repeat(40)}\n`, { mode: 0o640 });
    expect(() => loadOrCreateToken(file)).toThrow(/readable by other users/);
  });
});
