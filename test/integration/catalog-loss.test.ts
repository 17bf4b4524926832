/**
 * Losing or damaging the catalog: the repository keeps what it takes to resume protection
 * (protection.json: connection without secrets, job policy and state; retention lock files) and
 * its audit log (audit.log, hash-chained). A rebuild restores them; a policy it could not recover
 * stops retention (alert) instead of falling back to the 7-day default; a damaged catalog is set
 * aside and rebuilt; a partial rebuild touches only the repositories it is given.
 */
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { dispatch } from '../../engine/api/dispatch.js';
import { Engine } from '../../engine/engine.js';
import { getSourceByName, setSourceConnection } from '../../engine/catalog/sources.js';
import { listAlerts } from '../../engine/catalog/alerts.js';
import { getBackupJob } from '../../engine/schedule/backup-jobs.js';
import { AUDIT_LOG_FILE } from '../../engine/repo/audit-log-file.js';
import { PROTECTION_FILE } from '../../engine/repo/protection-file.js';
import { Repository } from '../../engine/repo/repository.js';
import { OplogFactory } from '../support/oplog-factory.js';
import { runTask } from '../support/run-task.js';
import { tempDir } from '../support/temp-dir.js';
import { MONGO_KIND, withMongo } from '../support/with-mongo.js';
import { entryArgs } from '../support/bundled-entry.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const ok = async <T = unknown>(p: ReturnType<typeof dispatch>): Promise<T> => {
  const r = await p;
  if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
  return r.result as T;
};

/** A data dir with one repository and the source `rs` on a PCI-DSS policy, then closed. */
async function protectedSource(uri: string) {
  const dir = tempDir('mbm-catloss-');
  cleanups.push(() => dir.remove());
  const dataDir = join(dir.path, 'data');
  const repoPath = join(dir.path, 'repo');
  const engine = Engine.open({ dataDir, mode: 'cli', sourceTimeoutMs: 3000 });
  await ok(dispatch(engine, 'repo.init', { path: repoPath }));
  await ok(dispatch(engine, 'source.add', { name: 'rs', uri, readPreference: 'primaryPreferred' }));
  await ok(dispatch(engine, 'backup-job.set', { source: 'rs', preset: 'pci-dss' }));
  await ok(dispatch(engine, 'backup-job.stop', { source: 'rs' }));
  const job = await ok(dispatch(engine, 'backup-job.get', { source: 'rs' }));
  const source = (await ok<unknown[]>(dispatch(engine, 'source.list', {})))[0];
  await engine.close();
  return { dir, dataDir, repoPath, job, source };
}

