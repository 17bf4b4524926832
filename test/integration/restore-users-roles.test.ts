/**
 * Users and roles restore (`usersRoles`): after a workload of user and role
 * changes (createUser, createRole, grantRolesToUser before the point;
 * dropUser, dropRole, createUser after it), a restore to the point gives the
 * target the users and roles the source had then (usersInfo / rolesInfo
 * compared as canonical Extended JSON), of the restored databases only,
 * renamed with them; without drop an existing user is left as it is and the
 * validation says so; with drop it is replaced.
 */
import { EJSON, type Document } from 'bson';
import type { MongoClient } from 'mongodb';
import { afterEach, describe, expect, it } from 'vitest';
import { newestOplogTs } from '../../engine/source/snapshot.js';
import { waitUntilCaptured } from '../support/capture-wait.js';
import { capturingEngine } from '../support/capturing-engine.js';
import { runTask } from '../support/run-task.js';
import { startStandin } from '../support/standin/server.js';
import { MONGO_KIND, needsFaults, uniqueDb, withMongo } from '../support/with-mongo.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const canon = (v: unknown) => EJSON.stringify(v, { relaxed: false });
const SCRAM = { mechanisms: ['SCRAM-SHA-256'] };

/** usersInfo of one database (as mongod answers it: no credentials) and rolesInfo with privileges. */
async function authzOf(client: MongoClient, db: string) {
  const users = (await client.db(db).command({ usersInfo: 1 })).users as Document[];
  const roles = (await client.db(db).command({ rolesInfo: 1, showPrivileges: true })).roles as Document[];
  const byId = (a: Document, b: Document) => String(a._id).localeCompare(String(b._id));
  return { users: [...users].sort(byId).map(canon), roles: [...roles].sort(byId).map(canon) };
}

/** The same answer for a database renamed from `from` to `to`: every `db` and `_id` prefix follows. */
function renamedAuthz(a: { users: string[]; roles: string[] }, from: string, to: string) {
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object' && !(v as { _bsontype?: string })._bsontype) {
      const out: Document = {};
      for (const [k, x] of Object.entries(v as Document)) {
        if (k === 'db' && x === from) out[k] = to;
        else if (k === '_id' && typeof x === 'string' && x.startsWith(`${from}.`))
          out[k] = `${to}.${x.slice(from.length + 1)}`;
        else out[k] = walk(x);
      }
      return out;
    }
    return v;
  };
  const map = (s: string) => canon(walk(EJSON.parse(s, { relaxed: false })));
  return { users: a.users.map(map), roles: a.roles.map(map) };
}

