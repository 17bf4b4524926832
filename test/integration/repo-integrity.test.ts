import { readFileSync, rmSync, truncateSync, writeFileSync, existsSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { dispatch } from '../../engine/api/dispatch.js';
import { Engine } from '../../engine/engine.js';
import { listCoverage } from '../../engine/catalog/coverage.js';
import { verifyRepository } from '../../engine/verify/repository-verify.js';
import { runTask } from '../support/run-task.js';
import { makeStore, TEST_KDF, type StoreFixture } from '../support/store-fixture.js';

let fx: StoreFixture | null = null;
afterEach(async () => {
  await fx?.close();
  fx = null;
});

const T0 = 1_763_805_600;

async function populated(passphrase?: string) {
  fx = await makeStore({ perSecond: 10, ...(passphrase ? { passphrase } : {}) });
  await fx.appendSegments(2, 20);
  const snap = await fx.snapshot({ t: T0 + 1, i: 1 }, { t: T0 + 1, i: 5 }, fx.factory.mixed(300));
  await fx.appendSegments(4, 20);
  fx.factory.skipSeconds(30);
  await fx.store.appendSegment(fx.sourceId, fx.factory.mixed(20), null); // a genuine chain break
  await fx.appendSegments(2, 20);
  await fx.snapshot(fx.store.chainTip(fx.sourceId)!, fx.store.chainTip(fx.sourceId)!);
  return { fx, snap };
}

const segPaths = (f: StoreFixture) =>
  f.engine.catalog
    .prepare('SELECT path FROM oplog_segments ORDER BY first_t, first_i')
    .pluck()
    .all() as string[];

describe('repo verify', () => {
  it('passes a healthy repository and reports the genuine gap', async () => {
    const { fx } = await populated();
    const job = await runTask(fx.engine, 'repo.verify');
    expect(job.state).toBe('succeeded');
    const report = job.result as {
      problems: unknown[];
      segmentsOk: number;
      snapshotsOk: number;
      gaps: { gaps: unknown[] }[];
    };
    expect(report.problems).toEqual([]);
    expect(report.segmentsOk).toBe(9);
    expect(report.snapshotsOk).toBe(2);
    expect(report.gaps[0]!.gaps).toHaveLength(1);
  });

  it('finds a flipped byte in a segment, one in a snapshot file, and a truncated segment; coverage shows the gaps', async () => {
    const { fx } = await populated();
    const paths = segPaths(fx);
    const flip = (abs: string, at: number) => {
      const b = readFileSync(abs);
      b[at] = b[at]! ^ 0x40;
      writeFileSync(abs, b);
    };
    flip(fx.repo.abs(paths[2]!), readFileSync(fx.repo.abs(paths[2]!)).length - 30);
    const snapDir = fx.engine.catalog
      .prepare('SELECT path FROM snapshots ORDER BY consistent_t LIMIT 1')
      .pluck()
      .get() as string;
    const dataFile = fx.repo.abs(join(snapDir, '00001.bin'));
    flip(dataFile, readFileSync(dataFile).length - 100);
    truncateSync(fx.repo.abs(paths[4]!), readFileSync(fx.repo.abs(paths[4]!)).length - 17);

    const before = listCoverage(fx.engine.catalog, fx.sourceId);
    expect(before.gaps).toHaveLength(1);

    const report = await verifyRepository(fx.engine.catalog, fx.repo);
    const byPath = Object.fromEntries(report.problems.map((p) => [p.path, p]));
    expect(byPath[paths[2]!]).toMatchObject({ kind: 'segment', problem: 'corrupt' });
    expect(byPath[paths[4]!]).toMatchObject({
      kind: 'segment',
      problem: 'corrupt',
      error: expect.stringMatching(/truncat|damaged/),
    });
    expect(byPath[join(snapDir, '00001.bin')]).toMatchObject({
      kind: 'snapshot',
      problem: 'corrupt',
      error: expect.stringMatching(/checksum/),
    });
    expect(report.problems).toHaveLength(3);

    const after = listCoverage(fx.engine.catalog, fx.sourceId);
    expect(after.gaps.map((g) => g.reason)).toEqual(['corrupt', 'corrupt', 'chain-break']);
    const snapStatus = fx.engine.catalog
      .prepare('SELECT status FROM snapshots ORDER BY consistent_t LIMIT 1')
      .pluck()
      .get();
    expect(snapStatus).toBe('corrupt');
    // No plan crosses a damaged segment.
    const seg2 = fx.engine.catalog
      .prepare('SELECT first_t, first_i FROM oplog_segments WHERE path = ?')
      .get(paths[2]!) as { first_t: number; first_i: number };
    const plan = await dispatch(fx.engine, 'restore.plan', {
      source: 'prod-rs',
      at: `${seg2.first_t}:${seg2.first_i}`,
    });
    expect(plan).toMatchObject({ ok: true, result: { restorable: false, reason: 'IN_GAP' } });
  });

  it('reports a deleted segment as missing, and heals it when the file is put back', async () => {
    const { fx } = await populated();
    const p = segPaths(fx)[4]!;
    const saved = readFileSync(fx.repo.abs(p));
    unlinkSync(fx.repo.abs(p));
    let report = await verifyRepository(fx.engine.catalog, fx.repo);
    expect(report.problems).toEqual([expect.objectContaining({ path: p, problem: 'missing' })]);
    expect(listCoverage(fx.engine.catalog, fx.sourceId).gaps.map((g) => g.reason)).toContain('missing');
    writeFileSync(fx.repo.abs(p), saved);
    report = await verifyRepository(fx.engine.catalog, fx.repo);
    expect(report.problems).toEqual([]);
    expect(report.healed).toContain(p);
    expect(listCoverage(fx.engine.catalog, fx.sourceId).gaps).toHaveLength(1);
  });

  it('verifies an encrypted repository only when unlocked (LOCKED otherwise)', async () => {
    const { fx } = await populated('a long passphrase');
    const dataDir = join(fx.dir.path, 'data2');
    await fx.engine.close(); // one writing engine per repository: the first lets go of it
    const e2 = Engine.open({ dataDir, mode: 'cli', kdfCost: TEST_KDF });
    try {
      const attached = await dispatch(e2, 'repo.attach', { path: fx.repo.root });
      expect(attached).toMatchObject({ ok: true, result: { encrypted: true, unlocked: false } });
      expect(await dispatch(e2, 'repo.verify', {})).toMatchObject({ ok: false, error: { code: 'LOCKED' } });
      expect(await dispatch(e2, 'repo.unlock', { passphrase: 'a long passphrase' })).toMatchObject({
        ok: true,
        result: { unlocked: true },
      });
      const job = await runTask(e2, 'repo.verify');
      expect(job).toMatchObject({ state: 'succeeded', result: { problems: [] } });
    } finally {
      await e2.close();
    }
  });
});

describe('catalog rebuild', () => {
  it('gives identical coverage and plans from the repository alone', async () => {
    const { fx } = await populated();
    await fx.store.lock(
      'snapshot',
      fx.engine.catalog.prepare('SELECT id FROM snapshots LIMIT 1').pluck().get() as string,
      new Date('2030-01-01'),
      'legal hold',
      'test',
    );
    const points = [
      'latest',
      `${T0 + 1}:5`,
      `${T0 + 3}:7`,
      `${T0 + 5}:2`,
      `${T0 + 30}:1`,
      `${T0 - 5}:1`,
      new Date((T0 + 4) * 1000).toISOString().replace('.000Z', 'Z'),
    ];
    const snapshotOf = async (engine: Engine) => ({
      coverage: await dispatch(engine, 'source.coverage', { source: 'prod-rs' }),
      plans: await Promise.all(
        points.map((at) => dispatch(engine, 'restore.plan', { source: 'prod-rs', at })),
      ),
      snapshots: await dispatch(engine, 'snapshot.list', { source: 'prod-rs' }),
    });
    const before = await snapshotOf(fx.engine);

    // 1. Rebuild in place.
    const job = await runTask(fx.engine, 'catalog.rebuild');
    expect(job.state).toBe('succeeded');
    expect(await snapshotOf(fx.engine)).toEqual(before);

    // 2. Delete the catalog entirely: a new data dir that only knows the repository path.
    await fx.engine.close();
    rmSync(join(fx.dir.path, 'data'), { recursive: true, force: true });
    const fresh = Engine.open({ dataDir: join(fx.dir.path, 'fresh'), mode: 'cli' });
    try {
      const r = await runTask(fresh, 'catalog.rebuild', { repositoryPaths: [fx.repo.root] });
      expect(r.state).toBe('succeeded');
      expect(await snapshotOf(fresh)).toEqual(before);
    } finally {
      await fresh.close();
    }
  });
});

describe('retention locks', () => {
  it('refuses deletion inside a lock with RETENTION_LOCKED, audits it, and allows it after', async () => {
    const { fx, snap } = await populated();
    const lock = await dispatch(fx.engine, 'retention.lock', {
      snapshot: snap,
      until: '2099-01-01T00:00:00Z',
      reason: 'audit',
    });
    expect(lock).toMatchObject({ ok: true, result: { kind: 'snapshot', target: snap } });
    const del = await dispatch(fx.engine, 'snapshot.delete', { id: snap, confirm: true });
    expect(del).toMatchObject({ ok: false, error: { code: 'RETENTION_LOCKED' } });
    expect(existsSync(fx.repo.abs(join('sources', fx.sourceId, 'snapshots', snap, 'manifest.json')))).toBe(
      true,
    );
    const auditLog = await dispatch(fx.engine, 'audit.list', {});
    expect(auditLog).toMatchObject({
      ok: true,
      result: [
        { action: 'snapshot.delete', outcome: 'refused', target: snap },
        { action: 'snapshot.lock', outcome: 'done' },
      ],
    });
    // A lock can be extended, never shortened.
    expect(
      await dispatch(fx.engine, 'retention.lock', { snapshot: snap, until: '2030-01-01T00:00:00Z' }),
    ).toMatchObject({ ok: false, error: { code: 'CONFLICT' } });
    // Without confirm: refused before anything happens.
    expect(await dispatch(fx.engine, 'snapshot.delete', { id: snap })).toMatchObject({
      ok: false,
      error: { code: 'INVALID_INPUT' },
    });
    // After the lock expires (a clock past it), deletion goes through and is audited.
    await fx.store.delete('snapshot', snap, 'test', new Date('2100-01-01'));
    expect(existsSync(fx.repo.abs(join('sources', fx.sourceId, 'snapshots', snap)))).toBe(false);
  });

  it('keeps segment locks through a catalog rebuild (the lock lives in the repository)', async () => {
    const { fx } = await populated();
    const p = segPaths(fx)[1]!;
    await fx.store.lock('segment', p, new Date('2099-01-01'), 'case 42', 'test');
    await runTask(fx.engine, 'catalog.rebuild');
    // Both indexed for document history: only the deleted one leaves that index.
    const other = segPaths(fx)[2]!;
    for (const s of [p, other]) fx.engine.views.recordSegment(fx.repo.id, s, [1], false, 'sha');
    expect(await dispatch(fx.engine, 'segment.delete', { path: p, confirm: true })).toMatchObject({
      ok: false,
      error: { code: 'RETENTION_LOCKED' },
    });
    expect(await dispatch(fx.engine, 'segment.delete', { path: other, confirm: true })).toMatchObject({
      ok: true,
    });
    expect(fx.engine.views.segmentIndexed(fx.repo.id, other, 'sha')).toBeNull();
    expect(fx.engine.views.segmentIndexed(fx.repo.id, p, 'sha')).toEqual({ commands: false });
    expect(listCoverage(fx.engine.catalog, fx.sourceId).gaps.length).toBe(2); // deleting a segment leaves a gap
  });
});
