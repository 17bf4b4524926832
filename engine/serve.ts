/**
 * Headless mode: `npm run serve -- --data-dir DIR [--port N] [--token-file F] [--passphrase-env VAR]`. Starts the
 * Engine and serves the renderer plus the API on 127.0.0.1 only, printing
 * exactly one line: `Listening on http://127.0.0.1:PORT/?token=TOKEN`.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Engine } from './engine.js';
import { ApiError } from './errors.js';
import { readArgv, takeFlag } from './cli/argv.js';
import { defaultDataDir } from './paths.js';
import { startHeadlessServer } from './server/http-server.js';
import { loadOrCreateToken } from './server/token-file.js';
import { passphraseFromEnv } from './cli/passphrase.js';

function rendererDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  // engine/serve.ts (tsx) and dist/engine/serve.js both find dist/renderer.
  for (const c of [join(here, '..', 'dist', 'renderer'), join(here, '..', 'renderer')]) {
    if (existsSync(join(c, 'index.html'))) return c;
  }
  throw new Error('The renderer is not built: run `npm run build:renderer` first.');
}

async function main(): Promise<void> {
  const args = readArgv(process.argv.slice(2));
  const dataDir = takeFlag(args, 'data-dir') ?? defaultDataDir();
  const portText = takeFlag(args, 'port') ?? '0';
  const tokenFile = takeFlag(args, 'token-file');
  const passphrase = passphraseFromEnv(takeFlag(args, 'passphrase-env'));
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ApiError('INVALID_INPUT', `--port must be a number from 0 to 65535, not "${portText}".`);
  }
  const unknown = [...args.flags.keys(), ...args.words];
  if (unknown.length) throw new ApiError('INVALID_INPUT', `Unknown argument(s): ${unknown.join(', ')}`);

  const engine = Engine.open({ dataDir, mode: 'headless', ...(passphrase ? { passphrase } : {}) });
  const stale = engine.writerLock?.tookOverFrom;
  if (stale)
    process.stderr.write(
      `Took over the data directory's lock left by an engine that is gone (pid ${stale.pid} on ${stale.host}, since ${stale.since}).\n`,
    );
  const server = await startHeadlessServer(engine, {
    port,
    rendererDir: rendererDir(),
    ...(tokenFile ? { token: loadOrCreateToken(tokenFile) } : {}),
  });
  process.stdout.write(`Listening on ${server.url}\n`);
  // Continuous capture for active jobs and the scheduler run while the server runs.
  void engine
    .startBackgroundWork()
    .catch((err: unknown) => process.stderr.write(`background work failed to start: ${String(err)}\n`));

  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`Received ${signal}; stopping jobs and closing the catalog.\n`);
    void server
      .close()
      .then(() => engine.close())
      .then(() => process.exit(0));
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

main().catch((err: unknown) => {
  const e = err instanceof ApiError ? err : new ApiError('INTERNAL', String((err as Error)?.message ?? err));
  process.stderr.write(`error [${e.code}]: ${e.message}\n`);
  process.exit(1);
});
