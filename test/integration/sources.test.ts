import dns from 'node:dns';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { afterEach, describe, expect, it } from 'vitest';
import { dispatch } from '../../engine/api/dispatch.js';
import { Engine } from '../../engine/engine.js';
import { Repository } from '../../engine/repo/repository.js';
import { getSourceByName } from '../../engine/catalog/sources.js';
import { startStandin, type Standin } from '../support/standin/server.js';
import { TEST_KDF } from '../support/store-fixture.js';
import { waitUntilCaptured } from '../support/capture-wait.js';
import { startDnsServer } from '../support/dns-server.js';
import { runTask } from '../support/run-task.js';
import { tempDir } from '../support/temp-dir.js';
import { MONGO_KIND, withMongo } from '../support/with-mongo.js';
import { makeTestCerts } from '../support/tls-certs.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** An engine with one repository; `headless` runs capture (segments cut every 200 ms) as `serve` does. */
async function engineWithRepo(opts: { passphrase?: string; headless?: boolean } = {}) {
  const dir = tempDir('mbm-src-');
  const engine = Engine.open({
    dataDir: join(dir.path, 'data'),
    mode: opts.headless ? 'headless' : 'cli',
    kdfCost: TEST_KDF,
    sourceTimeoutMs: opts.headless ? 3000 : 1500,
    ...(opts.headless ? { capture: { segmentMaxMs: 200 } } : {}),
    ...(opts.passphrase ? { passphrase: opts.passphrase } : {}),
  });
  await engine.stores.attach(
    await Repository.init(join(dir.path, 'repo'), {
      kdfCost: TEST_KDF,
      ...(opts.passphrase ? { passphrase: opts.passphrase } : {}),
    }),
  );
  cleanups.push(async () => {
    await engine.close();
    dir.remove();
  });
  return { engine, dir };
}

async function standin(opts: Parameters<typeof startStandin>[0] = {}): Promise<Standin> {
  const s = await startStandin({ noopIntervalMs: 0, ...opts });
  cleanups.push(() => s.stop());
  return s;
}

const count = (engine: Engine) => engine.catalog.prepare('SELECT count(*) FROM sources').pluck().get();

