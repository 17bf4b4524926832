/**
 * Users and roles of a restore (`usersRoles`): admin.system.users and
 * admin.system.roles as they were at the point (the snapshot's copy, then the
 * oplog's writes to them through the replay core), restricted to the users
 * and roles of the restored databases and renamed with them, then put on the
 * target the way mongorestore does: into temporary admin collections, merged
 * by mongod's `_mergeAuthzCollections` (a user's stored credentials cannot be
 * given to createUser, and mongod refuses direct writes to the authorization
 * collections for a restore). Without `drop` an existing user or role is left
 * as it is (mongod's rule for mongorestore); with `drop` each restored
 * database's users and roles become exactly the backup's.
 */
import { deserialize, serialize, type Document } from 'bson';
import { MongoServerError, type MongoClient } from 'mongodb';
import { ApiError } from '../errors.js';
import { toDriverDocument } from '../mongo/driver-document.js';
import { DocBuilder, T, elements, field, readString, stringElement, subDocument } from '../oplog/bson-raw.js';
import type { NamespaceFilter } from '../oplog/namespace-selection.js';
import type { EffectiveOp, ReplaySink } from './effective-op.js';
import type { OfflineState } from './offline-state.js';

export const USERS_NS = 'admin.system.users';
export const ROLES_NS = 'admin.system.roles';
const TEMP_USERS = '__mbm_tempusers';
const TEMP_ROLES = '__mbm_temproles';

const dbOf = (ns: string) => ns.slice(0, ns.indexOf('.'));
const isAuthz = (ns: string) => ns === USERS_NS || ns === ROLES_NS;

/** Passes on only what touches admin.system.users / roles (the rest of the state is not kept). */
export class AuthzOnly implements ReplaySink {
  constructor(private readonly state: OfflineState) {}
  apply(op: EffectiveOp): void {
    if ('ns' in op ? isAuthz(op.ns) : op.op === 'dropDatabase' ? op.db === 'admin' : false)
      this.state.apply(op);
  }
}

/**
 * Where each database's users and roles go: null when the database is not
 * restored; otherwise the database its restored collections went to (one,
 * or the refusal names the split), or its rename when it has none.
 */
export function authzDatabaseMap(
  selection: NamespaceFilter,
  restored: { source: string; target: string }[],
): (db: string) => string | null {
  const targets = new Map<string, Set<string>>();
  for (const r of restored) {
    const set = targets.get(dbOf(r.source)) ?? new Set<string>();
    set.add(dbOf(r.target));
    targets.set(dbOf(r.source), set);
  }
  return (db) => {
    if (!selection.keepsDb(db)) return null;
    const to = targets.get(db);
    if (!to || to.size === 0) return dbOf(selection.rename(`${db}.system.users`));
    if (to.size > 1)
      throw new ApiError(
        'INVALID_INPUT',
        `The users and roles of ${db} cannot follow its collections into several databases (${[...to].join(', ')}): rename the whole database, or restore without users and roles.`,
      );
    return [...to][0]!;
  };
}

/** A role reference `{role, db}` array with each db renamed (roles of databases not restored keep theirs). */
function renameRoleRefs(doc: Buffer, name: string, rename: (db: string) => string): Buffer | null {
  const e = field(doc, name);
  if (!e || e.type !== T.array) return null;
  const arr = deserialize(subDocument(doc, e), { promoteValues: false }) as Record<string, Document>;
  const list = Object.values(arr).map((r) => ({ ...r, db: typeof r.db === 'string' ? rename(r.db) : r.db }));
  return Buffer.from(serialize({ [name]: list })).subarray(4, -1);
}

/** Role privileges with `resource.db` renamed ("" means any database and stays). */
function renamePrivileges(doc: Buffer, rename: (db: string) => string): Buffer | null {
  const e = field(doc, 'privileges');
  if (!e || e.type !== T.array) return null;
  const arr = deserialize(subDocument(doc, e), { promoteValues: false }) as Record<string, Document>;
  const list = Object.values(arr).map((p) => {
    const res = p.resource as Document | undefined;
    if (!res || typeof res.db !== 'string' || res.db === '') return p;
    return { ...p, resource: { ...res, db: rename(res.db) } };
  });
  return Buffer.from(serialize({ privileges: list })).subarray(4, -1);
}

/**
 * The users or roles to restore, renamed: `_id` "<db>.<name>", `db`, role
 * references and privileges follow their database; every other field keeps
 * its bytes and place. Without a rename a document is returned unchanged.
 */
