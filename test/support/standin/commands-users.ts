/**
 * Users and roles as mongod keeps them (the restore of users and roles is judged against these).
 *
 * createUser / dropUser as MongoDB stores users: one document per user in
 * admin.system.users (`_id: "<db>.<user>"`, userId, user, db, credentials,
 * roles) with SCRAM-SHA-256 credentials derived as RFC 7677 says (salted
 * password by PBKDF2, storedKey = SHA-256(HMAC(salted, "Client Key")),
 * serverKey = HMAC(salted, "Server Key")), 15,000 iterations and a 28-byte
 * salt as mongod uses, logged in the oplog like any insert. Only SCRAM-SHA-256
 * is modelled (tests pass `mechanisms: ['SCRAM-SHA-256']`, which makes a real
 * server store only that one too), and logging in as such a user is not: the
 * stand-in authenticates its one configured user.
 *
 * createRole / dropRole / grantRolesToUser store and change documents of
 * admin.system.roles (`_id: "<db>.<role>"`, role, db, privileges, roles) and
 * admin.system.users as mongod does, logged as CRUD on those collections; a
 * dropped role is removed from every user and role that held it (documented
 * for dropRole). usersInfo answers the stored user without credentials (with
 * them when showCredentials) plus `mechanisms`, sorted by db then user;
 * rolesInfo a role's stored fields plus isBuiltin: false and inheritedRoles
 * (privileges with showPrivileges). Not modelled: built-in roles' privileges
 * in inheritedPrivileges, authenticationRestrictions, customData.
 *
 * `_mergeAuthzCollections` is mongod's internal command for mongorestore:
 * users and roles put in temporary admin collections are merged into
 * admin.system.users/roles. Without `drop` a user or role that already exists
 * is left as it is (mongod warns and goes on, as mongorestore expects); with
 * `drop` the target's users/roles (of `db`, or all when `db` is "") become
 * exactly those of the temporary collections: existing ones replaced, the
 * others removed.
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { UUID, type Document } from 'bson';
import { serialize } from 'bson';
import { deleteStored, insertOne, replaceStored, type Handler } from './commands-crud.js';
import type { Ctx } from './context.js';
import type { Collection, StoredDoc } from './store.js';
import { E, MongoError } from './errors.js';

const ITERATIONS = 15000;

function scramSha256(password: string): Document {
  const salt = randomBytes(28);
  // ASCII passwords only: SASLprep is then the identity.
  const salted = pbkdf2Sync(password, salt, ITERATIONS, 32, 'sha256');
  const hmac = (text: string) => createHmac('sha256', salted).update(text).digest();
  return {
    iterationCount: ITERATIONS,
    salt: salt.toString('base64'),
    storedKey: createHash('sha256').update(hmac('Client Key')).digest().toString('base64'),
    serverKey: hmac('Server Key').toString('base64'),
  };
}

type RoleRef = { role: string; db: string };
const roleRefs = (ctx: Ctx, list: unknown): RoleRef[] =>
  ((list as (string | Document)[] | undefined) ?? []).map((r) =>
    typeof r === 'string' ? { role: r, db: ctx.db } : { role: String(r.role), db: String(r.db) },
  );
const sameRef = (a: RoleRef, b: RoleRef) => a.role === b.role && a.db === b.db;

/** A stored document replaced by a changed copy of its decoded value, logged as mongod logs an update. */
function rewrite(ctx: Ctx, coll: Collection, d: StoredDoc, change: (js: Document) => Document): void {
  replaceStored(ctx, coll, d, serialize(change({ ...d.js })), true);
}

/** Every role a role grants, directly or through the roles it holds (user-defined roles looked up). */
function inherited(roles: Collection | undefined, direct: RoleRef[]): RoleRef[] {
  const out: RoleRef[] = [];
  const visit = (r: RoleRef) => {
    if (out.some((o) => sameRef(o, r))) return;
    out.push(r);
    const doc = roles?.all().find((d) => d.js._id === `${r.db}.${r.role}`);
    for (const sub of (doc?.js.roles as RoleRef[] | undefined) ?? []) visit(sub);
  };
  direct.forEach(visit);
  return out;
}

