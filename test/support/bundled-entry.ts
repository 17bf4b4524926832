/**
 * Node's arguments to run one of the project's TypeScript entry points (the CLI, a test child) as a
 * separate process, as a user runs it: bundled into plain JavaScript once per test process, not
 * loaded through tsx. Under tsx every spawn paid 1.2-3 s of loading the engine's modules one by one
 * (most of the time of the CLI tests); the bundle starts in about 0.4 s. It is the same code
 * compiled, as the app runs it: the seal and incident scan workers are bundled beside the entry
 * (module-worker.ts starts `seal-worker.js` next to its caller), packages stay outside the bundle
 * and resolve from the project's node_modules, and package.json is found by walking up from
 * `.cache/`.
 *
 * The bundle's directory is named by a hash of its content (`.cache/test-entry-<name>-<hash>`):
 * test files running at the same time share it and never overwrite a file another one runs, and a
 * worker killed by vitest leaves nothing new behind. Directories unused for a day are removed.
 * `MBM_TEST_TSX=1` runs the sources under tsx instead (to bisect a difference between the two).
 */
import { createHash } from 'node:crypto';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { buildSync, type BuildOptions } from 'esbuild';

const root = join(import.meta.dirname, '..', '..');
const cache = join(root, '.cache');
const PREFIX = 'test-entry-';
const built = new Map<string, string>();
let pruned = false;

/**
 * What both test bundlers build (this file's and bundle-worker.ts): `entry` and the engine's two
 * worker modules beside it (a bundle starts them from its own directory), Node 20 ESM, packages
 * left outside as the app leaves them.
 */
export function entryBundle(entry: string) {
  return {
    entryPoints: [
      join(root, entry),
      join(root, 'engine', 'repo', 'seal-worker.ts'),
      join(root, 'engine', 'incidents', 'scan-worker.ts'),
    ],
    entryNames: '[name]',
    bundle: true,
    platform: 'node',
    format: 'esm',
    packages: 'external',
    target: 'node20',
    logLevel: 'error',
  } satisfies BuildOptions;
}

function pruneStale(): void {
  pruned = true;
  const dayAgo = Date.now() - 24 * 3600_000;
  for (const name of readdirSync(cache)) {
    if (!name.startsWith(PREFIX)) continue;
    try {
      if (statSync(join(cache, name)).mtimeMs < dayAgo)
        rmSync(join(cache, name), { recursive: true, force: true });
    } catch {
      // removed by another test process meanwhile
    }
  }
}

/** `entry` relative to the project root, e.g. `engine/cli.ts`. */
export function entryArgs(entry: string): string[] {
  if (process.env.MBM_TEST_TSX === '1') return ['--import', 'tsx', join(root, entry)];
  const known = built.get(entry);
  if (known) return [known];
  mkdirSync(cache, { recursive: true });
  if (!pruned) pruneStale();
  const out = buildSync({
    ...entryBundle(entry),
    outdir: join(cache, 'bundle'), // where the files would go: only their names are kept (write: false)
    write: false,
  });
  const hash = createHash('sha256');
  for (const f of out.outputFiles) hash.update(f.path).update(f.contents);
  const name = entry.split('/').at(-1)!.replace(/\.ts$/, '');
  const dir = join(cache, `${PREFIX}${name}-${hash.digest('hex').slice(0, 16)}`);
  try {
    utimesSync(dir, new Date(), new Date()); // there already: used again, kept a day longer
  } catch {
    const tmp = mkdtempSync(join(cache, '.tmp-entry-'));
    for (const f of out.outputFiles) {
      const path = join(tmp, relative(join(cache, 'bundle'), f.path));
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, f.contents);
    }
    try {
      renameSync(tmp, dir);
    } catch {
      rmSync(tmp, { recursive: true, force: true }); // another test process put the same files there first
    }
  }
  const path = join(dir, `${name}.js`);
  built.set(entry, path);
  return [path];
}
