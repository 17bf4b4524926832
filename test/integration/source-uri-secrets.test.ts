/**
 * Secrets given as connection-string options (the client key's password,
 * an AWS session token in authMechanismProperties, a SOCKS5 proxy password)
 * are sealed like the source password and appear nowhere in clear: not in
 * the catalog (nor its WAL), not in the repository (source.json), not in the
 * audit log, not in any API view. They still reach the driver.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { afterEach, describe, expect, it } from 'vitest';
import { dispatch } from '../../engine/api/dispatch.js';
import { getSourceByName, getSourceConnection, setSourceConnection } from '../../engine/catalog/sources.js';
import { Engine } from '../../engine/engine.js';
import { Repository } from '../../engine/repo/repository.js';
import { driverUri, parseConnection } from '../../engine/mongo/connection-config.js';
import { sourceConnection } from '../../engine/mongo/source-connection.js';
import { readStoredSecrets } from '../../engine/mongo/source-secret.js';
import { startStandin } from '../support/standin/server.js';
import { TEST_KDF } from '../support/store-fixture.js';
import { tempDir } from '../support/temp-dir.js';
import { makeTestCerts } from '../support/tls-certs.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const SESSION_TOKEN = 'SessionToken-7a1c9e';

/** Every byte under a directory, for a grep that misses nothing (WAL, temporaries, repository files). */
function allBytes(dir: string): Buffer {
  const parts: Buffer[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else parts.push(readFileSync(p));
    }
  };
  walk(dir);
  return Buffer.concat(parts);
}

/**
 * A stand-in that wants a password and a client certificate, an engine with an encrypted
 * repository, and the connection string with the two secret options the tests look for.
 */
async function mtlsSetup(dirPrefix: string) {
  const certDir = tempDir('mbm-certs-');
  cleanups.push(() => certDir.remove());
  const certs = makeTestCerts(certDir.path);
  const auth = { username: 'backup', password: 'S3cret-Passw0rd' };
  const s = await startStandin({
    noopIntervalMs: 0,
    auth,
    tls: { cert: certs.serverCert, key: certs.serverKey, ca: certs.ca, requireClientCert: true },
  });
  cleanups.push(() => s.stop());
  const dir = tempDir(dirPrefix);
  cleanups.push(() => dir.remove());
  const open = () =>
    Engine.open({
      dataDir: join(dir.path, 'data'),
      mode: 'cli',
      kdfCost: TEST_KDF,
      sourceTimeoutMs: 3000,
      passphrase: 'repository passphrase',
    });
  const engine = open();
  await engine.stores.attach(
    await Repository.init(join(dir.path, 'repo'), {
      kdfCost: TEST_KDF,
      passphrase: 'repository passphrase',
    }),
  );
  const uri = new URL(s.uri);
  uri.searchParams.set('tlsCertificateKeyFilePassword', certs.clientKeyPassword);
  uri.searchParams.set('authMechanismProperties', `SERVICE_NAME:mongodb,AWS_SESSION_TOKEN:${SESSION_TOKEN}`);
  return { certs, auth, s, dir, open, engine, uri };
}

