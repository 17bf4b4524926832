/**
 * query.count with skip and limit, as mongod's count command applies them
 * (min(max(matching - skip, 0), limit), limit 0 none), through the API and
 * `query --count` on the CLI, where the find's --sort and --projection are
 * accepted and ignored (as mongosh's count ignores them) and an unknown flag
 * is reported against the command as typed. On the oplogdump fixture:
 * db1.c1 holds 10 documents at latest.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dumpEnv, type DumpEnv } from '../support/dump-helpers.js';
import { HAVE_FIXTURES, SKIP_FIXTURES_MESSAGE, fixture } from '../support/fixtures.js';
import { tempDir } from '../support/temp-dir.js';
import { cliSync } from '../support/cli-process.js';
import { call, refusal } from '../support/views-helpers.js';

const OPLOGDUMP = () => fixture('mongorestore/testdata/oplogdump');
const target = { source: 'od', at: 'latest', ns: 'db1.c1', count: true } as const;

describe.skipIf(!HAVE_FIXTURES)(
  `query.count with skip and limit ${HAVE_FIXTURES ? '' : SKIP_FIXTURES_MESSAGE}`,
  () => {
    let env: DumpEnv;
    beforeAll(async () => {
      env = await dumpEnv();
      await env.importDump({ source: 'od', dir: OPLOGDUMP() });
    });
    afterAll(async () => env?.close());

    it('applies skip, then limit, to the count; limit 0 is no limit', async () => {
      const n = async (extra: Record<string, unknown>) =>
        (await call(env.engine, 'query.count', { ...target, ...extra } as never)).count;
      expect(await n({})).toBe(10);
      expect(await n({ skip: 3 })).toBe(7);
      expect(await n({ limit: 3 })).toBe(3);
      expect(await n({ skip: 8, limit: 5 })).toBe(2);
      expect(await n({ skip: 2, limit: 5 })).toBe(5);
      expect(await n({ skip: 10 })).toBe(0);
      expect(await n({ skip: 20, limit: 1 })).toBe(0);
      expect(await n({ limit: 0 })).toBe(10);
      expect(await n({ limit: 100 })).toBe(10);
      // With a filter: the matching documents are skipped and limited.
      const all = await call(env.engine, 'query.find', {
        source: 'od',
        at: 'latest',
        ns: 'db1.c1',
        sort: '{"_id": 1}',
      });
      const third = JSON.stringify((JSON.parse(all.documents[2]!) as { _id: unknown })._id);
      const filter = `{"_id": {"$gte": ${third}}}`;
      expect(await n({ filter })).toBe(8);
      expect(await n({ filter, skip: 1, limit: 6 })).toBe(6);
      expect(await n({ filter, skip: 5, limit: 6 })).toBe(3);
    });

    it('refuses a negative skip or limit, and sort or projection (the API takes only what a count uses)', async () => {
      for (const extra of [
        { skip: -1 },
        { limit: -1 },
        { limit: 1.5 },
        { sort: '{"_id": 1}' },
        { projection: '{"a": 1}' },
      ])
        expect(
          (await refusal(env.engine, 'query.count', { ...target, ...extra })).code,
          JSON.stringify(extra),
        ).toBe('INVALID_INPUT');
    });
  },
);

describe.skipIf(!HAVE_FIXTURES)(`CLI: query --count ${HAVE_FIXTURES ? '' : SKIP_FIXTURES_MESSAGE}`, () => {
  let dir: ReturnType<typeof tempDir>;
  const cli = (...args: string[]) => cliSync(join(dir.path, 'data'), args);
  const q = (...args: string[]) =>
    cli('query', '--source', 'od', '--at', 'latest', '--ns', 'db1.c1', '--count', ...args);
  beforeAll(() => {
    dir = tempDir();
    expect(cli('repo', 'init', '--path', join(dir.path, 'repo')).code).toBe(0);
    const imp = cli('import', '--source', 'od', '--dir', OPLOGDUMP(), '--json');
    expect(imp.code, imp.stderr).toBe(0);
  });
  afterAll(() => dir?.remove());

  it('combines --count with --filter, --skip and --limit, and ignores --sort and --projection', () => {
    const count = (...args: string[]) => {
      const r = q(...args, '--json');
      expect(r.code, r.stderr).toBe(0);
      return (JSON.parse(r.stdout) as { count: number }).count;
    };
    expect(count('--limit', '3')).toBe(3);
    expect(count('--skip', '8', '--limit', '5')).toBe(2);
    expect(count('--skip', '4')).toBe(6);
    expect(count('--limit', '0')).toBe(10);
    expect(
      count('--filter', '{}', '--sort', '{"_id": -1}', '--projection', '{"_id": 1}', '--skip', '1'),
    ).toBe(9);
    // `query count` (the command's own words) takes the same flags.
    const words = cli(
      'query',
      'count',
      '--source',
      'od',
      '--at',
      'latest',
      '--ns',
      'db1.c1',
      '--count',
      '--limit',
      '4',
    );
    expect(words.code, words.stderr).toBe(0);
    expect(words.stdout).toMatch(/count: 4/);
  });

  it('names the command as typed in an unknown flag, read as the command the flags point to', () => {
    const canonical = q('--canonical');
    expect(canonical.code).toBe(2);
    expect(canonical.stderr).toMatch(
      /^error \[INVALID_INPUT\]: Unknown flag\(s\) for query \(query\.count\): --canonical\. /,
    );
    expect(canonical.stderr).toContain('--skip, --limit, --sort (ignored), --projection (ignored).');
    const find = cli('query', '--source', 'od', '--at', 'latest', '--ns', 'db1.c1', '--colour', 'red');
    expect(find.code).toBe(2);
    expect(find.stderr).toMatch(
      /^error \[INVALID_INPUT\]: Unknown flag\(s\) for query \(query\.find\): --colour\. /,
    );
    const negative = q('--limit', '-2');
    expect(negative.code).toBe(2);
  });
});