describe(`sources (${MONGO_KIND})`, () => {
  it('adds a replica set after testing it and reports topology, version and oplog window', async () => {
    await withMongo(async ({ uri }) => {
      const { engine } = await engineWithRepo();
      const res = await dispatch(engine, 'source.add', { name: 'prod-rs', uri });
      expect(res).toMatchObject({
        ok: true,
        result: {
          source: { name: 'prod-rs', passwordStorage: 'none' },
          test: {
            reachable: true,
            topology: { kind: 'replicaSet', setName: expect.any(String) },
            pitr: { enabled: true },
            oplog: { hours: expect.any(Number) },
          },
        },
      });
      const test = await dispatch(engine, 'source.test', { name: 'prod-rs' });
      expect(test).toMatchObject({ ok: true, result: { serverVersion: expect.stringMatching(/^\d+\./) } });
      // The window measured by the test is kept for the dashboard (status), with when it was measured.
      const tested = (test as { result: { oplog: { first: { t: number }; last: { t: number } } } }).result
        .oplog;
      const status = await dispatch(engine, 'source.status', { source: 'prod-rs' });
      expect(status).toMatchObject({
        ok: true,
        result: {
          oplogWindow: {
            first: { t: tested.first.t },
            last: { t: tested.last.t },
            hours: expect.any(Number),
            checkedAt: expect.stringMatching(/^\d{4}-/),
          },
        },
      });
      expect(await dispatch(engine, 'source.add', { name: 'prod-rs', uri })).toMatchObject({
        ok: false,
        error: { code: 'CONFLICT' },
      });
      expect(await dispatch(engine, 'source.list', {})).toMatchObject({
        ok: true,
        result: [{ name: 'prod-rs' }],
      });
      expect(await dispatch(engine, 'source.remove', { name: 'prod-rs', confirm: true })).toMatchObject({
        ok: true,
      });
      expect(count(engine)).toBe(0);
    });
  });

  it('refuses bad input with typed errors and saves nothing', async () => {
    const { engine } = await engineWithRepo();
    expect(await dispatch(engine, 'source.add', { name: 'x', uri: 'http://nope' })).toMatchObject({
      ok: false,
      error: { code: 'INVALID_INPUT' },
    });
    expect(await dispatch(engine, 'source.add', { name: 'x', uri: 'mongodb://' })).toMatchObject({
      ok: false,
      error: { code: 'INVALID_INPUT' },
    });
    expect(await dispatch(engine, 'source.add', { name: 'bad name!', uri: 'mongodb://h' })).toMatchObject({
      ok: false,
      error: { code: 'INVALID_INPUT' },
    });
    const unknownHost = await dispatch(engine, 'source.add', {
      name: 'x',
      uri: 'mongodb://no-such-host.invalid:27017/',
    });
    expect(unknownHost).toMatchObject({ ok: false, error: { code: 'UNREACHABLE' } });
    const refused = await dispatch(engine, 'source.add', { name: 'x', uri: 'mongodb://127.0.0.1:1/' });
    expect(refused).toMatchObject({ ok: false, error: { code: 'UNREACHABLE' } });
    expect(count(engine)).toBe(0);
  });

  it('refuses a sharded cluster and marks a standalone as snapshots-only', async () => {
    const { engine } = await engineWithRepo();
    const mongos = await standin({ topology: 'sharded' });
    expect(await dispatch(engine, 'source.add', { name: 'cluster', uri: mongos.uri })).toMatchObject({
      ok: false,
      error: { code: 'UNSUPPORTED', message: expect.stringMatching(/sharded/i) },
    });
    const single = await standin({ topology: 'standalone' });
    const res = await dispatch(engine, 'source.add', { name: 'single', uri: single.uri });
    expect(res).toMatchObject({
      ok: true,
      result: {
        test: {
          topology: { kind: 'standalone' },
          pitr: { enabled: false, reason: expect.stringMatching(/snapshots/) },
        },
      },
    });
    expect(count(engine)).toBe(1);
  });

  it('snapshots a standalone (no oplog: startTs = consistentTs) and refuses continuous capture with the reason', async () => {
    const { engine } = await engineWithRepo({ headless: true });
    const single = await standin({ topology: 'standalone' });
    expect(await dispatch(engine, 'source.add', { name: 'single', uri: single.uri })).toMatchObject({
      ok: true,
    });
    const client = new MongoClient(single.uri);
    cleanups.push(() => client.close());
    await client
      .db('shop')
      .collection('orders')
      .insertMany(Array.from({ length: 50 }, (_, k) => ({ k })));

    expect(await dispatch(engine, 'capture.start', { source: 'single' })).toMatchObject({
      ok: false,
      error: { code: 'UNSUPPORTED', message: expect.stringMatching(/standalone.*snapshots only/) },
    });
    expect(await runTask(engine, 'snapshot.take', { source: 'single' })).toMatchObject({
      state: 'succeeded',
    });
    const snaps = await dispatch(engine, 'snapshot.list', { source: 'single' });
    expect(snaps).toMatchObject({ ok: true, result: [{ status: 'complete', documents: 50 }] });
    const [snap] = (snaps as { result: { startTs: unknown; consistentTs: unknown }[] }).result;
    expect(snap!.consistentTs).toEqual(snap!.startTs);
    // No oplog was captured, so the snapshot itself is the only restore point.
    const plan = await dispatch(engine, 'restore.plan', { source: 'single', at: 'latest' });
    expect(plan).toMatchObject({ ok: true, result: { restorable: true, segments: [] } });
    expect(engine.catalog.prepare('SELECT count(*) FROM oplog_segments').pluck().get()).toBe(0);
    // Any other instant cannot be restored, and the answer says why and which points exist.
    expect(await dispatch(engine, 'restore.plan', { source: 'single', at: '1000:1' })).toMatchObject({
      ok: true,
      result: { restorable: false, reason: 'NO_COVERAGE', message: expect.stringMatching(/snapshots only/) },
    });
  });

  it('reads snapshots and the oplog from a secondary when the read preference says so', async () => {
    const rs = await standin({ secondaries: 1, noopIntervalMs: 200 });
    const [secondary] = rs.secondaryHosts;
    const { engine } = await engineWithRepo({ headless: true });
    const writer = new MongoClient(rs.uri);
    cleanups.push(() => writer.close());
    await writer
      .db('shop')
      .collection('orders')
      .insertMany(Array.from({ length: 300 }, (_, k) => ({ k })));
    const finds = () => rs.commandsOn(secondary!).find ?? 0;

    // Primary (the default): the secondary serves no reads.
    const onPrimary = await dispatch(engine, 'source.add', { name: 'on-primary', uri: rs.uri });
    expect(onPrimary).toMatchObject({
      ok: true,
      result: { test: { topology: { members: [rs.host, secondary] } } },
    });
    await engine.capture.stop(getSourceByName(engine.catalog, 'on-primary').id);
    expect(await runTask(engine, 'snapshot.take', { source: 'on-primary' })).toMatchObject({
      state: 'succeeded',
    });
    expect(finds()).toBe(0);

    // secondary: the snapshot's documents and the continuous capture both come from it.
    const added = await dispatch(engine, 'source.add', {
      name: 'on-secondary',
      uri: rs.uri,
      readPreference: 'secondary',
    });
    expect(added).toMatchObject({ ok: true, result: { source: { readPreference: 'secondary' } } });
    const id = getSourceByName(engine.catalog, 'on-secondary').id;
    expect(await runTask(engine, 'snapshot.take', { source: 'on-secondary' })).toMatchObject({
      state: 'succeeded',
    });
    expect(await dispatch(engine, 'snapshot.list', { source: 'on-secondary' })).toMatchObject({
      ok: true,
      result: [{ status: 'complete', documents: 300 }],
    });
    expect(finds()).toBeGreaterThan(0);
    // The tailing cursor (opened when the source was added) runs on the secondary: its getMores land there.
    const getMores = () => rs.commandsOn(secondary!).getmore ?? 0;
    const before = getMores();
    await writer.db('shop').collection('orders').insertOne({ k: 'late' });
    await waitUntilCaptured(engine.capture.get(id)!, writer);
    expect(getMores()).toBeGreaterThan(before);
    expect(rs.commandsOn(secondary!).insert ?? 0).toBe(0);
  });

  it('adds a mongodb+srv:// source resolved through DNS (SRV + TXT), snapshots and captures it; an unknown name is UNREACHABLE (dns)', async () => {
    const rs = await standin({ noopIntervalMs: 200 });
    const zone = await startDnsServer({
      srv: { '_mongodb._tcp.rs.mbm.test': [{ port: rs.port, target: 'node1.mbm.test' }] },
      txt: { 'rs.mbm.test': [`replicaSet=${rs.state.replSetName}&authSource=admin`] },
    });
    // SRV and TXT go to the test's DNS server through the driver's real resolver; only the
    // address of the SRV target comes from a stub of the OS lookup (an /etc/hosts line, in effect).
    const servers = dns.getServers();
    const lookup = dns.lookup;
    dns.setServers([zone.address]);
    dns.lookup = ((host: string, opts: unknown, cb: unknown) => {
      const callback = (typeof opts === 'function' ? opts : cb) as (...a: unknown[]) => void;
      const o = (typeof opts === 'object' && opts ? opts : {}) as { all?: boolean };
      if (!host.endsWith('.mbm.test')) return (lookup as (...a: unknown[]) => void)(host, opts, cb);
      return o.all ? callback(null, [{ address: '127.0.0.1', family: 4 }]) : callback(null, '127.0.0.1', 4);
    }) as typeof dns.lookup;
    cleanups.push(async () => {
      dns.setServers(servers);
      dns.lookup = lookup;
      await zone.stop();
    });

    const { engine } = await engineWithRepo({ headless: true });
    const uri = 'mongodb+srv://rs.mbm.test/?tls=false'; // +srv turns TLS on by default; the stand-in is plain TCP here
    const added = await dispatch(engine, 'source.add', { name: 'atlas-like', uri });
    expect(added).toMatchObject({
      ok: true,
      result: {
        source: { uri: expect.stringMatching(/^mongodb\+srv:\/\/rs\.mbm\.test/) },
        test: { topology: { kind: 'replicaSet', setName: rs.state.replSetName } },
      },
    });
    expect(zone.queries).toEqual(
      expect.arrayContaining([
        { name: '_mongodb._tcp.rs.mbm.test', type: 33 },
        { name: 'rs.mbm.test', type: 16 },
      ]),
    );
    const writer = new MongoClient(rs.uri);
    cleanups.push(() => writer.close());
    await writer
      .db('srv')
      .collection('c')
      .insertMany(Array.from({ length: 20 }, (_, k) => ({ k })));
    expect(await runTask(engine, 'snapshot.take', { source: 'atlas-like' })).toMatchObject({
      state: 'succeeded',
    });
    expect(await dispatch(engine, 'snapshot.list', { source: 'atlas-like' })).toMatchObject({
      ok: true,
      result: [{ status: 'complete', documents: 20 }],
    });
    const id = getSourceByName(engine.catalog, 'atlas-like').id;
    await writer.db('srv').collection('c').insertOne({ k: 'late' });
    await waitUntilCaptured(engine.capture.get(id)!, writer);

    expect(
      await dispatch(engine, 'source.add', { name: 'typo', uri: 'mongodb+srv://nope.mbm.test/' }),
    ).toMatchObject({ ok: false, error: { code: 'UNREACHABLE', details: { reason: 'dns' } } });
  });

  it('never stores a password in clear: repository key when encrypted, refusal (or explicit insecure choice) otherwise', async () => {
    const auth = { username: 'backup', password: 'S3cret-Passw0rd' };
    const s = await standin({ auth });
    const bareUri = s.uri.replace(`${auth.username}:${auth.password}@`, `${auth.username}@`);

    const plain = await engineWithRepo();
    expect(await dispatch(plain.engine, 'source.add', { name: 'a', uri: s.uri })).toMatchObject({
      ok: false,
      error: { code: 'INVALID_INPUT', message: expect.stringMatching(/insecure-store-password/) },
    });
    expect(count(plain.engine)).toBe(0);
    const insecure = await dispatch(plain.engine, 'source.add', {
      name: 'a',
      uri: bareUri,
      password: auth.password,
      insecureStorePassword: true,
    });
    expect(insecure).toMatchObject({
      ok: true,
      result: {
        source: { passwordStorage: 'insecure-base64', warnings: [expect.stringMatching(/unprotected/)] },
      },
    });

    const enc = await engineWithRepo({ passphrase: 'repository passphrase' });
    const ok = await dispatch(enc.engine, 'source.add', { name: 'b', uri: s.uri });
    expect(ok).toMatchObject({
      ok: true,
      result: {
        source: { passwordStorage: 'repository-key', uri: expect.not.stringContaining(auth.password) },
        test: { authenticated: true },
      },
    });
    const catalogBytes = readFileSync(join(enc.dir.path, 'data', 'catalog.sqlite'));
    expect(catalogBytes.includes(Buffer.from(auth.password))).toBe(false);
    expect(await dispatch(enc.engine, 'source.test', { name: 'b' })).toMatchObject({
      ok: true,
      result: { authenticated: true, user: 'backup' },
    });

    const wrong = await dispatch(enc.engine, 'source.add', { name: 'c', uri: bareUri, password: 'wrong' });
    expect(wrong).toMatchObject({ ok: false, error: { code: 'AUTH_FAILED' } });
    expect(count(enc.engine)).toBe(1);
  });

  it('reaches a TLS source with its CA file, and with a client certificate where the server requires one', async () => {
    const certDir = tempDir('mbm-certs-');
    cleanups.push(() => certDir.remove());
    const certs = makeTestCerts(certDir.path);
    const { engine } = await engineWithRepo();

    const tls = await standin({ tls: { cert: certs.serverCert, key: certs.serverKey } });
    // Without the CA the server's certificate cannot be trusted: refused, nothing saved.
    expect(await dispatch(engine, 'source.add', { name: 'tls-rs', uri: tls.uri })).toMatchObject({
      ok: false,
      error: { code: 'UNREACHABLE' },
    });
    expect(count(engine)).toBe(0);
    const ok = await dispatch(engine, 'source.add', {
      name: 'tls-rs',
      uri: tls.uri,
      tlsCaFile: certs.caFile,
    });
    expect(ok).toMatchObject({
      ok: true,
      result: { source: { tlsCaFile: certs.caFile }, test: { topology: { kind: 'replicaSet' } } },
    });
    // The stored settings are used for later connections: a snapshot over TLS.
    expect(await runTask(engine, 'snapshot.take', { source: 'tls-rs' })).toMatchObject({
      state: 'succeeded',
    });

    const mutual = await standin({
      tls: { cert: certs.serverCert, key: certs.serverKey, ca: certs.ca, requireClientCert: true },
    });
    expect(
      await dispatch(engine, 'source.add', { name: 'mtls-rs', uri: mutual.uri, tlsCaFile: certs.caFile }),
    ).toMatchObject({ ok: false, error: { code: 'UNREACHABLE' } });
    const withCert = await dispatch(engine, 'source.add', {
      name: 'mtls-rs',
      uri: mutual.uri,
      tlsCaFile: certs.caFile,
      tlsCertFile: certs.clientPemFile,
    });
    expect(withCert).toMatchObject({ ok: true, result: { source: { tlsCertFile: certs.clientPemFile } } });
    expect(await dispatch(engine, 'source.test', { name: 'mtls-rs' })).toMatchObject({
      ok: true,
      result: { reachable: true },
    });
  });
});
