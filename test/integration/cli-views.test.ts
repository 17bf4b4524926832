/**
 * The CLI door of point-in-time views: `query` (JSON lines, --count,
 * --canonical), `collections`, `history`, `views`, `view drop`, and
 * `query export`, on an imported fixture dump; exit codes of bad input.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HAVE_FIXTURES, SKIP_FIXTURES_MESSAGE, fixture } from '../support/fixtures.js';
import { tempDir } from '../support/temp-dir.js';
import { cliSync } from '../support/cli-process.js';

let dir: ReturnType<typeof tempDir>;
beforeAll(() => (dir = tempDir()));
afterAll(() => dir.remove());

const cli = (...args: string[]) => cliSync(join(dir.path, 'data'), args);

describe.skipIf(!HAVE_FIXTURES)(
  `CLI: queries at a point ${HAVE_FIXTURES ? '' : SKIP_FIXTURES_MESSAGE}`,
  () => {
    it('query, count, collections, history, views and view drop on an imported dump', () => {
      expect(cli('repo', 'init', '--path', join(dir.path, 'repo')).code).toBe(0);
      const imp = cli(
        'import',
        '--source',
        'od',
        '--dir',
        fixture('mongorestore/testdata/oplogdump'),
        '--json',
      );
      expect(imp.code, imp.stderr).toBe(0);

      const q = cli(
        'query',
        '--source',
        'od',
        '--at',
        'latest',
        '--ns',
        'db1.c1',
        '--sort',
        '{"_id": 1}',
        '--json',
      );
      expect(q.code, q.stderr).toBe(0);
      const lines = q.stdout.trim().split('\n');
      expect(lines).toHaveLength(10);
      for (const l of lines) expect(JSON.parse(l)).toHaveProperty('_id');
      const first = lines[0]!;
      const id = JSON.stringify((JSON.parse(first) as { _id: unknown })._id);

      const one = cli(
        'query',
        '--source',
        'od',
        '--at',
        'latest',
        '--ns',
        'db1.c1',
        '--filter',
        `{"_id": ${id}}`,
        '--canonical',
        '--json',
      );
      expect(one.code, one.stderr).toBe(0);
      expect(one.stdout.trim().split('\n')).toHaveLength(1);
      const count = cli('query', '--source', 'od', '--at', 'latest', '--ns', 'db1.c1', '--count', '--json');
      expect(count.code, count.stderr).toBe(0);
      expect(JSON.parse(count.stdout)).toMatchObject({ count: 10 });

      const cols = cli('collections', '--source', 'od', '--at', 'latest', '--json');
      expect(cols.code, cols.stderr).toBe(0);
      expect(JSON.parse(cols.stdout)).toMatchObject({
        databases: expect.arrayContaining([
          { name: 'db1', collections: [expect.objectContaining({ name: 'c1', count: 10 })] },
        ]),
      });

      const hist = cli('history', '--source', 'od', '--ns', 'db1.c1', '--id', id, '--json');
      expect(hist.code, hist.stderr).toBe(0);
      const h = JSON.parse(hist.stdout) as { versions: { op: string; after: string | null }[] };
      expect(h.versions.length).toBeGreaterThan(0);
      expect(h.versions[h.versions.length - 1]!.after).toBe(first);

      const out = join(dir.path, 'c1.jsonl');
      const exp = cli(
        'query',
        'export',
        '--source',
        'od',
        '--at',
        'latest',
        '--ns',
        'db1.c1',
        '--out',
        out,
        '--canonical',
        'false',
        '--json',
      );
      expect(exp.code, exp.stderr).toBe(0);
      expect(JSON.parse(exp.stdout)).toMatchObject({ documents: 10, format: 'jsonl' });
      expect(readFileSync(out, 'utf8').trim().split('\n').sort()).toEqual([...lines].sort());

      const views = JSON.parse(cli('views', '--json').stdout) as {
        id: number;
        source: string;
        state: string;
      }[];
      expect(views).toEqual([expect.objectContaining({ source: 'od', state: 'ready' })]);
      expect(cli('view', 'drop', '--id', String(views[0]!.id), '--json').code).toBe(0);
      expect(JSON.parse(cli('views', '--json').stdout)).toEqual([]);

      // Bad input: exit codes of the error kinds.
      const bad = cli(
        'query',
        '--source',
        'od',
        '--at',
        'latest',
        '--ns',
        'db1.c1',
        '--filter',
        '{"a": {"$nope": 1}}',
      );
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/INVALID_INPUT.*\$nope/);
      expect(cli('query', '--source', 'od', '--at', 'latest', '--ns', 'db1.none').code).toBe(3);
      expect(cli('view', 'drop', '--id', '12345').code).toBe(3);
    }, 120_000);
  },
);
