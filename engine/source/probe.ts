/**
 * `source test`: what a DBA needs to know before trusting a backup job with a
 * deployment: reachable, authenticated, topology, server version, the source
 * oplog window, and the privileges a backup needs.
 */
import type { Document, MongoClient, Timestamp } from 'mongodb';
import { ApiError } from '../errors.js';
import type { ConnectionConfig } from './connection-config.js';
import { connectSource } from './connect.js';

export type TopologyKind = 'replicaSet' | 'standalone' | 'sharded';

export interface ProbeReport {
  reachable: true;
  authenticated: boolean;
  user: string | null;
  topology: { kind: TopologyKind; setName: string | null; members: string[]; primary: string | null };
  serverVersion: string;
  oplog: { first: { t: number; i: number }; last: { t: number; i: number }; hours: number } | null;
  privileges: { sufficient: boolean; checked: 'roles' | 'authentication disabled'; missing: string[] };
  pitr: { enabled: boolean; reason: string | null };
  warnings: string[];
}

const asTs = (ts: Timestamp) => ({ t: ts.high, i: ts.low });

/**
 * What a backup needs, by mongod's built-in roles (builtin_roles.yml): find on
 * every database and on local.oplog.rs. backup and root give both;
 * readAnyDatabase covers every database except local and config, so it needs
 * clusterMonitor (or clusterAdmin, which includes it) or read on local too.
 */
const BOTH = new Set(['backup', 'root', '__system']);
const ALL_DATABASES = new Set(['readAnyDatabase', 'readWriteAnyDatabase']);
const LOCAL = new Set(['clusterMonitor', 'clusterAdmin']);
const ON_LOCAL = new Set(['read', 'readWrite', 'dbOwner']);

export function missingPrivileges(roles: { role: string; db: string }[]): string[] {
  const admin = new Set(roles.filter((r) => r.db === 'admin').map((r) => r.role));
  if ([...admin].some((r) => BOTH.has(r))) return [];
  const missing: string[] = [];
  if (![...admin].some((r) => ALL_DATABASES.has(r)))
    missing.push('find on all databases (grant the "backup" role)');
  if (![...admin].some((r) => LOCAL.has(r)) && !roles.some((r) => r.db === 'local' && ON_LOCAL.has(r.role)))
    missing.push('find on local.oplog.rs (grant the "backup" role, or "clusterMonitor" or read on local)');
  return missing;
}

const isUnauthorized = (err: unknown) => (err as { code?: number })?.code === 13;

export async function probeClient(client: MongoClient, expectUser: string | null): Promise<ProbeReport> {
  const admin = client.db('admin');
  const hello = await admin.command({ hello: 1 });
  const build = await admin.command({ buildInfo: 1 });
  const kind: TopologyKind =
    hello.msg === 'isdbgrid' ? 'sharded' : hello.setName ? 'replicaSet' : 'standalone';
  const warnings: string[] = [];

  const status = (await admin.command({ connectionStatus: 1 })) as Document;
  const users = (status.authInfo?.authenticatedUsers ?? []) as { user: string }[];
  const roles = (status.authInfo?.authenticatedUserRoles ?? []) as { role: string; db: string }[];
  let privileges: ProbeReport['privileges'];
  if (users.length === 0) {
    privileges = { sufficient: true, checked: 'authentication disabled', missing: [] };
    warnings.push('The server runs without authentication; anyone who can reach it can read and change it.');
  } else {
    const missing = missingPrivileges(roles);
    privileges = { sufficient: missing.length === 0, checked: 'roles', missing };
  }

  let oplog: ProbeReport['oplog'] = null;
  if (kind === 'replicaSet') {
    try {
      const coll = client.db('local').collection('oplog.rs');
      const [first] = await coll
        .find({}, { projection: { ts: 1 } })
        .sort({ $natural: 1 })
        .limit(1)
        .toArray();
      const [last] = await coll
        .find({}, { projection: { ts: 1 } })
        .sort({ $natural: -1 })
        .limit(1)
        .toArray();
      if (first && last) {
        const f = asTs(first.ts as Timestamp);
        const l = asTs(last.ts as Timestamp);
        oplog = { first: f, last: l, hours: Math.round(((l.t - f.t) / 3600) * 100) / 100 };
      }
    } catch (err) {
      // The user may not read the oplog: that is a missing privilege, not a failed probe.
      if (!isUnauthorized(err)) throw err;
      if (privileges.sufficient || !privileges.missing.some((m) => m.includes('local.oplog.rs')))
        privileges = {
          sufficient: false,
          checked: privileges.checked,
          missing: [...privileges.missing, 'find on local.oplog.rs (the server refused it)'],
        };
    }
  }

  if (kind === 'replicaSet' && oplog && oplog.hours < 24) {
    warnings.push(
      `The source oplog covers only ${oplog.hours} h; if capture stops for longer, a gap follows.`,
    );
  }

  return {
    reachable: true,
    authenticated: users.length > 0,
    user: users[0]?.user ?? expectUser,
    topology: {
      kind,
      setName: (hello.setName as string | undefined) ?? null,
      members: (hello.hosts as string[] | undefined) ?? [],
      primary: (hello.primary as string | undefined) ?? null,
    },
    serverVersion: String(build.version),
    oplog,
    privileges,
    pitr:
      kind === 'replicaSet'
        ? { enabled: true, reason: null }
        : {
            enabled: false,
            reason:
              kind === 'standalone'
                ? 'A standalone server has no oplog: only snapshots can be taken, no point-in-time restore.'
                : 'Sharded clusters are not supported yet.',
          },
    warnings,
  };
}

export async function probeSource(
  config: ConnectionConfig,
  password: string | null,
  timeoutMs = 5000,
): Promise<ProbeReport> {
  const client = await connectSource(config, password, timeoutMs);
  try {
    return await probeClient(client, config.username);
  } finally {
    await client.close();
  }
}

/** A sharded cluster is refused with a clear message until supported. */
export function assertSupported(report: ProbeReport): void {
  if (report.topology.kind === 'sharded') {
    throw new ApiError(
      'UNSUPPORTED',
      'This is a sharded cluster (mongos). Sharded clusters are not supported yet; add each shard replica set as its own source only if you accept that the backups will not be consistent across shards.',
      {
        topology: report.topology,
      },
    );
  }
}
