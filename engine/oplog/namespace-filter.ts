/**
 * Which namespaces a replay writes, as mongorestore --oplogReplay decides:
 * `local.*` (the oplog itself, replication state), `config.*` (sessions,
 * transactions table, caches, index-build bookkeeping; a replica set's
 * sharding metadata is not restorable here since sharded clusters are
 * refused) and `__mdb_internal*` are never replayed; `admin.system.*` only
 * for users and roles, and only when they were asked for.
 */
export interface NamespaceRules {
  usersAndRoles: boolean;
}

const USERS_AND_ROLES = new Set(['system.users', 'system.roles']);

export function splitNamespace(ns: string): { db: string; coll: string } {
  const dot = ns.indexOf('.');
  return dot < 0 ? { db: ns, coll: '' } : { db: ns.slice(0, dot), coll: ns.slice(dot + 1) };
}

export function isReplayedDatabase(db: string): boolean {
  return db !== 'local' && db !== 'config' && !db.startsWith('__mdb_internal');
}

export function isReplayedNamespace(ns: string, rules: NamespaceRules): boolean {
  const { db, coll } = splitNamespace(ns);
  if (!isReplayedDatabase(db)) return false;
  if (db === 'admin' && coll.startsWith('system.')) return rules.usersAndRoles && USERS_AND_ROLES.has(coll);
  return true;
}
