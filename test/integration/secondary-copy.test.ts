import { mkdirSync, readFileSync, writeFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { dispatch } from '../../engine/api/dispatch.js';
import { Repository } from '../../engine/repo/repository.js';
import { readSegment } from '../../engine/repo/segment-file.js';
import { addCopyTarget, runSecondaryCopy } from '../../engine/store/secondary-copy.js';
import { isWriterLockFile } from '../../engine/store/writer-lock.js';
import { makeStore, type StoreFixture } from '../support/store-fixture.js';

let fx: StoreFixture | null = null;
afterEach(async () => {
  await fx?.close();
  fx = null;
});

function tree(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const n of readdirSync(d)) {
      const p = join(d, n);
      if (d === root && isWriterLockFile(n)) continue; // the writer lock belongs to each place, never copied
      if (statSync(p).isDirectory()) walk(p);
      else out[relative(root, p)] = createHash('sha256').update(readFileSync(p)).digest('hex');
    }
  };
  walk(root);
  return out;
}

describe('secondary copy', () => {
  it('resumes after an interruption and ends with a verified, identical, usable copy', async () => {
    fx = await makeStore({ passphrase: 'secondary copy passphrase' });
    await fx.appendSegments(6, 20);
    await fx.snapshot({ t: 1_763_805_600, i: 1 }, { t: 1_763_805_600, i: 3 }, fx.factory.mixed(50));
    mkdirSync(join(fx.dir.path, 'nas')); // the mount point exists; the copy folder is created in it
    const targetPath = join(fx.dir.path, 'nas', 'mirror');
    const target = addCopyTarget(fx.engine.catalog, fx.repo, targetPath);

    // Interrupted after 4 files.
    await expect(
      runSecondaryCopy(fx.engine.catalog, fx.repo, target, undefined, (_rel, k) => {
        if (k === 4) throw new Error('disk unplugged');
      }),
    ).rejects.toThrow('disk unplugged');
    const partial = tree(targetPath);
    expect(Object.keys(partial)).toHaveLength(4);
    expect(Object.keys(partial)).toContain('repository.json');
    expect(Object.keys(partial).some((p) => p.endsWith('manifest.json'))).toBe(false); // manifests last

    // Resume: only the rest is copied.
    const report = await runSecondaryCopy(fx.engine.catalog, fx.repo, target);
    expect(report.failed).toEqual([]);
    expect(report.copied + report.alreadyPresent).toBe(Object.keys(tree(fx.repo.root)).length - 3);
    expect(tree(targetPath)).toEqual(tree(fx.repo.root));

    // A damaged file at the target is noticed and replaced on the next run.
    const seg = Object.keys(tree(targetPath)).find((p) => p.endsWith('.seg'))!;
    fx.engine.catalog.prepare('DELETE FROM file_copies WHERE rel_path = ?').run(seg);
    const b = readFileSync(join(targetPath, seg));
    b[b.length - 5] = b[b.length - 5]! ^ 1;
    writeFileSync(join(targetPath, seg), b);
    const again = await runSecondaryCopy(fx.engine.catalog, fx.repo, target);
    expect(again.copied).toBe(1);
    expect(tree(targetPath)).toEqual(tree(fx.repo.root));

    // The copy is a repository in its own right.
    const mirror = Repository.open(targetPath, 'secondary copy passphrase');
    expect((await readSegment(mirror, seg)).entries).toHaveLength(20);
  });

  it('runs as a job through the API, records copies, and fails clearly when the location is gone', async () => {
    fx = await makeStore();
    await fx.appendSegments(2, 10);
    expect(await dispatch(fx.engine, 'copy.run', {})).toMatchObject({
      ok: false,
      error: { code: 'NOT_FOUND' },
    });
    expect(await dispatch(fx.engine, 'copy.add', { path: join(fx.repo.root, 'inside') })).toMatchObject({
      ok: false,
      error: { code: 'INVALID_INPUT' },
    });
    expect(await dispatch(fx.engine, 'copy.add', { path: join(fx.dir.path, 'usb') })).toMatchObject({
      ok: true,
    });
    const started = await dispatch(fx.engine, 'copy.run', {});
    const job = await fx.engine.tasks.wait((started as { result: { taskId: string } }).result.taskId);
    expect(job.state).toBe('succeeded');
    const info = await dispatch(fx.engine, 'repo.info', {});
    expect(info).toMatchObject({ ok: true, result: { copyTargets: [{ filesCopied: 4, lastError: null }] } });

    expect(
      await dispatch(fx.engine, 'copy.add', { path: join(fx.dir.path, 'unmounted', 'disk', 'mbm') }),
    ).toMatchObject({ ok: true });
    const second = await dispatch(fx.engine, 'copy.run', {});
    const failed = await fx.engine.tasks.wait((second as { result: { taskId: string } }).result.taskId);
    expect(failed).toMatchObject({
      state: 'failed',
      error: { code: 'UNAVAILABLE', message: expect.stringMatching(/not mounted/) },
    });
  });
});
