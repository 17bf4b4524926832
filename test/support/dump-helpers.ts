/** Helpers for the mongodump import/export tests: an engine with a repository, tasks, and file trees. */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Engine } from '../../engine/engine.js';
import { getSourceByName } from '../../engine/catalog/sources.js';
import { parseRestorePoint, planRestore } from '../../engine/restore/planner.js';
import { Repository } from '../../engine/repo/repository.js';
import { buildOfflineState, type OfflineState } from '../../engine/restore/offline-state.js';
import type { CommandInput } from '../../engine/api/contract.js';
import { runTask } from './run-task.js';
import { TEST_KDF } from './store-fixture.js';
import { tempDir } from './temp-dir.js';

export interface DumpEnv {
  dir: string;
  engine: Engine;
  importDump(input: CommandInput<'import.dump'>): Promise<Record<string, unknown>>;
  exportDump(input: CommandInput<'export.dump'>): Promise<Record<string, unknown>>;
  offline(source: string, at?: string): Promise<OfflineState>;
  close(): Promise<void>;
}

export async function dumpEnv(opts: { engine?: Engine; passphrase?: string } = {}): Promise<DumpEnv> {
  const t = tempDir('mbm-dump-');
  const engine =
    opts.engine ??
    Engine.open({
      dataDir: join(t.path, 'data'),
      mode: 'cli',
      kdfCost: TEST_KDF,
      ...(opts.passphrase ? { passphrase: opts.passphrase } : {}),
    });
  if (!opts.engine)
    await engine.stores.attach(
      await Repository.init(join(t.path, 'repo'), {
        kdfCost: TEST_KDF,
        ...(opts.passphrase ? { passphrase: opts.passphrase } : {}),
      }),
    );
  const run = async (command: 'import.dump' | 'export.dump', input: never) => {
    const task = await runTask(engine, command, input);
    if (task.state !== 'succeeded') throw Object.assign(new Error(task.error?.message), task.error);
    return task.result as Record<string, unknown>;
  };
  return {
    dir: t.path,
    engine,
    importDump: (input) => run('import.dump', input as never),
    exportDump: (input) => run('export.dump', input as never),
    async offline(source, at = 'latest') {
      const row = getSourceByName(engine.catalog, source);
      const plan = planRestore(engine.catalog, row.id, parseRestorePoint(at));
      if (!plan.ok) throw new Error(plan.message);
      return buildOfflineState((await engine.stores.get(row.repository_id)).repo, plan);
    },
    async close() {
      if (!opts.engine) await engine.close();
      t.remove();
    },
  };
}

/** Every file under a directory: relative path -> bytes (gunzipped when `gunzip`). */
export function fileTree(root: string, gunzip = false): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else
        out.set(
          relative(root, p),
          gunzip && p.endsWith('.gz') ? gunzipSync(readFileSync(p)) : readFileSync(p),
        );
    }
  };
  walk(root);
  return out;
}

export const TOOLS = join(
  import.meta.dirname,
  '..',
  '..',
  '..',
  'shared',
  'tools',
  'mongo-tools-100.8.0',
  'bin',
);
