/**
 * The set-up the end-to-end specs share: a temporary directory with an
 * initialised repository, stand-ins, the engine's CLI on that data
 * directory (sources added before the server starts), and `serve` started
 * on it; screenshots go to test-results/screens/. One place, so a spec
 * says only what is particular to it.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
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
