/**
 * The checks that keep the rooms apart fail on a deliberately bad file: the
 * file is written to a temp dir here, never into the tree, and the project's
 * own checker and configuration are run on it.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../support/temp-dir.js';

const root = join(import.meta.dirname, '..', '..');
const bin = (name: string) => join(root, 'node_modules', '.bin', name);
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

function tree(files: Record<string, string>): string {
  const dir = tempDir('mbm-layers-');
  cleanups.push(dir.remove);
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir.path, rel)), { recursive: true });
    writeFileSync(join(dir.path, rel), text);
  }
  return dir.path;
}

const tsconfig = JSON.stringify({
  compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', strict: true },
  include: ['engine', 'renderer'],
});

function depcruise(cwd: string) {
  const r = spawnSync(
    bin('depcruise'),
    ['engine', 'renderer', '--config', join(root, '.dependency-cruiser.cjs'), '--output-type', 'err'],
    { cwd, encoding: 'utf8' },
  );
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

describe('dependency-cruiser (npm run depcruise)', () => {
  it('refuses an import cycle made only of type imports', () => {
    const dir = tree({
      'tsconfig.json': tsconfig,
      'engine/jobs.ts': "import type { Door } from './door.js';\nexport interface Jobs { door: Door }\n",
      'engine/door.ts': "import type { Jobs } from './jobs.js';\nexport interface Door { jobs: Jobs }\n",
      'renderer/main.ts': 'export {};\n',
    });
    const r = depcruise(dir);
    expect(r.status).not.toBe(0);
    expect(r.out).toMatch(/no-cycle: engine\/(jobs|door)\.ts/);
  });

  it('refuses a renderer import of engine internals, and passes the same tree without it', () => {
    const files = {
      'tsconfig.json': tsconfig,
      'engine/api/contract.ts': 'export type Command = string;\n',
      'engine/catalog/sources.ts': 'export const listSources = () => [];\n',
      'renderer/app.ts':
        "import type { Command } from '../engine/api/contract.js';\nexport const c: Command = 'x';\n",
    };
    expect(depcruise(tree(files))).toMatchObject({ status: 0 });
    const bad = depcruise(
      tree({
        ...files,
        'renderer/sources.ts':
          "import { listSources } from '../engine/catalog/sources.js';\nlistSources();\n",
      }),
    );
    expect(bad.status).not.toBe(0);
    expect(bad.out).toContain('renderer-only-api-contract: renderer/sources.ts → engine/catalog/sources.ts');
  });
});

describe('ESLint: SQL only in engine/catalog/', () => {
  it('refuses .prepare( and db.exec( outside engine/catalog/ and allows them inside', async () => {
    const { ESLint } = await import('eslint');
    const sql = [
      "import type Database from 'better-sqlite3';",
      'export function count(db: Database.Database): number {',
      "  db.exec('VACUUM');",
      "  return db.prepare('SELECT count(*) FROM sources').pluck().get() as number;",
      '}',
      '',
    ].join('\n');
    const dir = tree({ 'engine/store/leaky.ts': sql, 'engine/catalog/sources.ts': sql });
    const eslint = new ESLint({ cwd: dir, overrideConfigFile: join(root, 'eslint.config.js') });
    const [catalog, leaky] = await eslint.lintFiles(['engine/catalog/sources.ts', 'engine/store/leaky.ts']);
    expect(catalog!.messages).toEqual([]);
    expect(leaky!.messages.map((m) => [m.ruleId, m.line])).toEqual([
      ['no-restricted-syntax', 3],
      ['no-restricted-syntax', 4],
    ]);
    expect(leaky!.messages[0]!.message).toContain('SQL lives in engine/catalog/');
  });
});
