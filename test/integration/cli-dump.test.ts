/** The CLI door of export/import: aliases, repeated --include/--rename flags, the task waited for, exit codes. */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HAVE_FIXTURES, SKIP_FIXTURES_MESSAGE, fixture } from '../support/fixtures.js';
import { tempDir } from '../support/temp-dir.js';
import { cliSync } from '../support/cli-process.js';

let dir: ReturnType<typeof tempDir>;
beforeAll(() => (dir = tempDir()));
afterAll(() => dir.remove());

const cli = (...args: string[]) => cliSync(join(dir.path, 'data'), args);

describe.skipIf(!HAVE_FIXTURES)('CLI: import and export', () => {
  it('imports a dump into a new imported source and exports it filtered and renamed', () => {
    expect(cli('repo', 'init', '--path', join(dir.path, 'repo')).code).toBe(0);
    const imp = cli(
      'import',
      '--source',
      'legacy',
      '--archive',
      fixture('mongorestore/testdata/dump-w-oplog.archive'),
      '--json',
    );
    expect(imp.code, imp.stderr).toBe(0);
    expect(JSON.parse(imp.stdout)).toMatchObject({ source: 'legacy', sourceCreated: true, oplogEntries: 18 });
    const list = JSON.parse(cli('source', 'list', '--json').stdout) as { name: string; imported: boolean }[];
    expect(list).toEqual([expect.objectContaining({ name: 'legacy', imported: true })]);
    const out = join(dir.path, 'out');
    const exp = cli(
      'export',
      '--source',
      'legacy',
      '--at',
      'latest',
      '--out',
      out,
      '--include',
      'test.*',
      '--include',
      'admin.nothing',
      '--rename',
      'test.$c$=copy.$c$',
      '--json',
    );
    expect(exp.code, exp.stderr).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['copy', 'oplog.bson', 'prelude.json']);
    expect(readdirSync(join(out, 'copy')).sort()).toEqual(['foo.bson', 'foo.metadata.json']);
  }, 120_000); // eight CLI processes, each starting an engine

  it('refuses an existing target (exit 4, CONFLICT) and a missing dump (exit 3)', () => {
    const again = cli(
      'export',
      '--source',
      'legacy',
      '--at',
      'latest',
      '--out',
      join(dir.path, 'out'),
      '--json',
    );
    expect(again.code).toBe(4);
    expect(JSON.parse(again.stderr)).toMatchObject({ error: { code: 'CONFLICT' } });
    const missing = cli('import', '--source', 'x', '--dir', join(dir.path, 'nope'), '--json');
    expect(missing.code).toBe(3);
    const names = (JSON.parse(cli('source', 'list', '--json').stdout) as { name: string }[]).map(
      (s) => s.name,
    );
    expect(names).toEqual(['legacy']); // no source was created for the failed import
  });
});
if (!HAVE_FIXTURES) it.skip(SKIP_FIXTURES_MESSAGE, () => {});
