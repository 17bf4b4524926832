/**
 * Users and roles, against the real tool: a real `mongorestore` (mongo-tools
 * 100.8.0) of the fixture `usersdump/` merges its users and roles through
 * `_mergeAuthzCollections` into one stand-in; our restore of the same dump,
 * imported as a snapshot, into another. Both hold the same
 * admin.system.users / system.roles documents, byte for byte, and no
 * temporary collection is left. This holds the stand-in's merge to what the
 * real tool sends and expects, and our restore to what mongorestore leaves.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { MongoClient } from 'mongodb';
import { afterEach, describe, expect, it } from 'vitest';
import { TOOLS, dumpEnv, type DumpEnv } from '../support/dump-helpers.js';
import { HAVE_FIXTURES, SKIP_FIXTURES_MESSAGE, fixture } from '../support/fixtures.js';
import { runTask } from '../support/run-task.js';
import { startStandin, type Standin } from '../support/standin/server.js';

const run = promisify(execFile);
const HAVE_TOOLS = existsSync(join(TOOLS, 'mongorestore'));
const SKIP = 'skipped: ../shared/tools/mongo-tools-100.8.0 (real mongorestore) is absent';
if (!HAVE_TOOLS) console.log(SKIP);
if (!HAVE_FIXTURES) console.log(SKIP_FIXTURES_MESSAGE);

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function standin(): Promise<{ s: Standin; client: MongoClient }> {
  const s = await startStandin({ noopIntervalMs: 0 });
  const client = await MongoClient.connect(s.uri);
  cleanups.push(() => s.stop());
  cleanups.push(() => client.close());
  return { s, client };
}

/** admin's authorization documents (raw, hex) and the collections left in admin. */
async function authz(client: MongoClient) {
  const hex = async (coll: string) =>
    ((await client.db('admin').collection(coll).find({}, { raw: true }).toArray()) as unknown as Uint8Array[])
      .map((b) => Buffer.from(b).toString('hex'))
      .sort();
  const collections = (await client.db('admin').listCollections().toArray()).map((c) => c.name).sort();
  return { users: await hex('system.users'), roles: await hex('system.roles'), collections };
}

describe.skipIf(!HAVE_TOOLS || !HAVE_FIXTURES)(
  'users and roles: our restore against a real mongorestore',
  () => {
    it('usersdump/: the same users and roles, byte for byte, and no temporary collection left', async () => {
      const dump = fixture('mongorestore/testdata', 'usersdump');
      const theirs = await standin();
      const { stderr } = await run(join(TOOLS, 'mongorestore'), ['--uri', theirs.s.uri, '--dir', dump], {
        maxBuffer: 1 << 24,
      });
      expect(stderr).toMatch(/restoring users from/);
      const expected = await authz(theirs.client);
      expect(expected.users.length).toBeGreaterThan(0);
      expect(expected.roles.length).toBeGreaterThan(0);

      const env: DumpEnv = await dumpEnv();
      cleanups.push(() => env.close());
      await env.importDump({ source: 'users', dir: dump });
      const ours = await standin();
      const task = await runTask(env.engine, 'restore.run', {
        source: 'users',
        at: 'latest',
        targetUri: ours.s.uri,
        usersRoles: true,
      } as never);
      expect(task.state, JSON.stringify(task.error)).toBe('succeeded');
      expect((task.result as { validation: { passed: boolean } }).validation.passed).toBe(true);
      const got = await authz(ours.client);
      expect(got.users).toEqual(expected.users);
      expect(got.roles).toEqual(expected.roles);
      expect(
        got.collections.filter((c) => c.startsWith('system.users') || c.startsWith('system.roles')),
      ).toEqual(
        expected.collections.filter((c) => c.startsWith('system.users') || c.startsWith('system.roles')),
      );
      expect(got.collections.filter((c) => /temp/i.test(c))).toEqual([]);
    });
  },
);
