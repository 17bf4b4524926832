import { afterEach, describe, expect, it } from 'vitest';
import { dispatch } from '../../engine/api/dispatch.js';
import { makeStore, type StoreFixture } from '../support/store-fixture.js';

let fx: StoreFixture | null = null;
afterEach(async () => {
  await fx?.close();
  fx = null;
});

/** Rows this connection has inserted, updated or deleted since it opened (SQLite's total_changes()). */
const changes = (fx: StoreFixture) =>
  fx.engine.catalog.prepare('SELECT total_changes()').pluck().get() as number;

describe('backup job reads', () => {
  it('write nothing: a source without a job row reads as Active with the default policy, and stays without one', async () => {
    fx = await makeStore(); // the source exists in the repository and catalog, its job was never changed
    const before = changes(fx);
    const job = await dispatch(fx.engine, 'backup-job.get', { source: 'prod-rs' });
    expect(job).toMatchObject({
      ok: true,
      result: { source: 'prod-rs', state: 'active', reason: null, policy: { preset: 'default' } },
    });
    expect(await dispatch(fx.engine, 'backup-job.get', { source: 'prod-rs' })).toEqual(job);
    expect(changes(fx)).toBe(before);
    expect(fx.engine.catalog.prepare('SELECT count(*) FROM backup_jobs').pluck().get()).toBe(0);

    // The first change records the row; reading it back still writes nothing.
    expect(await dispatch(fx.engine, 'backup-job.stop', { source: 'prod-rs' })).toMatchObject({
      ok: true,
      result: { state: 'stopped' },
    });
    expect(fx.engine.catalog.prepare('SELECT count(*) FROM backup_jobs').pluck().get()).toBe(1);
    const afterStop = changes(fx);
    expect(await dispatch(fx.engine, 'backup-job.get', { source: 'prod-rs' })).toMatchObject({
      ok: true,
      result: { state: 'stopped' },
    });
    expect(changes(fx)).toBe(afterStop);
  });
});
