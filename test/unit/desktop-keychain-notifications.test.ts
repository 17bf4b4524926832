/**
 * The desktop app's keychain store and desktop notifications, run without
 * the Electron binary: Electron's safeStorage and Notification are passed in,
 * so here a stand-in keychain (AES-256-GCM under a key only it holds) and a
 * recording notifier take their place. The Electron e2e covers the real ones
 * where a binary exists.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { KeychainSecretStore, type SafeStorage } from '../../electron/main/keychain-store.js';
import { notifyDesktop, type DesktopNotice } from '../../electron/main/notifications.js';
import { dispatch } from '../../engine/api/dispatch.js';
import { ApiError } from '../../engine/errors.js';
import { Engine } from '../../engine/engine.js';
import { Repository } from '../../engine/repo/repository.js';
import { raiseAlert } from '../../engine/schedule/alerts.js';
import { startStandin } from '../support/standin/server.js';
import { TEST_KDF } from '../support/store-fixture.js';
import { tempDir } from '../support/temp-dir.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** An OS keychain: encrypts with a key that never leaves it. */
function osKeychain(available = true): SafeStorage {
  const key = randomBytes(32);
  return {
    isEncryptionAvailable: () => available,
    encryptString(plain) {
      const iv = randomBytes(12);
      const c = createCipheriv('aes-256-gcm', key, iv);
      const ct = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
      return Buffer.concat([iv, c.getAuthTag(), ct]);
    },
    decryptString(blob) {
      const d = createDecipheriv('aes-256-gcm', key, blob.subarray(0, 12));
      d.setAuthTag(blob.subarray(12, 28));
      return Buffer.concat([d.update(blob.subarray(28)), d.final()]).toString('utf8');
    },
  };
}

function dir() {
  const d = tempDir('mbm-keychain-');
  cleanups.push(() => d.remove());
  return d;
}

