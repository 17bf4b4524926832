/**
 * A view build on a full disk: the views directory is a small real tmpfs
 * (root and mount needed; otherwise skipped with a message), the build runs
 * out of space while it loads the snapshot, and a query gets a typed
 * UNAVAILABLE naming the full disk, not an internal error; no view row and
 * no file stay behind, and once there is room the same view builds. The
 * mapping of SQLite's and Node's disk errors is checked on its own too.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { dispatch } from '../../engine/api/dispatch.js';
import { Engine } from '../../engine/engine.js';
import { ApiError, storageError } from '../../engine/errors.js';
import { Repository } from '../../engine/repo/repository.js';
import { pointView } from '../../engine/views/point-view.js';
import { tempDir } from '../support/temp-dir.js';
import { writeViewSource } from '../support/view-source.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Mounts a tmpfs of `size` at dir, or says why it cannot. */
function mountTmpfs(dir: string, size: string): string | null {
  if (process.platform !== 'linux') return 'not Linux';
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'pipe' });
    return null;
  } catch (err) {
    return `mount refused: ${String((err as { stderr?: Buffer }).stderr ?? err).trim()}`;
  }
}

describe('disk errors of a view build', () => {
  it('are named as the disk failure they are, from SQLite or from Node', () => {
    const full = storageError(
      Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' }),
      'x',
    );
    expect(full).toMatchObject({ code: 'UNAVAILABLE', details: { reason: 'filesystem', errno: 'ENOSPC' } });
    expect(full!.message).toContain('no space left on the device');
    const io = storageError(Object.assign(new Error('disk I/O error'), { code: 'SQLITE_IOERR_WRITE' }), 'x');
    expect(io).toMatchObject({
      code: 'UNAVAILABLE',
      details: { errno: 'EIO', sqlite: 'SQLITE_IOERR_WRITE' },
    });
    const ro = storageError(Object.assign(new Error('readonly'), { code: 'SQLITE_READONLY_DBMOVED' }), 'x');
    expect(ro).toMatchObject({ details: { errno: 'EROFS' } });
    const fs = storageError(Object.assign(new Error('ENOSPC'), { code: 'ENOSPC', syscall: 'copyfile' }), 'x');
    expect(fs).toMatchObject({ code: 'UNAVAILABLE', details: { errno: 'ENOSPC', syscall: 'copyfile' } });
    // Not a disk failure: left to the caller (damage is rebuilt, a bug stays INTERNAL).
    expect(storageError(Object.assign(new Error('malformed'), { code: 'SQLITE_CORRUPT' }), 'x')).toBeNull();
    expect(storageError(new TypeError('bug'), 'x')).toBeNull();
    expect(storageError(new ApiError('CANCELLED', 'stopped'), 'x')).toBeNull();
  });

  it('on a full tmpfs: UNAVAILABLE with ENOSPC, nothing left behind, and the view builds once there is room', async (ctx) => {
    const dir = tempDir('mbm-view-full-');
    cleanups.push(() => dir.remove());
    const dataDir = join(dir.path, 'data');
    const views = join(dataDir, 'views');
    mkdirSync(views, { recursive: true, mode: 0o700 });
    const why = mountTmpfs(views, '3m');
    if (why) {
      console.log(
        `skipped: a small tmpfs cannot be mounted here (${why}); the mapping case above still runs`,
      );
      ctx.skip();
      return;
    }
    let mounted = true;
    const unmount = () => {
      if (mounted) execFileSync('umount', [views]);
      mounted = false;
    };
    cleanups.push(unmount);
    const engine = Engine.open({ dataDir, mode: 'cli' });
    cleanups.push(() => engine.close());
    const store = await engine.stores.attach(await Repository.init(join(dir.path, 'repo')));
    const sourceId = await store.ensureSource('gen');
    // About 8 MB of documents: a view of them cannot fit in 3 MiB.
    await writeViewSource(store, sourceId, { docs: 8000, entries: 100, docBytes: 1000 });

    // Through the API, as the CLI and the UI ask: a query at latest builds the view first.
    const failed = await dispatch(engine, 'query.find', { source: 'gen', at: 'latest', ns: 'shop.orders' });
    expect(failed).toMatchObject({
      ok: false,
      error: { code: 'UNAVAILABLE', details: { reason: 'filesystem', errno: 'ENOSPC' } },
    });
    expect(!failed.ok && failed.error.message).toContain('no space left on the device');
    expect(engine.views.list().filter((v) => v.state === 'ready')).toEqual([]);
    expect(readdirSync(views).filter((f) => f.startsWith('view-') || f.startsWith('.tmp-view-'))).toEqual([]);

    // Room again (the tmpfs gone, its directory on the real disk): the same view builds.
    engine.views.close();
    unmount();
    const built = await pointView(engine, 'gen', 'latest', { kind: 'latest' });
    expect(built.row.state).toBe('ready');
    expect(built.row.documents).toBeGreaterThan(7000);
  });
});