describe(`restore with users and roles (${MONGO_KIND})`, () => {
  it('gives the target the users and roles of the restored databases at the point, renamed', async () => {
    await withMongo(async ({ uri }) => {
      const env = await capturingEngine(uri, 'mbm-restore-users-');
      cleanups.push(() => env.close());
      const { engine, row, client } = env;
      const db = uniqueDb('ur');
      const other = uniqueDb('uo');
      const target = `${db}_r`;
      // A shared server (MONGODB_URI) outlives the test: the users and roles made here go. (The stand-in
      // and a MONGOD_BINARY server are gone by the time this runs.)
      cleanups.push(async () => {
        if (MONGO_KIND !== 'uri') return;
        for (const d of [db, other, target]) {
          await client
            .db(d)
            .command({ dropAllUsersFromDatabase: 1 })
            .catch(() => undefined);
          await client
            .db(d)
            .command({ dropAllRolesFromDatabase: 1 })
            .catch(() => undefined);
        }
      });
      await client
        .db(db)
        .collection('c')
        .insertMany([{ _id: 1 as never }, { _id: 2 as never }]);
      await client
        .db(other)
        .collection('c')
        .insertOne({ _id: 1 as never });
      await client.db(db).command({ createUser: 'app', pwd: 'pw-app-1', roles: ['readWrite'], ...SCRAM });
      await client.db(db).command({
        createRole: 'reporter',
        privileges: [{ resource: { db, collection: 'c' }, actions: ['find'] }],
        roles: [],
      });
      await client.db(other).command({ createUser: 'elsewhere', pwd: 'pw-e', roles: ['read'], ...SCRAM });

      await engine.capture.start(row);
      const snap = await runTask(engine, 'snapshot.take', { source: 'rs', includeUsers: true });
      expect(snap.state, JSON.stringify(snap.error)).toBe('succeeded');

      // Changes after the snapshot and before the point: replayed from the oplog.
      await client.db(db).command({
        createUser: 'analyst',
        pwd: 'pw-an-2',
        roles: [{ role: 'reporter', db }],
        ...SCRAM,
      });
      await client.db(db).command({ grantRolesToUser: 'app', roles: [{ role: 'reporter', db }] });
      await client.db(db).command({
        createRole: 'writer',
        privileges: [{ resource: { db, collection: 'c' }, actions: ['insert', 'update'] }],
        roles: [{ role: 'reporter', db }],
      });
      await client
        .db(db)
        .collection('c')
        .insertOne({ _id: 3 as never });
      const at = (await newestOplogTs(client))!;
      const atPoint = await authzOf(client, db);
      expect(atPoint.users).toHaveLength(2);
      expect(atPoint.roles).toHaveLength(2);

      // After the point: none of this may reach the target.
      await client.db(db).command({ dropUser: 'analyst' });
      await client.db(db).command({ dropRole: 'reporter' });
      await client.db(db).command({ createUser: 'late', pwd: 'pw-late', roles: ['read'], ...SCRAM });
      expect(canon(await authzOf(client, db))).not.toBe(canon(atPoint));
      await waitUntilCaptured(engine.capture.get(row.id)!, client);
      await engine.capture.stop(row.id);

      const point = `${at.t}:${at.i}`;
      const run = (extra: Record<string, unknown>) =>
        runTask(engine, 'restore.run', {
          source: 'rs',
          at: point,
          targetUri: uri,
          include: [`${db}.*`, `${other}.*`],
          exclude: [`${other}.*`],
          rename: [`${db}.$c$=${target}.$c$`],
          usersRoles: true,
          ...extra,
        } as never);

      const first = await run({});
      expect(first.state, JSON.stringify(first.error)).toBe('succeeded');
      const report = first.result as {
        usersRoles: { users: number; roles: number };
        validation: { passed: boolean; checks: { name: string; passed: boolean; findings: string[] }[] };
      };
      expect(report.usersRoles).toMatchObject({ users: 2, roles: 2 });
      expect(report.validation.passed, JSON.stringify(report.validation.checks)).toBe(true);
      expect(report.validation.checks.map((c) => c.name)).toContain('users');
      // Exactly the source's users and roles at the point, under the new database name.
      expect(await authzOf(client, target)).toEqual(renamedAuthz(atPoint, db, target));
      // The excluded database's users were not restored anywhere new.
      expect((await authzOf(client, `${other}_r`)).users).toEqual([]);
      expect((await authzOf(client, other)).users).toHaveLength(1);

      // A user changed on the target: without drop it is left as it is (mongod's rule for
      // mongorestore), and the validation names it; with drop it is replaced.
      await client.db(target).command({ grantRolesToUser: 'app', roles: [{ role: 'read', db: target }] });
      // dropDatabase leaves a database's users in place (they live in admin), so only the data goes.
      await client.db(target).dropDatabase();
      const kept = await run({});
      expect(kept.state, JSON.stringify(kept.error)).toBe('succeeded');
      const checks = (
        kept.result as { validation: { checks: { name: string; passed: boolean; findings: string[] }[] } }
      ).validation.checks;
      const users = checks.find((c) => c.name === 'users')!;
      expect(users.passed).toBe(false);
      expect(users.findings.join('\n')).toContain(`user ${target}.app differs`);
      expect(users.findings.join('\n')).not.toContain('SCRAM');
      expect(checks.filter((c) => c.name !== 'users').every((c) => c.passed)).toBe(true);

      const dropped = await run({ drop: true });
      expect(dropped.state, JSON.stringify(dropped.error)).toBe('succeeded');
      expect((dropped.result as { validation: { passed: boolean } }).validation.passed).toBe(true);
      expect(await authzOf(client, target)).toEqual(renamedAuthz(atPoint, db, target));
    });
  });

  it('refuses users and roles from a snapshot taken without them, before writing', async () => {
    await withMongo(async ({ uri }) => {
      const env = await capturingEngine(uri, 'mbm-restore-users-');
      cleanups.push(() => env.close());
      const db = uniqueDb('un');
      await env.client
        .db(db)
        .collection('c')
        .insertOne({ _id: 1 as never });
      const snap = await runTask(env.engine, 'snapshot.take', { source: 'rs' });
      expect(snap.state).toBe('succeeded');
      const id = (snap.result as { snapshotId: string }).snapshotId;
      const task = await runTask(env.engine, 'restore.run', {
        source: 'rs',
        at: id,
        targetUri: uri,
        include: [`${db}.*`],
        rename: [`${db}.$c$=${db}_r.$c$`],
        usersRoles: true,
      } as never);
      expect(task.state).toBe('failed');
      expect(task.error).toMatchObject({ code: 'CONFLICT', details: { reason: 'NO_USERS_ROLES' } });
      const names = (await env.client.db(`${db}_r`).listCollections().toArray()).map((c) => c.name);
      expect(names).toEqual([]);
    });
  });

  // Needs a target whose login user is configured (the stand-in's `auth`); a real server would need its
  // own admin user set up for this.
  it.skipIf(needsFaults)(
    'refuses a drop that would remove the user the restore is logged in as',
    async () => {
      await withMongo(async ({ uri }) => {
        const env = await capturingEngine(uri, 'mbm-restore-users-');
        cleanups.push(() => env.close());
        const db = uniqueDb('us');
        await env.client
          .db(db)
          .collection('c')
          .insertOne({ _id: 1 as never });
        await env.client.db('admin').command({ createUser: 'ops', pwd: 'pw-ops', roles: ['root'], ...SCRAM });
        const snap = await runTask(env.engine, 'snapshot.take', { source: 'rs', includeUsers: true });
        expect(snap.state).toBe('succeeded');
        const target = await startStandin({
          noopIntervalMs: 0,
          auth: { username: 'dba', password: 'Dba-Passw0rd-1' },
        });
        cleanups.push(() => target.stop());
        const task = await runTask(env.engine, 'restore.run', {
          source: 'rs',
          at: (snap.result as { snapshotId: string }).snapshotId,
          targetUri: target.uri,
          include: [`${db}.*`, 'admin.*'],
          usersRoles: true,
          drop: true,
        } as never);
        expect(task.state).toBe('failed');
        expect(task.error).toMatchObject({
          code: 'CONFLICT',
          details: { reason: 'WOULD_DROP_RESTORE_USER', users: [{ user: 'dba', db: 'admin' }] },
        });
      });
    },
  );
});
