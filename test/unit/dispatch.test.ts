import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { commandNames, commands } from '../../engine/api/contract.js';
import { dispatch } from '../../engine/api/dispatch.js';
import { Engine } from '../../engine/engine.js';
import { tempDir } from '../support/temp-dir.js';

let dir: ReturnType<typeof tempDir>;
let engine: Engine;

beforeEach(() => {
  dir = tempDir();
  engine = Engine.open({ dataDir: dir.path, mode: 'cli' });
});
afterEach(async () => {
  await engine.close();
  dir.remove();
});

/** Inputs that no command accepts: wrong JSON types and unknown fields. */
const alwaysInvalid: unknown[] = [42, 'text', [1, 2], { __notAField: true }];

/** Inputs that are the right shape but wrong values, per command. */
const badValues: Record<string, unknown[]> = {
  'settings.set': [
    {},
    { theme: 'purple' },
    { closeToTray: 'yes' },
    { incidentDocuments: 0 },
    { incidentSeconds: 1.5 },
    { mongodBinary: '' },
    { mongodBinary: 5 },
  ],
  'task.list': [{ state: 'sleeping' }],
  'task.get': [{}, { taskId: '' }, { taskId: 7 }],
  'task.cancel': [{}, { taskId: '' }],
  'repo.init': [
    {},
    { path: '' },
    { path: '/x', compression: 'lz4' },
    { path: '/x', level: 40 },
    { path: '/x', encrypt: 'yes' },
  ],
  'repo.attach': [{}, { path: 3 }],
  'repo.unlock': [{}, { passphrase: '' }],
  'repo.info': [{ repository: '' }],
  'repo.verify': [{ repository: 5 }],
  'catalog.rebuild': [{ repositoryPaths: 'one' }, { repositoryPaths: [''] }],
  'source.coverage': [{}, { source: '' }],
  'restore.plan': [{ source: 'a' }, { at: 'latest' }, { source: 'a', at: '' }],
  'restore.run': [
    { source: 'a', at: 'latest' },
    { source: 'a', at: 'latest', targetUri: 'mongodb://x', parallel: 0 },
    { source: 'a', at: 'latest', targetUri: 'mongodb://x', include: 'shop.*' },
    { source: 'a', at: 'latest', targetUri: 'mongodb://x', writeConcern: 'all' },
    { source: 'a', at: 'latest', targetUri: 'mongodb://x', localMongod: true },
    { source: 'a', at: 'latest', localMongod: 'yes' },
    { source: 'a', at: 'latest', targetUri: 'mongodb://x', usersRoles: 'yes' },
  ],
  'restore.in-place': [
    { inPlace: true, source: 'a', at: 'latest' },
    { inPlace: false, source: 'a', at: 'latest', confirm: 'a' },
    { inPlace: true, source: 'a', at: 'latest', confirm: 'a', parallel: 0 },
  ],
  'restore.validate': [
    { source: 'a', at: 'latest' },
    { source: 'a', at: 'latest', targetUri: 'mongodb://x', sample: 0 },
    { source: 'a', at: 'latest', targetUri: 'mongodb://x', localMongod: true },
  ],
  'local-mongod.start': [{ port: 0 }, { port: 70000 }, { port: '27017' }],
  'restore.get': [{}, { id: '' }],
  'restore.report': [{ id: 'a' }, { id: 'a', format: 'pdf' }, { id: '', format: 'json' }],
  'view.build': [{}, { source: 'a' }, { source: 'a', at: '' }],
  'view.drop': [{}, { id: 0 }, { id: 'one' }, { id: 1.5 }],
  'query.find': [
    { source: 'a', at: 'latest' },
    { source: 'a', at: 'latest', ns: 'x' },
    { source: 'a', at: 'latest', ns: 'db.c', limit: 0 },
    { source: 'a', at: 'latest', ns: 'db.c', skip: -1 },
    { source: 'a', at: 'latest', ns: 'db.c', filter: '' },
    { source: 'a', at: 'latest', ns: 'db.c', batchSize: 0 },
    { source: 'a', at: 'latest', ns: 'db.c', batchSize: 10_001 },
    { source: 'a', at: 'latest', ns: 'db.c', allowDiskUse: 'yes' },
  ],
  'query.more': [{}, { cursorId: '' }, { cursorId: 'not-hex!' }, { cursorId: 'ab12', batchSize: 0 }],
  'query.close': [{}, { cursorId: '' }, { cursorId: 'ZZ' }],
  'query.count': [
    { source: 'a', at: 'latest', ns: 'db.c' },
    { source: 'a', at: 'latest', ns: 'db.c', count: false },
  ],
  'query.distinct': [
    { source: 'a', at: 'latest', ns: 'db.c' },
    { source: 'a', at: 'latest', ns: 'db.c', distinct: '' },
  ],
  'query.aggregate': [
    { source: 'a', at: 'latest', ns: 'db.c' },
    { source: 'a', at: 'latest', ns: 'db.c', pipeline: 3 },
    { source: 'a', at: 'latest', ns: 'db.c', pipeline: '[]', batchSize: 0 },
    { source: 'a', at: 'latest', ns: 'db.c', pipeline: '[]', allowDiskUse: 1 },
  ],
  'query.export': [
    { source: 'a', at: 'latest', ns: 'db.c' },
    { source: 'a', at: 'latest', ns: 'db.c', out: '/x', format: 'csv' },
    { source: 'a', at: 'latest', ns: 'db.c', out: '/x', allowDiskUse: 'false' },
  ],
  'query.restore': [
    { source: 'a', at: 'latest', ns: 'db.c' },
    { source: 'a', at: 'latest', ns: 'db.c', targetUri: 'mongodb://x', mode: 'merge' },
  ],
  'collections.list': [{ source: 'a' }, { at: 'latest' }],
  'history.get': [
    { source: 'a', ns: 'db.c' },
    { source: 'a', ns: 'db.c', id: '' },
  ],
  'timeline.get': [
    { source: 'a', from: '2026-01-01T00:00:00Z', to: '2026-01-02T00:00:00Z' },
    { source: 'a', from: '2026-01-01', to: '2026-01-02T00:00:00Z', width: 10 },
    { source: 'a', from: '2026-01-01T00:00:00Z', to: '2026-01-02T00:00:00Z', width: 0 },
  ],
  'snapshot.list': [{}],
  'snapshot.namespaces': [{ source: 'a' }, { snapshot: 'x' }, { source: 'a', snapshot: '' }],
  'incident.list': [
    {},
    { source: 'a', limit: 0 },
    { source: 'a', from: '' },
    { source: 'a', from: 'yesterday' },
    { source: 'a', to: 'latest' },
    { source: 'a', to: '2026-01-01' },
  ],
  'retention.lock': [
    { until: '2030-01-01T00:00:00Z' },
    { snapshot: 'a', segment: 'b', until: '2030-01-01T00:00:00Z' },
    { snapshot: 'a', until: 'next year' },
  ],
  'snapshot.delete': [{ id: 'a' }, { id: 'a', confirm: false }, { confirm: true }],
  'segment.delete': [{ path: 'a' }, { path: 'a', confirm: 'true' }],
  'copy.add': [{}, { path: '' }],
  'copy.run': [{ repository: '' }],
  'audit.list': [{ limit: 0 }, { limit: 'ten' }],
  'source.add': [
    {},
    { name: 'a' },
    { name: 'bad name', uri: 'mongodb://h' },
    { name: 'a', uri: 'mongodb://h', readPreference: 'fastest' },
  ],
  'source.test': [{}, { name: '' }],
  'source.edit': [{}, { name: 'a', newName: 'no spaces allowed' }],
  'source.remove': [{ name: 'a' }, { name: 'a', confirm: 'yes' }],
  'snapshot.take': [{}, { source: 'a', parallel: 0 }, { source: 'a', namespaces: 'db.c' }],
  'capture.start': [{}],
  'capture.stop': [{ source: '' }],
  'capture.pause': [{}],
  'capture.resume': [{ source: 1 }],
  'source.status': [{}],
  'source.overview': [
    {},
    { source: 'a', days: 0 },
    { source: 'a', days: 400 },
    { source: 'a', days: 'month' },
  ],
  'policy.preview': [
    { source: 'a' },
    { source: 'a', policy: { daily: { at: '3 am', keepDays: 7 } } },
    { source: 'a', policy: { pitrWindowHours: 0 } },
    { source: 'a', policy: 'daily' },
    { policy: {} },
  ],
  'alert.list': [{ open: 'yes' }, { source: '' }],
  'alert.resolve': [{}, { id: 0 }, { id: 'one' }],
  'backup-job.get': [{}],
  'backup-job.set': [
    {},
    { source: 'a', preset: 'hipaa' },
    { source: 'a', policy: 'daily' },
    { source: 'a', policy: { restoreTest: { everyDays: 0 } } },
    { source: 'a', policy: { journalFsyncMs: 5 } },
    { source: 'a', policy: { journalFsyncMs: 200.5 } },
    {
      source: 'a',
      policy: {
        restoreTest: {
          everyDays: 7,
          point: 'sometimes',
          target: { kind: 'uri', uri: 'mongodb://h/', passwordEnv: null },
          sample: 10,
        },
      },
    },
    {
      source: 'a',
      policy: {
        restoreTest: {
          everyDays: 7,
          point: 'latest-snapshot',
          target: { kind: 'uri', uri: 'mongodb://h/', passwordEnv: 'NOT A NAME' },
          sample: 10,
        },
      },
    },
    { source: 'a', restoreTestPassword: '' },
  ],
  'restore-test.run': [{}, { source: '' }],
  'restore-test.last': [{ source: '' }, { source: 7 }],
  'backup-job.stop': [{}],
  'backup-job.start': [{ source: 3 }],
  'backup-job.terminate': [{ source: 'a' }, { source: 'a', confirm: true, deleteBackups: 'yes' }],
  'export.dump': [
    {},
    { source: 'a', at: 'latest', gzip: 'yes' },
    { source: 'a', at: 'latest', include: 'a.b' },
  ],
  'import.dump': [{}, { source: 'a', dir: '' }, { source: 'a', archive: 'x', gzip: 1 }],
};

