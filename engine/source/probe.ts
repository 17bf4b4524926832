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

/** Roles that include find on every database and on local.oplog.rs. */
const SUFFICIENT_ROLES = new Set(['backup', 'root', 'readAnyDatabase', '__system', 'clusterAdmin']);

export async function probeClient(client: MongoClient, expectUser: string | null): Promise<ProbeReport> {
  const admin = client.db('admin');
  const hello = await admin.command({ hello: 1 });
  const build = await admin.command({ buildInfo: 1 });
  const kind: TopologyKind =
    hello.msg === 'isdbgrid' ? 'sharded' : hello.setName ? 'replicaSet' : 'standalone';
  const warnings: string[] = [];

  let oplog: ProbeReport['oplog'] = null;
  if (kind === 'replicaSet') {
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
  }

  const status = (await admin.command({ connectionStatus: 1 })) as Document;
  const users = (status.authInfo?.authenticatedUsers ?? []) as { user: string }[];
  const roles = ((status.authInfo?.authenticatedUserRoles ?? []) as { role: string }[]).map((r) => r.role);
  let privileges: ProbeReport['privileges'];
  if (users.length === 0) {
    privileges = { sufficient: true, checked: 'authentication disabled', missing: [] };
    warnings.push('The server runs without authentication; anyone who can reach it can read and change it.');
  } else {
    const ok = roles.some((r) => SUFFICIENT_ROLES.has(r));
    privileges = {
      sufficient: ok,
      checked: 'roles',
      missing: ok ? [] : ['find on all databases and on local.oplog.rs (grant the "backup" role)'],
    };
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
