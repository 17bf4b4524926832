/**
 * Which built-in roles let a user read a database, as mongod grants them
 * (src/mongo/db/auth/builtin_roles.yml): readAnyDatabase covers every
 * database except local and config; local (and so local.oplog.rs) is read by
 * backup, clusterMonitor (and clusterAdmin, which includes it), root, or a
 * read role granted on local itself. Only reads are modelled.
 */
export interface RoleRef {
  role: string;
  db: string;
}

/** admin roles with find on every normal database. */
const ANY_NORMAL = new Set([
  'readAnyDatabase',
  'readWriteAnyDatabase',
  'backup',
  '__queryableBackup',
  'root',
  '__system',
]);
/** admin roles with find on local. */
const LOCAL = new Set(['backup', '__queryableBackup', 'clusterMonitor', 'clusterAdmin', 'root', '__system']);
/** admin roles with find on config. */
const CONFIG = new Set([...LOCAL, 'clusterManager']);
/** Database roles that include find on their own database. */
const OWN_DB = new Set(['read', 'readWrite', 'dbOwner']);

export function canFind(roles: RoleRef[], db: string): boolean {
  const adminRoles = roles.filter((r) => r.db === 'admin').map((r) => r.role);
  if (roles.some((r) => r.db === db && OWN_DB.has(r.role))) return true;
  if (db === 'local') return adminRoles.some((r) => LOCAL.has(r));
  if (db === 'config') return adminRoles.some((r) => CONFIG.has(r));
  return adminRoles.some((r) => ANY_NORMAL.has(r));
}