describe('secrets in connection-string options', () => {
  it('are sealed with the repository key, reach the driver, and are shown or stored nowhere in clear', async () => {
    const { certs, auth, dir, open, engine, uri } = await mtlsSetup('mbm-urisecrets-');
    const added = await dispatch(engine, 'source.add', {
      name: 'mtls',
      uri: uri.toString(),
      tlsCaFile: certs.caFile,
      tlsCertFile: certs.clientEncryptedPemFile,
    });
    expect(added).toMatchObject({
      ok: true,
      result: { source: { passwordStorage: 'repository-key' }, test: { authenticated: true } },
    });
    const view = (added as { result: { source: { uri: string } } }).result.source.uri;
    expect(view).toContain('SERVICE_NAME'); // what is not secret stays visible
    const edited = await dispatch(engine, 'source.edit', { name: 'mtls', readPreference: 'primary' });
    expect(edited).toMatchObject({ ok: true });
    // Editing with the string as shown (no secrets in it) keeps the sealed ones: the encrypted key still opens.
    const reEdited = await dispatch(engine, 'source.edit', { name: 'mtls', uri: view });
    expect(reEdited).toMatchObject({ ok: true, result: { test: { authenticated: true } } });
    const list = await dispatch(engine, 'source.list', {});
    const auditLog = await dispatch(engine, 'audit.list', {});
    await engine.close();

    // After a restart the sealed options are read back: the encrypted client key opens again.
    const reopened = open();
    cleanups.push(() => reopened.close());
    expect(await dispatch(reopened, 'source.test', { name: 'mtls' })).toMatchObject({
      ok: true,
      result: { reachable: true, authenticated: true },
    });
    const live = await sourceConnection(reopened, getSourceByName(reopened.catalog, 'mtls'));
    const client = new MongoClient(driverUri(live.config), { tls: true });
    expect(client.options.credentials?.mechanismProperties).toMatchObject({
      AWS_SESSION_TOKEN: SESSION_TOKEN,
    });

    const shown = JSON.stringify([
      added,
      edited,
      list,
      auditLog,
      await dispatch(reopened, 'source.list', {}),
    ]);
    const stored = Buffer.concat([allBytes(join(dir.path, 'data')), allBytes(join(dir.path, 'repo'))]);
    for (const secret of [certs.clientKeyPassword, SESSION_TOKEN, auth.password]) {
      expect(shown, secret).not.toContain(secret);
      expect(stored.includes(Buffer.from(secret)), secret).toBe(false);
      expect(stored.includes(Buffer.from(encodeURIComponent(secret))), secret).toBe(false);
    }
  });

  it('left in the catalog by an older version are sealed at the first read and the row rewritten without them', async () => {
    const { certs, auth, dir, open, engine, uri } = await mtlsSetup('mbm-urisecrets-old-');
    const added = await dispatch(engine, 'source.add', {
      name: 'old',
      uri: uri.toString(),
      tlsCaFile: certs.caFile,
      tlsCertFile: certs.clientEncryptedPemFile,
    });
    expect(added).toMatchObject({ ok: true, result: { test: { authenticated: true } } });
    // The row as a version before the options were sealed wrote it: the options in the uri in
    // clear, secret_json the sealed password alone.
    const id = getSourceByName(engine.catalog, 'old').id;
    const now = getSourceConnection(engine.catalog, id);
    const legacyUri = new URL(uri.toString());
    legacyUri.username = '';
    legacyUri.password = '';
    const legacy = { ...JSON.parse(now.connection_json!), uri: legacyUri.toString() };
    setSourceConnection(engine.catalog, id, legacy, readStoredSecrets(now.secret_json).password);
    await engine.close();
    const catalogBytes = () => allBytes(join(dir.path, 'data'));
    const holds = (bytes: Buffer, secret: string) =>
      bytes.includes(Buffer.from(secret)) || bytes.includes(Buffer.from(encodeURIComponent(secret)));
    expect(holds(catalogBytes(), SESSION_TOKEN)).toBe(true); // the test starts from a leaking row
    expect(holds(catalogBytes(), certs.clientKeyPassword)).toBe(true);

    // The first read after the upgrade (a test of the source) seals them and rewrites the row.
    const upgraded = open();
    expect(await dispatch(upgraded, 'source.test', { name: 'old' })).toMatchObject({
      ok: true,
      result: { reachable: true, authenticated: true },
    });
    const row = getSourceConnection(upgraded.catalog, id);
    expect(JSON.parse(row.connection_json!).uri).toContain('SERVICE_NAME');
    expect(row.connection_json).not.toMatch(/tlsCertificateKeyFilePassword|AWS_SESSION_TOKEN/);
    expect(readStoredSecrets(row.secret_json)).toMatchObject({
      password: { scheme: 'repository-key' },
      uriOptions: { scheme: 'repository-key' },
    });
    await upgraded.close();
    const after = catalogBytes();
    for (const secret of [certs.clientKeyPassword, SESSION_TOKEN, auth.password])
      expect(holds(after, secret), secret).toBe(false);

    // And the sealed options still reach the driver: the encrypted client key opens after a restart.
    const reopened = open();
    cleanups.push(() => reopened.close());
    expect(await dispatch(reopened, 'source.test', { name: 'old' })).toMatchObject({
      ok: true,
      result: { authenticated: true },
    });
    const live = await sourceConnection(reopened, getSourceByName(reopened.catalog, 'old'));
    expect(
      new MongoClient(driverUri(live.config), { tls: true }).options.credentials?.mechanismProperties,
    ).toMatchObject({
      AWS_SESSION_TOKEN: SESSION_TOKEN,
    });
  });

  it('are refused in an unencrypted repository unless storing them unprotected is chosen', async () => {
    const s = await startStandin({ noopIntervalMs: 0 });
    cleanups.push(() => s.stop());
    const dir = tempDir('mbm-urisecrets-');
    cleanups.push(() => dir.remove());
    const engine = Engine.open({ dataDir: join(dir.path, 'data'), mode: 'cli', sourceTimeoutMs: 3000 });
    cleanups.push(() => engine.close());
    await engine.stores.attach(await Repository.init(join(dir.path, 'repo'), { kdfCost: TEST_KDF }));
    // No TLS here, so the driver leaves the key password unused; what matters is where it is kept.
    const uri = `${s.uri}&tlsCertificateKeyFilePassword=${SESSION_TOKEN}`;
    expect(await dispatch(engine, 'source.add', { name: 'a', uri })).toMatchObject({
      ok: false,
      error: {
        code: 'INVALID_INPUT',
        message: expect.stringMatching(/tlsCertificateKeyFilePassword.*insecure-store-password/s),
      },
    });
    const insecure = await dispatch(engine, 'source.add', { name: 'a', uri, insecureStorePassword: true });
    expect(insecure).toMatchObject({
      ok: true,
      result: { source: { warnings: [expect.stringMatching(/connection-string secrets.*unprotected/)] } },
    });
    expect(JSON.stringify(insecure)).not.toContain(SESSION_TOKEN);
  });

  it('a proxy password is split off like the others and put back only for the driver', () => {
    const { config } = parseConnection(
      'mongodb://db.example:27017/?replicaSet=rs0&proxyHost=127.0.0.1&proxyPort=1080&proxyUsername=p&proxyPassword=Pr0xy-pw&tlsCertificateKeyFilePassword=k%26y',
    );
    expect(config.uri).not.toMatch(/proxyPassword|tlsCertificateKeyFilePassword|Pr0xy/);
    expect(config.uri).toContain('proxyUsername=p');
    expect(JSON.stringify(config)).not.toContain('Pr0xy');
    const client = new MongoClient(driverUri(config));
    expect(client.options.proxyPassword).toBe('Pr0xy-pw');
    expect(client.options.proxyUsername).toBe('p');
  });
});
