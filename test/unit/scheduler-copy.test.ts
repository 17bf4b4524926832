import { renameSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { dispatch } from '../../engine/api/dispatch.js';
import { Engine } from '../../engine/engine.js';
import { Scheduler } from '../../engine/schedule/scheduler.js';
import { makeStore, type StoreFixture } from '../support/store-fixture.js';

let fx: StoreFixture | null = null;
let reopened: Engine | null = null;
afterEach(async () => {
  await reopened?.close();
  reopened = null;
  await fx?.close();
  fx = null;
});

describe('scheduled secondary copy', () => {
  it('raises COPY_FAILING when the copy is refused before its task starts (the repository cannot be opened)', async () => {
    fx = await makeStore();
    await fx.appendSegments(1, 5);
    expect(await dispatch(fx.engine, 'copy.add', { path: join(fx.dir.path, 'mirror') })).toMatchObject({
      ok: true,
    });
    // The app restarts while the disk holding the repository is not mounted.
    const dataDir = fx.engine.dataDir;
    await fx.engine.close();
    renameSync(fx.repo.root, `${fx.repo.root}-unmounted`);
    reopened = Engine.open({ dataDir, mode: 'headless' });

    await new Scheduler(reopened, () => new Date()).tick();

    expect(reopened.tasks.list().filter((t) => t.kind === 'copy.run')).toEqual([]); // refused, no task
    const alerts = await dispatch(reopened, 'alert.list', { open: true });
    expect(alerts).toMatchObject({
      ok: true,
      result: expect.arrayContaining([
        expect.objectContaining({
          kind: 'COPY_FAILING',
          source: null,
          message: expect.stringContaining(fx.repo.root),
        }),
      ]),
    });
  });
});
