/**
 * Starts a worker thread on one of the engine's own modules: compiled `.js` in
 * the app, `.ts` under tsx and vitest, where the worker gets tsx's loader
 * (`--import tsx`) because a worker does not inherit vite's transform.
 * The seal worker (repo/seal-pool.ts) and the incident scan worker
 * (incidents/scan-pool.ts) start this way.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

/** tsx's ESM register() (its `import` condition, which createRequire cannot pick). */
function tsxApiUrl(from: string): string {
  const dir = dirname(createRequire(from).resolve('tsx/package.json'));
  return pathToFileURL(join(dir, 'dist', 'esm', 'api', 'index.mjs')).href;
}

/**
 * `caller` is the calling module's import.meta.url, `name` the worker module's name without its
 * extension, beside the caller (it takes the caller's: `.ts` under tsx, `.js` compiled).
 */
export function startModuleWorker(caller: string, name: string): Worker {
  if (caller.endsWith('.ts'))
    // Under tsx or vitest: register tsx's loader in the worker, then load the TypeScript module.
    return new Worker(
      `import(${JSON.stringify(tsxApiUrl(caller))}).then((m) => m.register())` +
        `.then(() => import(${JSON.stringify(new URL(`./${name}.ts`, caller).href)}))`,
      { eval: true },
    );
  return new Worker(new URL(`./${name}.js`, caller));
}
