/**
 * Bundles a test child (and the seal and incident scan workers it starts) into plain JavaScript, once per test file:
 * a child that is spawned twenty times then starts in a fraction of a second instead of the
 * seconds tsx takes to load the engine's modules one by one, and runs the same code the app runs
 * compiled (seal-pool.ts starts `seal-worker.js` beside it). The bundle goes under `.cache/` in
 * the project, so that packages (kept outside the bundle) and package.json resolve as from the
 * sources.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { entryBundle } from './bundled-entry.js';

const root = join(import.meta.dirname, '..', '..');

export async function bundleWorker(entry: string): Promise<{ path: string; remove: () => void }> {
  const cache = join(root, '.cache');
  mkdirSync(cache, { recursive: true });
  const outdir = mkdtempSync(join(cache, 'test-bundle-'));
  await build({ ...entryBundle(entry), outdir });
  const name = entry.split('/').at(-1)!.replace(/\.ts$/, '.js');
  return { path: join(outdir, name), remove: () => rmSync(outdir, { recursive: true, force: true }) };
}
