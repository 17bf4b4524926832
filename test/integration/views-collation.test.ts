/**
 * A collection's default collation, as a real dump carries it: the metadata
 * of mongo-tools' `index_collation.json` (a collection created with
 * `{locale: "en_US", strength: 2}`, stored by mongod with every field and
 * its ICU version) beside documents of our own, imported, then queried at
 * `latest` through the CLI: case-insensitive equality, sort and distinct as
 * mongod answers them on that collection (jstests/core/collation.js), and
 * `--collation '{"locale": "simple"}'` overriding it.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { serialize } from 'bson';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HAVE_FIXTURES, SKIP_FIXTURES_MESSAGE, fixture } from '../support/fixtures.js';
import { tempDir } from '../support/temp-dir.js';
import { cliSync } from '../support/cli-process.js';

let dir: ReturnType<typeof tempDir>;
beforeAll(() => (dir = tempDir()));
afterAll(() => dir.remove());

const cli = (...args: string[]) => cliSync(join(dir.path, 'data'), args);
const at = ['--source', 'ci', '--at', 'latest', '--ns', 'test.foo'];
const lines = (out: string) =>
  out
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe.skipIf(!HAVE_FIXTURES)(
  `a dump's default collation through the CLI ${HAVE_FIXTURES ? '' : SKIP_FIXTURES_MESSAGE}`,
  () => {
    it('queries compare by it, and --collation overrides it', () => {
      const dump = join(dir.path, 'dump');
      mkdirSync(join(dump, 'test'), { recursive: true });
      writeFileSync(
        join(dump, 'test', 'foo.metadata.json'),
        readFileSync(fixture('mongorestore/testdata/index_collation.json')),
      );
      const docs = [{ _id: 1, str: 'foo' }, { _id: 2, str: 'FOO' }, { _id: 3, str: 'bar' }, { _id: 'abc' }];
      writeFileSync(
        join(dump, 'test', 'foo.bson'),
        Buffer.concat(docs.map((d) => Buffer.from(serialize(d)))),
      );
      expect(cli('repo', 'init', '--path', join(dir.path, 'repo')).code).toBe(0);
      const imp = cli('import', '--source', 'ci', '--dir', dump, '--json');
      expect(imp.code, imp.stderr).toBe(0);

      const cols = cli('collections', '--source', 'ci', '--at', 'latest', '--json');
      expect(cols.code, cols.stderr).toBe(0);
      expect(cols.stdout).toContain('en_US');

      const eq = cli('query', ...at, '--filter', '{"str": "foo"}', '--json');
      expect(eq.code, eq.stderr).toBe(0);
      expect(lines(eq.stdout).map((d) => d._id)).toEqual([1, 2]);
      const byId = cli('query', ...at, '--filter', '{"_id": "ABC"}', '--json');
      expect(lines(byId.stdout).map((d) => d._id)).toEqual(['abc']);

      const sorted = cli(
        'query',
        ...at,
        '--filter',
        '{"str": {"$exists": true}}',
        '--sort',
        '{"str": 1}',
        '--projection',
        '{"_id": 0}',
        '--json',
      );
      expect(sorted.code, sorted.stderr).toBe(0);
      expect(lines(sorted.stdout)).toEqual([{ str: 'bar' }, { str: 'foo' }, { str: 'FOO' }]);

      const count = cli('query', ...at, '--filter', '{"str": "FOO"}', '--count', '--json');
      expect(JSON.parse(count.stdout)).toMatchObject({ count: 2 });

      const values = cli('query', ...at, '--distinct', 'str', '--json');
      expect(values.code, values.stderr).toBe(0);
      expect(values.stdout.toLowerCase().match(/foo/g)).toHaveLength(1);
      expect(values.stdout).toContain('bar');

      const simple = cli(
        'query',
        ...at,
        '--filter',
        '{"str": "foo"}',
        '--collation',
        '{"locale": "simple"}',
        '--json',
      );
      expect(simple.code, simple.stderr).toBe(0);
      expect(lines(simple.stdout).map((d) => d._id)).toEqual([1]);

      const bad = cli('query', ...at, '--collation', '{"locale": "en", "strength": 7}', '--json');
      expect(bad.code).not.toBe(0);
      expect(bad.stderr + bad.stdout).toMatch(/strength must be an integer from 1 to 5/);
    });
  },
);
