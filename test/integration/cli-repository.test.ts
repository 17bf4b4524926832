import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../engine/engine.js';
import { Repository } from '../../engine/repo/repository.js';
import { OplogFactory } from '../support/oplog-factory.js';
import { tempDir } from '../support/temp-dir.js';
import { TEST_KDF, writeTestSnapshot } from '../support/store-fixture.js';
import { cliSync } from '../support/cli-process.js';

let dir: ReturnType<typeof tempDir>;
beforeAll(() => (dir = tempDir('mbm-cli-repo-')));
afterAll(() => dir.remove());

function cliAt(dataDir: string, args: string[], env: Record<string, string> = {}) {
  const r = cliSync(dataDir, args, env);
  return { ...r, json: () => JSON.parse(r.stdout) as Record<string, unknown> };
}
const cli = (args: string[], env: Record<string, string> = {}) => cliAt(join(dir.path, 'data'), args, env);

describe('repository commands through the CLI', () => {
  it('refuses secret fields given in --input-json, which is as visible in ps as a flag', () => {
    const repo = join(dir.path, 'repo-json');
    const viaJson = cli([
      'repo',
      'init',
      '--path',
      repo,
      '--encrypt',
      '--input-json',
      '{"passphrase":"visible-in-ps"}',
    ]);
    expect(viaJson.code).toBe(2);
    expect(viaJson.stderr).toContain('--passphrase-env VAR');
    expect(existsSync(repo)).toBe(false);
    const password = cli([
      'source',
      'add',
      '--input-json',
      JSON.stringify({ name: 'x', uri: 'mongodb://u@127.0.0.1:1/', repository: repo, password: 'hunter2' }),
    ]);
    expect(password.code).toBe(2);
    expect(password.stderr).toContain('--password-env VAR');
    // The restore test target's password, as a flag or inside --input-json.
    const rtest = cli(['backup-job', 'set', '--source', 'x', '--restore-test-password', 'hunter2']);
    expect(rtest.code).toBe(2);
    expect(rtest.stderr).toContain('--restore-test-password-env VAR');
    const rtestJson = cli([
      'backup-job',
      'set',
      '--input-json',
      JSON.stringify({ source: 'x', restoreTestPassword: 'hunter2' }),
    ]);
    expect(rtestJson.code).toBe(2);
    expect(rtestJson.stderr).toContain('--restore-test-password-env VAR');
  });

  it('init refuses a passphrase on the command line and takes it from --passphrase-env', () => {
    const repo = join(dir.path, 'repo');
    const direct = cli(['repo', 'init', '--path', repo, '--encrypt', '--passphrase', 'visible-in-ps']);
    expect(direct.code).toBe(2);
    expect(direct.stderr).toContain('--passphrase-env VAR');
    const unset = cli(['repo', 'init', '--path', repo, '--encrypt', '--passphrase-env', 'MBM_NOT_SET']);
    expect(unset.code).toBe(2);
    expect(unset.stderr).toContain('MBM_NOT_SET');
    const ok = cli(['repo', 'init', '--path', repo, '--encrypt', '--passphrase-env', 'MBM_PASS', '--json'], {
      MBM_PASS: 'eight chars or more',
    });
    expect(ok.code).toBe(0);
    expect(ok.json()).toMatchObject({
      path: repo,
      encrypted: true,
      unlocked: true,
      compression: 'zstd level 3',
    });
    expect(cli(['repo', 'init', '--path', repo]).code).toBe(4); // CONFLICT: already a repository
  });

  it('answers coverage, plan, verify and rebuild, with WRONG_PASSPHRASE for a bad passphrase', async () => {
    // Data written through the engine directly, so that this test covers the CLI door alone, into an
    // encrypted repository of its own at the lowest scrypt cost a reader accepts: every command below
    // unlocks it in its own process, which at the default cost (the previous test's repository) paid
    // 128 MiB and about 0.4 s each. The passphrase checks are the same at any cost.
    const dataDir = join(dir.path, 'data-low-kdf');
    const cli = (args: string[], env: Record<string, string> = {}) => cliAt(dataDir, args, env);
    const engine = Engine.open({ dataDir, mode: 'cli', passphrase: 'eight chars or more' });
    const store = await engine.stores.attach(
      await Repository.init(join(dir.path, 'repo-low-kdf'), {
        kdfCost: TEST_KDF,
        passphrase: 'eight chars or more',
      }),
    );
    const sourceId = await store.ensureSource('prod-rs');
    const f = new OplogFactory({ start: { t: 1_763_805_600, i: 1 }, perSecond: 20 });
    for (let k = 0; k < 3; k++) await store.appendSegment(sourceId, f.mixed(30), store.chainTip(sourceId));
    await writeTestSnapshot(store, sourceId, { t: 1_763_805_600, i: 1 }, { t: 1_763_805_600, i: 2 }, [
      f.insert(),
    ]);
    await engine.close();

    const env = { MBM_PASS: 'eight chars or more' };
    const cov = cli(['coverage', '--source', 'prod-rs', '--json', '--passphrase-env', 'MBM_PASS'], env);
    expect(cov.code).toBe(0);
    expect(cov.json()).toMatchObject({
      source: 'prod-rs',
      intervals: [{ start: { text: '1763805600:1' }, segments: 3 }],
      gaps: [],
    });

    const plan = cli(
      [
        'plan',
        '--source',
        'prod-rs',
        '--at',
        '2025-11-22T10:00:02Z',
        '--json',
        '--passphrase-env',
        'MBM_PASS',
      ],
      env,
    );
    expect(plan.code).toBe(0);
    expect(plan.json()).toMatchObject({ restorable: true, replayThrough: { text: '1763805602:4294967295' } });
    expect((plan.json().segments as { firstTs: { text: string } }[]).map((s) => s.firstTs.text)).toEqual([
      '1763805600:1',
      '1763805601:11',
    ]);

    const verify = cli(['repo', 'verify', '--json', '--passphrase-env', 'MBM_PASS'], env);
    expect(verify.code).toBe(0);
    expect(verify.json()).toMatchObject({ problems: [], segmentsOk: 3, snapshotsOk: 1 });

    const locked = cli(['repo', 'verify', '--json']);
    expect(locked.code).toBe(1);
    expect(JSON.parse(locked.stderr)).toMatchObject({ error: { code: 'LOCKED' } });

    const wrong = cli(['repo', 'verify', '--passphrase-env', 'BAD'], { BAD: 'not the passphrase' });
    expect(wrong.stderr).toContain('WRONG_PASSPHRASE');

    const rebuild = cli(['catalog', 'rebuild', '--json', '--passphrase-env', 'MBM_PASS'], env);
    expect(rebuild.code).toBe(0);
    const again = cli(['coverage', '--source', 'prod-rs', '--json']);
    expect(again.json()).toEqual(cov.json());
  });
});