describe('desktop keychain store', () => {
  it('writes only encrypted blobs (0600), reads them back after a restart, and asks again under another keychain', () => {
    const file = join(dir().path, 'secrets.json');
    const keychain = osKeychain();
    const store = new KeychainSecretStore(file, keychain);
    expect(store.persistent).toBe(true);
    store.set('repository:r1', 'correct horse battery');
    const onDisk = readFileSync(file, 'utf8');
    expect(onDisk).not.toContain('correct horse');
    expect(onDisk).not.toContain(Buffer.from('correct horse battery').toString('base64'));
    expect(statSync(file).mode & 0o777).toBe(0o600);

    expect(new KeychainSecretStore(file, keychain).get('repository:r1')).toBe('correct horse battery');
    expect(new KeychainSecretStore(file, osKeychain()).get('repository:r1')).toBeNull(); // other user / OS
    const again = new KeychainSecretStore(file, keychain);
    again.delete('repository:r1');
    expect(new KeychainSecretStore(file, keychain).get('repository:r1')).toBeNull();
  });

  it('keeps secrets in memory only when the OS offers no encryption', () => {
    const file = join(dir().path, 'secrets.json');
    const store = new KeychainSecretStore(file, osKeychain(false));
    expect(store.persistent).toBe(false);
    store.set('repository:r1', 'pw');
    expect(store.get('repository:r1')).toBe('pw');
    expect(new KeychainSecretStore(file, osKeychain(false)).get('repository:r1')).toBeNull();
  });

  it("treats Linux's basic_text backend (a fixed password) as no OS encryption, with a visible alert", async () => {
    const d = dir();
    const file = join(d.path, 'secrets.json');
    const basicText: SafeStorage = { ...osKeychain(true), getSelectedStorageBackend: () => 'basic_text' };
    const store = new KeychainSecretStore(file, basicText);
    expect(store.persistent).toBe(false);
    expect(store.warning).toMatch(/basic_text/);
    store.set('repository:r1', 'pw');
    expect(existsSync(file)).toBe(false); // nothing written under a key everyone knows
    expect(new KeychainSecretStore(file, osKeychain(true)).persistent).toBe(true); // other backends keep working
    expect(new KeychainSecretStore(file, osKeychain(true)).warning).toBeNull();

    const engine = Engine.open({ dataDir: join(d.path, 'data'), mode: 'desktop', secrets: store });
    cleanups.push(() => engine.close());
    await engine.startBackgroundWork();
    const alerts = await dispatch(engine, 'alert.list', {});
    expect(alerts).toMatchObject({
      ok: true,
      result: [
        { kind: 'KEYCHAIN_UNPROTECTED', severity: 'warning', message: expect.stringMatching(/basic_text/) },
      ],
    });
  });

  it('never overwrites a secrets.json it cannot parse, and writes it durably (no temporary left)', () => {
    const d = dir();
    const file = join(d.path, 'secrets.json');
    writeFileSync(file, '{"repository:r1": "half-writ', { mode: 0o600 });
    const store = new KeychainSecretStore(file, osKeychain());
    expect(store.warning).toMatch(/secrets\.json/);
    expect(store.persistent).toBe(false); // so source passwords are sealed another way, not lost
    store.set('repository:r2', 'pw');
    store.delete('repository:r1');
    expect(readFileSync(file, 'utf8')).toBe('{"repository:r1": "half-writ');
    expect(store.get('repository:r2')).toBe('pw'); // still usable for this run, from memory

    const good = join(d.path, 'good.json');
    const ok = new KeychainSecretStore(good, osKeychain());
    ok.set('repository:r1', 'pw');
    ok.set('repository:r2', 'pw2');
    expect(Object.keys(JSON.parse(readFileSync(good, 'utf8')) as object)).toEqual([
      'repository:r1',
      'repository:r2',
    ]);
    expect(readdirSync(d.path).filter((n) => n.includes('.tmp-'))).toEqual([]);
  });

  it('holds a desktop source password: the catalog records only "keychain", and it survives a restart', async () => {
    const d = dir();
    const file = join(d.path, 'secrets.json');
    const keychain = osKeychain();
    const auth = { username: 'backup', password: 'S3cret-Passw0rd' };
    const s = await startStandin({ auth, noopIntervalMs: 0 });
    cleanups.push(() => s.stop());
    const open = () =>
      Engine.open({
        dataDir: join(d.path, 'data'),
        mode: 'desktop',
        kdfCost: TEST_KDF,
        sourceTimeoutMs: 2000,
        secrets: new KeychainSecretStore(file, keychain),
      });
    const engine = open();
    await engine.stores.attach(await Repository.init(join(d.path, 'repo'), { kdfCost: TEST_KDF }));
    // A secret connection-string option goes to the keychain too (unused without TLS, harmless here).
    const keyPassword = 'KeyPass-desktop-51';
    const bare = `${s.uri.replace(`:${auth.password}@`, '@')}&tlsCertificateKeyFilePassword=${keyPassword}`;
    const added = await dispatch(engine, 'source.add', { name: 'rs', uri: bare, password: auth.password });
    expect(added).toMatchObject({ ok: true, result: { source: { passwordStorage: 'keychain' } } });
    await engine.capture.stopAll();
    const catalogBytes = Buffer.concat(
      ['catalog.sqlite', 'catalog.sqlite-wal'].map((f) => readFileSync(join(d.path, 'data', f))),
    );
    expect(catalogBytes.includes(Buffer.from(auth.password))).toBe(false);
    expect(catalogBytes.includes(Buffer.from(keyPassword))).toBe(false);
    const sourceId = (added as { result: { source: { id: string } } }).result.source.id;
    expect(new KeychainSecretStore(file, keychain).get(`source-uri-options:${sourceId}`)).toContain(
      keyPassword,
    );
    await engine.close();

    const reopened = open();
    cleanups.push(() => reopened.close());
    expect(await dispatch(reopened, 'source.test', { name: 'rs' })).toMatchObject({
      ok: true,
      result: { authenticated: true, user: 'backup' },
    });
  });
});

describe('desktop notifications', () => {
  it('show each new alert and each failed job while the setting is on, nothing when it is off', async () => {
    const engine = Engine.open({ dataDir: join(dir().path, 'data'), mode: 'desktop' });
    cleanups.push(() => engine.close());
    const shown: DesktopNotice[] = [];
    cleanups.push(notifyDesktop(engine, (n) => shown.push(n)));

    raiseAlert(engine.catalog, engine.events, {
      sourceId: null,
      kind: 'DISK_NEARLY_FULL',
      severity: 'warning',
      message: 'The repository disk is 93% full.',
    });
    const failing = engine.tasks.start('snapshot', async () => {
      throw new ApiError('UNREACHABLE', 'source went away');
    });
    await engine.tasks.wait(failing.taskId);
    expect(shown).toEqual([
      { title: 'Backup alert (warning): DISK_NEARLY_FULL', body: 'The repository disk is 93% full.' },
      { title: 'snapshot failed', body: 'source went away' },
    ]);

    await dispatch(engine, 'settings.set', { desktopNotifications: false });
    raiseAlert(engine.catalog, engine.events, {
      sourceId: null,
      kind: 'COPY_FAILING',
      severity: 'warning',
      message: 'NAS unreachable',
    });
    expect(shown).toHaveLength(2);
  });
});