describe('every command validates its input', () => {
  it('has a bad-value case for every command with fields', () => {
    for (const name of commandNames) {
      const shape = (commands[name].input as unknown as { shape?: object }).shape ?? {};
      if (Object.keys(shape).length > 0) expect(badValues[name], name).toBeDefined();
    }
  });

  for (const name of commandNames) {
    it(`${name} rejects malformed input with INVALID_INPUT`, async () => {
      for (const input of [...alwaysInvalid, ...(badValues[name] ?? [])]) {
        const res = await dispatch(engine, name, input);
        expect(res.ok, `${name} accepted ${JSON.stringify(input)}`).toBe(false);
        if (!res.ok) {
          expect(res.error.code).toBe('INVALID_INPUT');
          expect(res.error.message).toContain(name);
          expect(JSON.stringify(res.error)).not.toMatch(/\n\s+at /); // no stack trace
        }
      }
    });
  }
});

describe('dispatch', () => {
  it('answers an unknown command with NOT_FOUND', async () => {
    const res = await dispatch(engine, 'repo.explode', {});
    expect(res).toEqual({
      ok: false,
      error: { code: 'NOT_FOUND', message: 'Unknown command: repo.explode.' },
    });
  });

  it('returns app.info that matches the contract', async () => {
    const res = await dispatch(engine, 'app.info', {});
    expect(res.ok).toBe(true);
    if (res.ok) {
      const info = commands['app.info'].output.parse(res.result);
      expect(info.dataDir).toBe(dir.path);
      expect(info.catalogSchemaVersion).toBeGreaterThanOrEqual(1);
      expect(info.mode).toBe('cli');
    }
  });

  it('stores settings, fills defaults and publishes settings.changed', async () => {
    const seen: unknown[] = [];
    engine.events.subscribe((e) => seen.push(e));
    const before = await dispatch(engine, 'settings.get', {});
    expect(before).toMatchObject({ ok: true, result: { theme: 'system', closeToTray: true } });
    await dispatch(engine, 'settings.set', { closeToTray: false });
    const after = await dispatch(engine, 'settings.set', { theme: 'dark' });
    // A partial change leaves the other settings as they were (not reset to defaults).
    expect(after).toMatchObject({ ok: true, result: { theme: 'dark', closeToTray: false } });
    expect(seen.at(-1)).toEqual({
      event: 'settings.changed',
      payload: (after as { result: unknown }).result,
    });
    expect(seen).toHaveLength(2);
    await engine.close();
    engine = Engine.open({ dataDir: dir.path, mode: 'cli' });
    expect(await dispatch(engine, 'settings.get', {})).toMatchObject({
      result: { theme: 'dark', closeToTray: false },
    });
  });

  it('hides internal failures behind INTERNAL without a stack trace', async () => {
    engine.catalog.close(); // any handler touching the catalog now throws a plain Error
    const logged: unknown[] = [];
    const spy = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void logged.push(a));
    const res = await dispatch(engine, 'settings.get', {});
    spy.mockRestore();
    expect(logged).toHaveLength(1); // the stack goes to the engine log, not to the caller
    expect(res).toEqual({
      ok: false,
      error: { code: 'INTERNAL', message: 'Internal engine error; see the engine log for details.' },
    });
  });
});
