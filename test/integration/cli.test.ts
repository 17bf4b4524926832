import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../support/temp-dir.js';
import { cliSync } from '../support/cli-process.js';

let dir: ReturnType<typeof tempDir>;
beforeAll(() => (dir = tempDir()));
afterAll(() => dir.remove());

/** Runs the CLI as a user would (a process of its own, test/support/cli-process.ts), with a private data dir. */
const cli = (...args: string[]) => cliSync(dir.path, args);

describe('CLI door', () => {
  it('info --json prints only JSON, exit 0', () => {
    const r = cli('info', '--json');
    expect(r.code).toBe(0);
    const info = JSON.parse(r.stdout) as { dataDir: string; catalogSchemaVersion: number; mode: string };
    expect(info).toMatchObject({ dataDir: dir.path, mode: 'cli' });
    expect(info.catalogSchemaVersion).toBeGreaterThan(0);
  });

  it('reaches the same commands by their dotted name and maps flags from the schema', () => {
    const set = cli('settings', 'set', '--theme', 'dark', '--close-to-tray', 'false', '--json');
    expect(set.code).toBe(0);
    expect(JSON.parse(set.stdout)).toMatchObject({ theme: 'dark', closeToTray: false });
    const get = cli('settings.get', '--json');
    expect(JSON.parse(get.stdout)).toMatchObject({ theme: 'dark', closeToTray: false, showLocalTime: true });
  });

  it('prints human-readable output without --json', () => {
    const r = cli('info');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^name: /m);
    expect(r.stdout).toContain(`dataDir: ${dir.path}`);
  });

  it('fails with a typed error on stderr and a non-zero exit code', () => {
    const bad = cli('settings', 'set', '--theme', 'purple', '--json');
    expect(bad.code).toBe(2);
    expect(bad.stdout).toBe('');
    expect(JSON.parse(bad.stderr)).toMatchObject({ error: { code: 'INVALID_INPUT' } });

    const unknownFlag = cli('info', '--colour', 'red');
    expect(unknownFlag.code).toBe(2);
    expect(unknownFlag.stderr).toMatch(/^error \[INVALID_INPUT\]: Unknown flag\(s\) for app.info: --colour/);

    const unknownCmd = cli('frobnicate');
    expect(unknownCmd.code).toBe(3);
    expect(unknownCmd.stderr).toContain('NOT_FOUND');

    const missingTask = cli('task', 'get', '--task-id', 'nope');
    expect(missingTask.code).toBe(3);
  });

  it('lists every command in help', () => {
    const r = cli('help');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('info | app info');
    expect(r.stdout).toContain('settings set');
  });
});
