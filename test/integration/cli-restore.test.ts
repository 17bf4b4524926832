/**
 * The CLI door of restore: the question before it writes (and `--yes` for
 * scripts), renames by mongorestore's rules (`db1.*=db1_cli.*`), and typed
 * refusals that leave the target untouched. The CLI runs as its own process,
 * so the stand-in (in this process) keeps answering while it restores.
 */
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HAVE_FIXTURES, SKIP_FIXTURES_MESSAGE, fixture } from '../support/fixtures.js';
import { tempDir } from '../support/temp-dir.js';
import { withMongo } from '../support/with-mongo.js';
import { argvOf, cliAsync } from '../support/cli-process.js';

let dir: ReturnType<typeof tempDir>;
beforeAll(() => (dir = tempDir()));
afterAll(() => dir.remove());

const cli = (...args: string[]) => cliAsync(join(dir.path, 'data'), args);

const HAVE_SCRIPT = spawnSync('script', ['--version']).status === 0;
const root = join(import.meta.dirname, '..', '..');
const quote = (a: string) => `'${a.replace(/'/g, `'\\''`)}'`;

/** The CLI on a pseudo-terminal, answering its question with `answer`. */
function onTerminal(args: string[], answer: string): Promise<{ code: number | null; output: string }> {
  const cmd = [process.execPath, ...argvOf(join(dir.path, 'data'), args)].map(quote).join(' ');
  return new Promise((resolve) => {
    const child = spawn('script', ['-qec', cmd, '/dev/null'], { cwd: root, stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    let answered = false;
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString();
      if (!answered && output.includes('Proceed?')) {
        answered = true;
        child.stdin.write(answer);
      }
    });
    child.on('exit', (code) => resolve({ code, output }));
  });
}

describe.skipIf(!HAVE_FIXTURES)(`CLI: restore ${HAVE_FIXTURES ? '' : SKIP_FIXTURES_MESSAGE}`, () => {
  it('asks before writing, refuses without a terminal unless --yes, and renames db.* to db_x.*', async () => {
    expect((await cli('repo', 'init', '--path', join(dir.path, 'repo'))).code).toBe(0);
    const imp = await cli('import', '--source', 'od', '--dir', fixture('mongorestore/testdata/oplogdump'));
    expect(imp.code, imp.stderr).toBe(0);

    await withMongo(async ({ uri }) => {
      const target = `db1_cli_${randomBytes(3).toString('hex')}`;
      const client = await MongoClient.connect(uri, { directConnection: true });
      try {
        const dbs = async () =>
          (
            (await client.db('admin').command({ listDatabases: 1, nameOnly: true })) as {
              databases: { name: string }[];
            }
          ).databases.map((d) => d.name);

        const restoreArgs = () => ['restore', '--source', 'od', '--at', 'latest', '--target-uri', uri];
        const untouched = await client.db('db1').collection('c1').countDocuments();
        // No terminal here (stdin is not a TTY): without --yes the restore states what it would do and stops.
        const asked = await cli(...restoreArgs(), '--rename', `db1.*=${target}.*`);
        expect(asked.code, asked.stderr).toBe(2);
        expect(asked.stderr).toContain('error [INVALID_INPUT]');
        expect(asked.stderr).toContain('Restore source "od" at latest: snapshot');
        expect(asked.stderr).toContain(`Renamed on the way: db1.* becomes ${target}.*.`);
        expect(asked.stderr).toContain('pass --yes');
        expect(await dbs()).not.toContain(target);

        // A rename whose TO has a star FROM lacks would merge every collection into one named "*".
        const merge = await cli(...restoreArgs(), '--rename', `db1.c1=${target}.*`, '--yes');
        expect(merge.code).toBe(2);
        expect(merge.stderr).toMatch(/different numbers of \* wildcards/);
        expect(await dbs()).not.toContain(target);

        // --yes is taken only by a command that asks.
        const stray = await cli('info', '--yes');
        expect(stray.code).toBe(2);
        expect(stray.stderr).toContain('--yes');

        if (HAVE_SCRIPT) {
          // On a terminal (a pseudo-terminal from util-linux `script`), it asks; "n" writes nothing.
          const no = await onTerminal([...restoreArgs(), '--rename', `db1.*=${target}.*`, '--drop'], 'n\n');
          expect(no.output).toContain('DESTRUCTIVE: target collections that already exist are DROPPED');
          expect(no.output).toContain('Proceed? [y/N]');
          expect(no.output).toContain('error [CANCELLED]');
          expect(await dbs()).not.toContain(target);
        } else console.log('skipped the terminal prompt check: no `script` command (util-linux)');

        const done = await cli(...restoreArgs(), '--rename', `db1.*=${target}.*`, '--yes', '--json');
        expect(done.code, done.stderr).toBe(0);
        // mongorestore's oplog_test.go: oplogdump/ gives 10 documents in db1.c1 with its oplog replayed.
        expect(await client.db(target).collection('c1').countDocuments()).toBe(10);
        // Renamed, not written twice: the original namespace is as it was.
        expect(await client.db('db1').collection('c1').countDocuments()).toBe(untouched);
      } finally {
        await client
          .db(target)
          .dropDatabase()
          .catch(() => {});
        await client.close();
      }
    });
  }, 120_000);
});