export function mapAuthzDocuments(
  docs: Iterable<Buffer>,
  kind: 'users' | 'roles',
  target: (db: string) => string | null,
): Buffer[] {
  const nameField = kind === 'users' ? 'user' : 'role';
  const rename = (db: string) => {
    try {
      return target(db) ?? db;
    } catch {
      return db;
    }
  };
  const out: Buffer[] = [];
  for (const doc of docs) {
    const dbEl = field(doc, 'db');
    const nameEl = field(doc, nameField);
    if (!dbEl || dbEl.type !== T.string || !nameEl || nameEl.type !== T.string) continue;
    const db = readString(doc, dbEl);
    const to = target(db);
    if (to === null) continue;
    const name = readString(doc, nameEl);
    const refs = new Set<string>();
    const collect = (f: string) => {
      const e = field(doc, f);
      if (e?.type === T.array)
        for (const r of Object.values(deserialize(subDocument(doc, e)) as Record<string, Document>))
          if (typeof r.db === 'string') refs.add(r.db);
    };
    collect('roles');
    if (kind === 'roles') {
      const p = field(doc, 'privileges');
      if (p?.type === T.array)
        for (const x of Object.values(deserialize(subDocument(doc, p)) as Record<string, Document>)) {
          const d = (x.resource as Document | undefined)?.db;
          if (typeof d === 'string' && d !== '') refs.add(d);
        }
    }
    if (to === db && [...refs].every((r) => rename(r) === r)) {
      out.push(doc);
      continue;
    }
    const b = new DocBuilder();
    for (const e of elements(doc)) {
      if (e.name === '_id') b.append(stringElement('_id', `${to}.${name}`));
      else if (e.name === 'db') b.append(stringElement('db', to));
      else if (e.name === 'roles')
        b.append(renameRoleRefs(doc, 'roles', rename) ?? doc.subarray(e.start, e.end));
      else if (e.name === 'privileges' && kind === 'roles')
        b.append(renamePrivileges(doc, rename) ?? doc.subarray(e.start, e.end));
      else b.appendRange(doc, e.start, e.end);
    }
    out.push(b.finish());
  }
  return out;
}

export interface AuthzRestoreReport {
  users: number;
  roles: number;
  /** The target databases whose users and roles were merged. */
  databases: string[];
  drop: boolean;
}

/** Puts users and roles on the target through temporary admin collections and `_mergeAuthzCollections`. */
export async function restoreUsersAndRoles(
  client: MongoClient,
  users: Buffer[],
  roles: Buffer[],
  databases: string[],
  drop: boolean,
  writeConcern?: Document,
): Promise<AuthzRestoreReport> {
  const admin = client.db('admin');
  const wc = writeConcern ? { writeConcern } : {};
  if (drop) await refuseDroppingOurselves(client, users, databases);
  const fill = async (name: string, docs: Buffer[]) => {
    await admin
      .collection(name)
      .drop()
      .catch((err: unknown) => {
        if (!(err instanceof MongoServerError && err.code === 26)) throw err;
      });
    if (docs.length)
      await admin
        .collection(name)
        .insertMany(docs.map(toDriverDocument), { forceServerObjectId: true, ...wc });
  };
  try {
    await fill(TEMP_USERS, users);
    await fill(TEMP_ROLES, roles);
    // One merge for all databases, unless dropping: then each restored database alone, so that the
    // target's other databases keep their users ("" would mean every database).
    for (const db of drop ? databases : ['']) {
      await admin.command({
        _mergeAuthzCollections: 1,
        tempUsersCollection: `admin.${TEMP_USERS}`,
        tempRolesCollection: `admin.${TEMP_ROLES}`,
        drop,
        db,
        ...wc,
      });
    }
  } catch (err) {
    if (err instanceof MongoServerError)
      throw new ApiError('CONFLICT', `The target refused the users and roles: ${err.message}`, {
        code: err.code ?? null,
      });
    throw err;
  } finally {
    for (const name of [TEMP_USERS, TEMP_ROLES])
      await admin
        .collection(name)
        .drop()
        .catch(() => undefined);
  }
  return { users: users.length, roles: roles.length, databases, drop };
}

/**
 * With drop, each restored database's users become exactly the backup's: a user the restore is
 * logged in as that the backup lacks would be removed under its feet (mongorestore --drop does
 * that). Refused instead, naming it.
 */
async function refuseDroppingOurselves(
  client: MongoClient,
  users: Buffer[],
  databases: string[],
): Promise<void> {
  const status = await client.db('admin').command({ connectionStatus: 1 });
  const me = ((status.authInfo as { authenticatedUsers?: { user: string; db: string }[] } | undefined)
    ?.authenticatedUsers ?? []) as { user: string; db: string }[];
  const kept = new Set(
    users.map((u) => {
      const d = deserialize(u) as { user?: string; db?: string };
      return `${d.db}.${d.user}`;
    }),
  );
  const lost = me.filter((u) => databases.includes(u.db) && !kept.has(`${u.db}.${u.user}`));
  if (lost.length)
    throw new ApiError(
      'CONFLICT',
      `Restoring users and roles with drop would remove ${lost.map((u) => `${u.user}@${u.db}`).join(', ')}, the user this restore is logged in as, which the backup does not have at this point: restore without drop, or as another user. The data is restored; users and roles are not.`,
      { reason: 'WOULD_DROP_RESTORE_USER', users: lost },
    );
}

/** The target's users or roles of these databases, raw, sorted by _id (for validation). */
export async function targetAuthz(
  client: MongoClient,
  kind: 'users' | 'roles',
  databases: string[],
): Promise<Buffer[]> {
  const docs = (await client
    .db('admin')
    .collection(kind === 'users' ? 'system.users' : 'system.roles')
    .find({ db: { $in: databases } }, { raw: true })
    .toArray()) as unknown as Uint8Array[];
  return docs.map((d) => Buffer.from(d));
}

export { isAuthz };