/** The user documents of `coll` (a temp collection) that `_mergeAuthzCollections` takes. */
function merge(
  ctx: Ctx,
  target: Collection,
  temp: Collection | undefined,
  db: string,
  drop: boolean,
  key: (js: Document) => string,
): void {
  const inDb = (js: Document) => db === '' || js.db === db;
  const toDrop = new Set(
    drop
      ? target
          .all()
          .filter((d) => inDb(d.js))
          .map((d) => key(d.js))
      : [],
  );
  for (const t of temp?.all() ?? []) {
    if (!inDb(t.js)) continue;
    const k = key(t.js);
    const existing = target.all().find((d) => key(d.js) === k);
    if (drop && existing) {
      toDrop.delete(k);
      replaceStored(ctx, target, existing, t.raw, true);
    } else if (!existing) {
      insertOne(ctx, target, t.js, t.raw);
    } // else: already there and not dropping: left as it is (mongod warns and continues)
  }
  for (const k of toDrop) {
    const d = target.all().find((x) => key(x.js) === k);
    if (d) deleteStored(ctx, target, d);
  }
}

export const userCommands: Record<string, Handler> = {
  createuser(ctx) {
    const user = String(ctx.cmd.createUser);
    const pwd = ctx.cmd.pwd;
    if (typeof pwd !== 'string') throw E.badValue("Must provide a 'pwd' field for all user documents");
    const mechanisms = (ctx.cmd.mechanisms as string[] | undefined) ?? ['SCRAM-SHA-256'];
    if (mechanisms.some((m) => m !== 'SCRAM-SHA-256'))
      throw E.badValue('The stand-in models SCRAM-SHA-256 credentials only');
    // Documented as required (an empty array creates a user without roles).
    if (!Array.isArray(ctx.cmd.roles)) throw E.badValue('"createUser" command requires a "roles" array');
    const users = ctx.ensureColl('system.users', 'admin');
    const _id = `${ctx.db}.${user}`;
    if (users.all().some((d) => d.js._id === _id))
      throw new MongoError(51003, 'Location51003', `User "${user}@${ctx.db}" already exists`);
    const roles = ((ctx.cmd.roles as (string | Document)[] | undefined) ?? []).map((r) =>
      typeof r === 'string' ? { role: r, db: ctx.db } : { role: r.role, db: r.db },
    );
    insertOne(ctx, users, {
      _id,
      userId: new UUID(),
      user,
      db: ctx.db,
      credentials: { 'SCRAM-SHA-256': scramSha256(pwd) },
      roles,
    });
    return { ok: 1 };
  },

  dropuser(ctx) {
    const user = String(ctx.cmd.dropUser);
    const users = ctx.ensureColl('system.users', 'admin');
    const found = users.all().find((d) => d.js._id === `${ctx.db}.${user}`);
    if (!found) throw new MongoError(11, 'UserNotFound', `User '${user}@${ctx.db}' not found`);
    deleteStored(ctx, users, found);
    return { ok: 1 };
  },

  createrole(ctx) {
    const role = String(ctx.cmd.createRole);
    const roles = ctx.ensureColl('system.roles', 'admin');
    const _id = `${ctx.db}.${role}`;
    if (roles.all().some((d) => d.js._id === _id))
      throw new MongoError(51002, 'Location51002', `Role "${role}@${ctx.db}" already exists`);
    if (!Array.isArray(ctx.cmd.privileges))
      throw E.badValue('"createRole" command requires a "privileges" array');
    if (!Array.isArray(ctx.cmd.roles)) throw E.badValue('"createRole" command requires a "roles" array');
    insertOne(ctx, roles, {
      _id,
      role,
      db: ctx.db,
      privileges: (ctx.cmd.privileges as Document[]).map((p) => ({
        resource: p.resource,
        actions: p.actions,
      })),
      roles: roleRefs(ctx, ctx.cmd.roles),
    });
    return { ok: 1 };
  },

  droprole(ctx) {
    const ref = { role: String(ctx.cmd.dropRole), db: ctx.db };
    const roles = ctx.ensureColl('system.roles', 'admin');
    const found = roles.all().find((d) => d.js._id === `${ref.db}.${ref.role}`);
    if (!found) throw new MongoError(31, 'RoleNotFound', `Role ${ref.role}@${ref.db} not found`);
    // mongod removes the dropped role from every user and role that held it.
    const users = ctx.ensureColl('system.users', 'admin');
    for (const coll of [users, roles])
      for (const d of coll.all())
        if (((d.js.roles as RoleRef[] | undefined) ?? []).some((r) => sameRef(r, ref)))
          rewrite(ctx, coll, d, (js) => ({
            ...js,
            roles: (js.roles as RoleRef[]).filter((r) => !sameRef(r, ref)),
          }));
    deleteStored(
      ctx,
      roles,
      roles.all().find((d) => d.js._id === `${ref.db}.${ref.role}`)!,
    );
    return { ok: 1 };
  },

  grantrolestouser(ctx) {
    const user = String(ctx.cmd.grantRolesToUser);
    const users = ctx.ensureColl('system.users', 'admin');
    const found = users.all().find((d) => d.js._id === `${ctx.db}.${user}`);
    if (!found) throw new MongoError(11, 'UserNotFound', `Could not find user "${user}" for db "${ctx.db}"`);
    const add = roleRefs(ctx, ctx.cmd.roles);
    rewrite(ctx, users, found, (js) => {
      const have = [...((js.roles as RoleRef[] | undefined) ?? [])];
      for (const r of add) if (!have.some((h) => sameRef(h, r))) have.push(r);
      return { ...js, roles: have };
    });
    return { ok: 1 };
  },

  usersinfo(ctx) {
    const users = ctx.coll('system.users', 'admin')?.all() ?? [];
    const q = ctx.cmd.usersInfo as unknown;
    const wanted = (js: Document): boolean => {
      if (q === 1) return js.db === ctx.db;
      if (q && typeof q === 'object' && !Array.isArray(q) && (q as Document).forAllDBs === true) return true;
      const list = Array.isArray(q) ? q : [q];
      return list.some((u) =>
        typeof u === 'string'
          ? js.user === u && js.db === ctx.db
          : js.user === (u as Document).user && js.db === (u as Document).db,
      );
    };
    const out = users
      .map((d) => d.js)
      .filter(wanted)
      .sort(
        (a, b) => String(a.db).localeCompare(String(b.db)) || String(a.user).localeCompare(String(b.user)),
      )
      .map((js) => {
        const { credentials, ...rest } = js as Document & { credentials?: Document };
        return {
          ...(ctx.cmd.showCredentials === true ? { ...rest, credentials } : rest),
          mechanisms: Object.keys(credentials ?? {}),
        };
      });
    return { users: out, ok: 1 };
  },

  rolesinfo(ctx) {
    const roles = ctx.coll('system.roles', 'admin');
    const q = ctx.cmd.rolesInfo as unknown;
    const wanted = (js: Document): boolean => {
      if (q === 1) return js.db === ctx.db;
      const list = Array.isArray(q) ? q : [q];
      return list.some((r) =>
        typeof r === 'string'
          ? js.role === r && js.db === ctx.db
          : js.role === (r as Document).role && js.db === (r as Document).db,
      );
    };
    const out = (roles?.all() ?? [])
      .map((d) => d.js)
      .filter(wanted)
      .sort((a, b) => String(a._id).localeCompare(String(b._id)))
      .map((js) => {
        const inh = inherited(roles, (js.roles as RoleRef[] | undefined) ?? []);
        const { privileges, ...rest } = js;
        const base = { ...rest, isBuiltin: false, inheritedRoles: inh };
        if (ctx.cmd.showPrivileges !== true) return base;
        const inheritedPrivileges = [
          ...(privileges as Document[]),
          ...inh.flatMap(
            (r) =>
              (roles?.all().find((d) => d.js._id === `${r.db}.${r.role}`)?.js.privileges as
                Document[] | undefined) ?? [],
          ),
        ];
        return { ...rest, privileges, isBuiltin: false, inheritedRoles: inh, inheritedPrivileges };
      });
    return { roles: out, ok: 1 };
  },

  _mergeauthzcollections(ctx) {
    if (ctx.db !== 'admin')
      throw E.unauthorized('_mergeAuthzCollections may only be run against the admin database.');
    const tempUsers = ctx.cmd.tempUsersCollection as string | undefined;
    const tempRoles = ctx.cmd.tempRolesCollection as string | undefined;
    if (!tempUsers && !tempRoles)
      throw E.badValue('Must provide at least one of "tempUsersCollection" and "tempRolescollection"');
    const db = typeof ctx.cmd.db === 'string' ? ctx.cmd.db : '';
    const drop = ctx.cmd.drop === true;
    const temp = (ns: string) => ctx.coll(ns.slice(ns.indexOf('.') + 1), ns.slice(0, ns.indexOf('.')));
    if (tempUsers)
      merge(
        ctx,
        ctx.ensureColl('system.users', 'admin'),
        temp(tempUsers),
        db,
        drop,
        (js) => `${js.db}.${js.user}`,
      );
    if (tempRoles)
      merge(
        ctx,
        ctx.ensureColl('system.roles', 'admin'),
        temp(tempRoles),
        db,
        drop,
        (js) => `${js.db}.${js.role}`,
      );
    return { ok: 1 };
  },
};
