import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { dispatch } from '../../engine/api/dispatch.js';
import { Engine } from '../../engine/engine.js';
import { raiseAlert } from '../../engine/schedule/alerts.js';
import { tempDir } from '../support/temp-dir.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function openEngine() {
  const dir = tempDir('mbm-alerts-');
  const engine = Engine.open({ dataDir: join(dir.path, 'data'), mode: 'cli' });
  cleanups.push(async () => {
    await engine.close();
    dir.remove();
  });
  return engine;
}

describe('alerts', () => {
  it('are raised once per open condition, acknowledged through the API and audited', async () => {
    const engine = openEngine();
    const raised: string[] = [];
    engine.events.subscribe((e) => {
      if (e.event === 'alert.raised') raised.push((e.payload as { kind: string }).kind);
    });
    const gap = { sourceId: null, kind: 'PITR_GAP' as const, severity: 'critical' as const, message: 'gap' };
    const first = raiseAlert(engine.catalog, engine.events, gap);
    expect(raiseAlert(engine.catalog, engine.events, gap)).toBeNull(); // still open: not raised twice
    expect(raised).toEqual(['PITR_GAP']);

    const res = await dispatch(engine, 'alert.resolve', { id: first!.id });
    expect(res).toMatchObject({ ok: true, result: { id: first!.id, kind: 'PITR_GAP' } });
    expect((res as { result: { resolvedAt: string | null } }).result.resolvedAt).toMatch(/^\d{4}-/);
    expect(await dispatch(engine, 'alert.list', { open: true })).toEqual({ ok: true, result: [] });
    const auditLog = await dispatch(engine, 'audit.list', {});
    expect(auditLog).toMatchObject({
      ok: true,
      result: [{ action: 'alert.resolve', target: String(first!.id), outcome: 'done' }],
    });

    // Once resolved, the same condition raises a new alert.
    expect(raiseAlert(engine.catalog, engine.events, gap)?.id).toBeGreaterThan(first!.id);
    expect(await dispatch(engine, 'alert.resolve', { id: 9999 })).toMatchObject({
      ok: false,
      error: { code: 'NOT_FOUND' },
    });
  });
});