describe(`catalog loss (${MONGO_KIND})`, () => {
  it('rebuild after deleting the catalog restores the PCI-DSS policy, the job state, the connection and the audit log', async () => {
    await withMongo(async ({ uri }) => {
      const { dir, dataDir, repoPath, job, source } = await protectedSource(uri);
      expect(job).toMatchObject({ state: 'stopped', policy: { preset: 'pci-dss', daily: { keepDays: 90 } } });
      const file = readFileSync(join(repoPath, 'sources', getSourceId(repoPath), PROTECTION_FILE), 'utf8');
      expect(file).not.toMatch(/password/i);

      rmSync(dataDir, { recursive: true, force: true });
      const fresh = Engine.open({ dataDir: join(dir.path, 'fresh'), mode: 'cli', sourceTimeoutMs: 3000 });
      cleanups.push(() => fresh.close());
      const rebuilt = await runTask(fresh, 'catalog.rebuild', { repositoryPaths: [repoPath] });
      expect(rebuilt.state).toBe('succeeded');
      expect(await ok(dispatch(fresh, 'backup-job.get', { source: 'rs' }))).toEqual(job);
      expect((await ok<unknown[]>(dispatch(fresh, 'source.list', {})))[0]).toEqual(source);
      // The connection works as before: a snapshot can be taken at once.
      await ok(dispatch(fresh, 'backup-job.start', { source: 'rs' }));
      const snap = await runTask(fresh, 'snapshot.take', { source: 'rs' });
      expect(snap.error ?? null).toBeNull();
      // The audit log came back too.
      const actions = (await ok<{ action: string }[]>(dispatch(fresh, 'audit.list', {}))).map(
        (e) => e.action,
      );
      expect(actions).toEqual(expect.arrayContaining(['source.add', 'backup-job.set', 'backup-job.stop']));
    });
  });

  it('a repository without protection.json (older format): the default is assumed and retention waits, with an alert', async () => {
    await withMongo(async ({ uri }) => {
      const { dir, dataDir, repoPath } = await protectedSource(uri);
      const sourceId = getSourceId(repoPath);
      rmSync(join(repoPath, 'sources', sourceId, PROTECTION_FILE));
      rmSync(join(repoPath, AUDIT_LOG_FILE));
      rmSync(dataDir, { recursive: true, force: true });

      const fresh = Engine.open({
        dataDir: join(dir.path, 'fresh'),
        mode: 'headless',
        sourceTimeoutMs: 3000,
      });
      cleanups.push(() => fresh.close());
      const rebuilt = await runTask(fresh, 'catalog.rebuild', { repositoryPaths: [repoPath] });
      expect(rebuilt).toMatchObject({ state: 'succeeded', result: [{ policiesAssumed: [sourceId] }] });
      expect(getBackupJob(fresh.catalog, sourceId)).toMatchObject({ policyOrigin: 'assumed' });
      const row = getSourceByName(fresh.catalog, 'rs');
      expect(await fresh.scheduler.applyRetention(row)).toEqual({ snapshots: [], segments: [] });
      expect(listAlerts(fresh.catalog, { sourceId, open: true })).toContainEqual(
        expect.objectContaining({ kind: 'POLICY_UNKNOWN', severity: 'critical' }),
      );
      // An assumed policy is never written back as if somebody had chosen it.
      expect(existsSync(join(repoPath, 'sources', sourceId, PROTECTION_FILE))).toBe(false);

      await ok(dispatch(fresh, 'backup-job.set', { source: 'rs', preset: 'pci-dss' }));
      expect(getBackupJob(fresh.catalog, sourceId).policyOrigin).toBe('set');
      expect(listAlerts(fresh.catalog, { sourceId, open: true }).map((a) => a.kind)).not.toContain(
        'POLICY_UNKNOWN',
      );
      expect(existsSync(join(repoPath, 'sources', sourceId, PROTECTION_FILE))).toBe(true);
    });
  });

  it('an older repository (no protection.json, no audit.log) with its catalog gets protection.json at the next start', async () => {
    await withMongo(async ({ uri }) => {
      const { dataDir, repoPath, job } = await protectedSource(uri);
      const sourceId = getSourceId(repoPath);
      const file = join(repoPath, 'sources', sourceId, PROTECTION_FILE);
      rmSync(file);
      rmSync(join(repoPath, AUDIT_LOG_FILE));
      const engine = Engine.open({ dataDir, mode: 'cli' });
      cleanups.push(() => engine.close());
      expect(await runTask(engine, 'repo.verify')).toMatchObject({
        state: 'succeeded',
        result: { problems: [] },
      });
      expect(existsSync(file)).toBe(true);
      const written = JSON.parse(readFileSync(file, 'utf8')) as { job: { state: string; policy: unknown } };
      expect(written.job).toEqual({ state: 'stopped', policy: (job as { policy: unknown }).policy });
    });
  });

  it('a damaged catalog is set aside, reported and rebuilt instead of failing every command', async () => {
    await withMongo(async ({ uri }) => {
      const { dataDir, job } = await protectedSource(uri);
      for (const f of readdirSync(dataDir)) if (f.startsWith('catalog.sqlite-')) rmSync(join(dataDir, f));
      writeFileSync(join(dataDir, 'catalog.sqlite'), 'this is not a SQLite database '.repeat(200));

      // Through the CLI door, as a user would meet it: a read-only command.
      const { spawnSync } = await import('node:child_process');
      const root = join(import.meta.dirname, '..', '..');
      const r = spawnSync(
        process.execPath,
        [
          ...entryArgs('engine/cli.ts'),
          'backup-job',
          'get',
          '--source',
          'rs',
          '--json',
          '--data-dir',
          dataDir,
        ],
        { encoding: 'utf8', cwd: root },
      );
      expect(r.stderr).toMatch(
        /The catalog was damaged \(SQLITE_NOTADB.*set aside as .*catalog\.sqlite\.corrupt-/,
      );
      expect(r.status).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual(job);
      const aside = readdirSync(dataDir).filter((f) => f.startsWith('catalog.sqlite.corrupt-'));
      expect(aside).toHaveLength(1);
      expect(readFileSync(join(dataDir, aside[0]!), 'utf8')).toMatch(/^this is not a SQLite database/);

      const engine = Engine.open({ dataDir, mode: 'cli' });
      cleanups.push(() => engine.close());
      expect(listAlerts(engine.catalog, {}).map((a) => a.kind)).toContain('CATALOG_REBUILT');
      // Its audit log came back from the repository's audit.log.
      const actions = (await ok<{ action: string }[]>(dispatch(engine, 'audit.list', {}))).map(
        (e) => e.action,
      );
      expect(actions).toEqual(expect.arrayContaining(['source.add', 'backup-job.set']));
    });
  });
});

function getSourceId(repoPath: string): string {
  return readdirSync(join(repoPath, 'sources'))[0]!;
}

describe('partial rebuild and the audit chain', () => {
  async function twoRepositories() {
    const dir = tempDir('mbm-partial-');
    cleanups.push(() => dir.remove());
    const engine = Engine.open({ dataDir: join(dir.path, 'data'), mode: 'cli' });
    cleanups.push(() => engine.close());
    const stores = [];
    for (const name of ['a', 'b']) {
      const store = await engine.stores.attach(await Repository.init(join(dir.path, `repo-${name}`)));
      const sourceId = await store.ensureSource(`src-${name}`);
      const f = new OplogFactory({ start: { t: 1_763_805_600, i: 1 }, perSecond: 20 });
      for (let k = 0; k < 3; k++) await store.appendSegment(sourceId, f.mixed(10), store.chainTip(sourceId));
      stores.push({ store, sourceId });
    }
    return { engine, stores };
  }
  const count = (engine: Engine, sourceId: string) =>
    engine.catalog.prepare('SELECT count(*) FROM oplog_segments WHERE source_id = ?').pluck().get(sourceId);

  it('a rebuild given one repository keeps the rows of the others', async () => {
    const { engine, stores } = await twoRepositories();
    const [a, b] = stores as [(typeof stores)[0], (typeof stores)[0]];
    const coverageB = await ok(dispatch(engine, 'source.coverage', { source: 'src-b' }));
    const job = await runTask(engine, 'catalog.rebuild', { repositoryPaths: [a.store.repo.root] });
    expect(job.state).toBe('succeeded');
    expect(count(engine, a.sourceId)).toBe(3);
    expect(count(engine, b.sourceId)).toBe(3);
    expect(await ok(dispatch(engine, 'source.coverage', { source: 'src-b' }))).toEqual(coverageB);
  });

  it('protection.json never holds a secret connection option', async () => {
    const { engine, stores } = await twoRepositories();
    const { store, sourceId } = stores[0]!;
    setSourceConnection(
      engine.catalog,
      sourceId,
      {
        uri: 'mongodb://db1:27017/?replicaSet=rs0&tlsCertificateKeyFilePassword=s3cret-pem&proxyPassword=hunter2',
        username: 'backup',
      },
      null,
    );
    await store.saveProtection(sourceId);
    const text = readFileSync(join(store.repo.sourceDir(sourceId), PROTECTION_FILE), 'utf8');
    expect(text).toContain('replicaSet=rs0');
    expect(text).not.toMatch(/s3cret-pem|hunter2/);
  });

  it('repo verify flags an edited or removed audit entry', async () => {
    const { engine, stores } = await twoRepositories();
    const { store } = stores[0]!;
    const segs = engine.catalog
      .prepare('SELECT path FROM oplog_segments WHERE source_id = ? ORDER BY first_t')
      .pluck()
      .all(stores[0]!.sourceId) as string[];
    for (const p of segs)
      await ok(
        dispatch(engine, 'retention.lock', {
          repository: store.repo.id,
          segment: p,
          until: '2030-01-01T00:00:00Z',
          reason: 'audit',
        }),
      );
    const log = join(store.repo.root, AUDIT_LOG_FILE);
    const lines = readFileSync(log, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(3);
    const verify = async () => {
      const t = await runTask(engine, 'repo.verify', { repository: store.repo.id });
      return (t.result as { problems: { kind: string; error: string }[] }).problems.filter(
        (p) => p.kind === 'audit',
      );
    };
    expect(await verify()).toEqual([]);
    // The other repository's log holds only its own entries: none here.
    expect(existsSync(join(stores[1]!.store.repo.root, AUDIT_LOG_FILE))).toBe(false);

    writeFileSync(
      log,
      [lines[0], lines[1]!.replace('"reason":"audit"', '"reason":"nothing to see"'), lines[2]].join('\n') +
        '\n',
    );
    expect(await verify()).toEqual([
      expect.objectContaining({ error: expect.stringMatching(/record 2\) was edited/) }),
    ]);

    writeFileSync(log, [lines[0], lines[2]].join('\n') + '\n');
    expect(await verify()).toEqual([
      expect.objectContaining({ error: expect.stringMatching(/record 3\) does not follow record 1/) }),
    ]);
  });
});
