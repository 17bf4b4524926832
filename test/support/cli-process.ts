/**
 * Runs the CLI door as a user does: a separate process (`node cli.js … --data-dir DIR`, the CLI
 * bundled once per test process by bundled-entry.ts, which starts in a fraction of tsx's time). `cliSync` for tests with nothing else to serve;
 * `cliAsync` when the test process must keep answering meanwhile (the
 * in-process stand-in the CLI restores into, a lock holder), since a
 * synchronous spawn would stop this process's event loop.
 */
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { entryArgs } from './bundled-entry.js';

const root = join(import.meta.dirname, '..', '..');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Node's arguments for the CLI on a data dir (for a caller that spawns it its own way). */
export const argvOf = (dataDir: string, args: readonly string[]): string[] => [
  ...entryArgs('engine/cli.ts'),
  ...args,
  '--data-dir',
  dataDir,
];

export function cliSync(
  dataDir: string,
  args: readonly string[],
  env: Record<string, string> = {},
): CliResult {
  const r = spawnSync(process.execPath, argvOf(dataDir, args), {
    encoding: 'utf8',
    cwd: root,
    env: { ...process.env, ...env },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

export function cliAsync(
  dataDir: string,
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, argvOf(dataDir, args), {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}
