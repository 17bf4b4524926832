/**
 * The set-up the end-to-end specs share: a temporary directory with an
 * initialised repository, stand-ins, the engine's CLI on that data
 * directory (sources added before the server starts), and `serve` started
 * on it; screenshots go to test-results/screens/. Also what the specs do
 * alike in the page: watching for Content-Security-Policy violations and
 * adding a source (from the UI, or by the CLI before the server starts).
 * One place, so a spec says only what is particular to it.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect, type Locator, type Page } from '@playwright/test';
import { cliAsync, type CliResult } from './cli-process.js';
import { startServe, type ServeProcess } from './serve-process.js';
import { startStandin, type Standin, type StandinOptions } from './standin/server.js';
import { tempDir } from './temp-dir.js';

const root = join(import.meta.dirname, '..', '..');

/** Where the specs save their pictures (created by startWorkspace). */
export const SCREENS_DIR = join(root, 'test-results', 'screens');

export interface E2eWorkspace {
  dir: string;
  dataDir: string;
  standins: Standin[];
  serve: ServeProcess;
  /** The engine's CLI on this data directory (as a DBA would run it beside the app). */
  cli(...args: string[]): Promise<CliResult>;
  /** The path of screenshot NAME: test-results/screens/NAME.png. */
  screen(name: string): string;
  stop(): Promise<void>;
}

/**
 * Starts the stand-ins, initialises the repository, runs `beforeServe` (CLI set-up such as
 * `source add`, which the server then finds at start), and starts `serve`. A CLI step that fails
 * throws with its error output.
 */
export async function startWorkspace(
  prefix: string,
  opts: {
    standins?: StandinOptions[];
    beforeServe?: (w: Omit<E2eWorkspace, 'serve' | 'stop'>) => Promise<void>;
  } = {},
): Promise<E2eWorkspace> {
  mkdirSync(SCREENS_DIR, { recursive: true });
  const tmp = tempDir(prefix);
  const dataDir = join(tmp.path, 'data');
  const standins: Standin[] = [];
  let serve: ServeProcess | undefined;
  const stop = async () => {
    await serve?.stop();
    // A spec may have stopped one already (a source going away is what it tests).
    for (const s of standins) await s.stop().catch(() => {});
    tmp.remove();
  };
  try {
    for (const o of opts.standins ?? [{ noopIntervalMs: 1000 }]) standins.push(await startStandin(o));
    const cli = async (...args: string[]) => {
      const r = await cliAsync(dataDir, args);
      if (r.code !== 0) throw new Error(`mbm ${args.join(' ')} exited with ${r.code}: ${r.stderr}`);
      return r;
    };
    const base = {
      dir: tmp.path,
      dataDir,
      standins,
      cli,
      screen: (n: string) => join(SCREENS_DIR, `${n}.png`),
    };
    await cli('repo', 'init', '--path', join(tmp.path, 'repo'));
    await opts.beforeServe?.(base);
    serve = await startServe(dataDir);
    return { ...base, serve, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** What `watchCsp` gives: the violations reported so far, and a way to forget them. */
export interface CspWatch {
  violations(): Promise<string[]>;
  clear(): Promise<void>;
}

/**
 * Records every Content-Security-Policy violation the page reports, from its first script on
 * (call before `page.goto`): a spec fails when the UI would need a looser policy.
 */
export async function watchCsp(page: Page): Promise<CspWatch> {
  await page.addInitScript(() => {
    const w = window as unknown as { cspViolations: string[] };
    w.cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) =>
      w.cspViolations.push(`${e.violatedDirective}: ${e.blockedURI}`),
    );
  });
  return {
    violations: () => page.evaluate(() => (window as unknown as { cspViolations: string[] }).cspViolations),
    clear: () =>
      page.evaluate(() => {
        (window as unknown as { cspViolations: string[] }).cspViolations = [];
      }),
  };
}

/** Opens the Sources section's "Add a source" form, fills it and submits it (Test and add); the form, for what follows. */
export async function submitNewSource(page: Page, name: string, uri: string): Promise<Locator> {
  await page.getByRole('tab', { name: 'Sources' }).click();
  await page.getByRole('button', { name: 'Add a source' }).click();
  const form = page.getByRole('form', { name: 'Add a source' });
  await form.getByLabel('Name', { exact: true }).fill(name);
  await form.getByLabel('Connection string').fill(uri);
  await form.getByRole('button', { name: 'Test and add' }).click();
  return form;
}

/** Adds a source from the UI, as a DBA does, and waits for the confirmation. */
export async function addSourceInUi(page: Page, name: string, uri: string): Promise<void> {
  await submitNewSource(page, name, uri);
  await expect(page.getByRole('status').first()).toHaveText(`Added ${name}; its backup job is active.`);
}

/** A `beforeServe` step: `source add` by the CLI (and the job's policy when given), found by the server at start. */
export async function addSourceByCli(
  w: Pick<E2eWorkspace, 'cli'>,
  name: string,
  uri: string,
  policy?: Record<string, unknown>,
): Promise<void> {
  await w.cli('source', 'add', '--name', name, '--uri', uri);
  if (policy) await w.cli('backup-job', 'set', '--source', name, '--policy', JSON.stringify(policy));
}
