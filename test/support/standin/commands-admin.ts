/** Handshake, status and server commands; applyOps; transactions; cursors' getMore/killCursors. */
import { Long, ObjectId, Timestamp, serialize, type Document } from 'bson';
import { applyOplogUpdate } from '../reference-applier.js';
import { Ctx, type ServerState } from './context.js';
import { abortTransaction, commitTransaction, prepareTransaction } from './transactions.js';
import { deleteStored, insertOne, replaceStored, type Handler } from './commands-crud.js';
import { createCollection, createIndexes, ddlCommands, dropCollection } from './commands-ddl.js';
import { E } from './errors.js';
import { TERM } from './oplog.js';
import { idFirstRaw } from './wire.js';

export const MAX_WIRE_VERSION = 25; // MongoDB 8.0

function opTime(s: ServerState) {
  const last = s.oplog.last();
  const ts = new Timestamp({ t: last?.t ?? Math.floor(s.startedAt / 1000), i: last?.i ?? 1 });
  return { ts, t: Long.fromNumber(TERM), date: new Date((last?.t ?? s.startedAt / 1000) * 1000) };
}

export function helloReply(
  s: ServerState,
  connectionId: number,
  legacy: boolean,
  me: string = s.host,
): Document {
  const primary = me === s.host;
  const common: Document = {
    ...(legacy ? { ismaster: primary } : { isWritablePrimary: primary }),
    helloOk: true,
    topologyVersion: { processId: s.processId, counter: Long.fromNumber(0) },
    maxBsonObjectSize: 16 * 1024 * 1024,
    maxMessageSizeBytes: 48_000_000,
    maxWriteBatchSize: 100_000,
    localTime: new Date(),
    logicalSessionTimeoutMinutes: 30,
    connectionId,
    minWireVersion: 0,
    maxWireVersion: MAX_WIRE_VERSION,
    readOnly: false,
    ok: 1,
  };
  if (s.topology === 'sharded') return { ...common, msg: 'isdbgrid' };
  if (s.topology === 'standalone') return common;
  const op = opTime(s);
  return {
    ...common,
    hosts: [s.host, ...s.secondaryHosts],
    setName: s.replSetName,
    setVersion: 1,
    primary: s.host,
    me,
    ...(primary ? {} : { secondary: true }),
    electionId: new ObjectId('7fffffff0000000000000001'),
    lastWrite: {
      opTime: { ts: op.ts, t: op.t },
      lastWriteDate: op.date,
      majorityOpTime: { ts: op.ts, t: op.t },
      majorityWriteDate: op.date,
    },
  };
}

/** Applies one oplog operation (as mongorestore's replay does) and logs it like a normal write. */
export function applyOp(ctx: Ctx, op: Document, rawO?: Uint8Array): void {
  const ns = op.ns as string;
  const dot = ns.indexOf('.');
  const db = ns.slice(0, dot);
  const name = ns.slice(dot + 1);
  switch (op.op) {
    case 'n':
      return;
    case 'i': {
      const coll = ctx.ensureColl(name, db);
      const doc = op.o as Document;
      const existing = coll.get(doc._id);
      // applyOps upserts inserts (alwaysUpsert), so replaying a range twice is harmless.
      if (existing) replaceStored(ctx, coll, existing, idFirstRaw(rawO ?? serialize(doc)), true);
      else insertOne(ctx, coll, doc, rawO);
      return;
    }
    case 'u': {
      const coll = ctx.ensureColl(name, db);
      const id = (op.o2 as Document)._id;
      const existing = coll.get(id);
      const o = rawO ?? serialize(op.o as Document);
      const replacement =
        (op.o as Document).$v === undefined && !Object.keys(op.o as Document).some((k) => k.startsWith('$'));
      if (!existing) {
        // An upserted replacement is stored as sent (mongod keeps its bytes; _id comes first).
        if (replacement)
          insertOne(
            ctx,
            coll,
            { _id: id, ...(op.o as Document) },
            (op.o as Document)._id !== undefined ? o : undefined,
          );
        return; // a diff of a document that is gone: MongoDB skips it in oplog application
      }
      replaceStored(ctx, coll, existing, applyOplogUpdate(existing.raw, o), replacement);
      return;
    }
    case 'd': {
      const coll = ctx.coll(name, db);
      const existing = coll?.get((op.o as Document)._id);
      if (coll && existing) deleteStored(ctx, coll, existing);
      return;
    }
    case 'c': {
      const o = op.o as Document;
      const cmdName = Object.keys(o)[0]!;
      if (cmdName === 'create') {
        if (!ctx.server.store.collection(db, o.create as string)) {
          const { create: _c, idIndex: _i, ...options } = o;
          void _c;
          void _i;
          createCollection(ctx, db, o.create as string, options);
        }
      } else if (cmdName === 'drop') dropCollection(ctx, db, o.drop as string);
      else if (cmdName === 'createIndexes') {
        const { createIndexes: coll, ...spec } = o;
        createIndexes(ctx, ctx.ensureColl(coll as string, db), [spec], true);
      } else if (cmdName === 'applyOps') for (const inner of o.applyOps as Document[]) applyOp(ctx, inner);
      else {
        const lower = cmdName.toLowerCase();
        const h = ddlCommands[lower];
        if (!h) throw E.badValue(`applyOps: unsupported command ${cmdName}`);
        void h(new Ctx(ctx.server, ctx.conn, o, db), null as never);
      }
      return;
    }
    default:
      throw E.badValue(`applyOps: unknown op type ${String(op.op)}`);
  }
}

export const adminCommands: Record<string, Handler> = {
  hello: (ctx) => ({ ...helloReply(ctx.server, ctx.conn.id, false, ctx.conn.member), ...saslMechs(ctx) }),
  ismaster: (ctx) => ({ ...helloReply(ctx.server, ctx.conn.id, true, ctx.conn.member), ...saslMechs(ctx) }),
  ping: () => ({ ok: 1 }),
  buildinfo: (ctx) => ({
    version: ctx.server.version,
    gitVersion: 'stand-in',
    versionArray: [...ctx.server.version.split('.').map(Number), 0],
    bits: 64,
    maxBsonObjectSize: 16 * 1024 * 1024,
    storageEngines: ['wiredTiger'],
    ok: 1,
  }),
  endsessions: () => ({ ok: 1 }),
  killsessions: () => ({ ok: 1 }),
  refreshsessions: () => ({ ok: 1 }),
  whatsmyuri: (ctx) => ({ you: `127.0.0.1:${ctx.conn.id}`, ok: 1 }),
  getparameter(ctx) {
    const out: Document = { ok: 1 };
    if (ctx.cmd.featureCompatibilityVersion)
      out.featureCompatibilityVersion = { version: ctx.server.version.split('.').slice(0, 2).join('.') };
    // The authorization schema of every server since 3.0 (SCRAM users): mongorestore asks before users.
    if (ctx.cmd.authSchemaVersion) out.authSchemaVersion = 5;
    return out;
  },
  serverstatus(ctx) {
    const s = ctx.server;
    return {
      host: s.host,
      version: s.version,
      process: 'mongod',
      pid: Long.fromNumber(process.pid),
      uptime: (Date.now() - s.startedAt) / 1000,
      localTime: new Date(),
      repl: {
        setName: s.replSetName,
        isWritablePrimary: true,
        hosts: [s.host],
        primary: s.host,
        me: s.host,
        rbid: 1,
      },
      ok: 1,
    };
  },
  replsetgetstatus(ctx) {
    const s = ctx.server;
    const op = opTime(s);
    return {
      set: s.replSetName,
      date: new Date(),
      myState: 1,
      term: Long.fromNumber(TERM),
      optimes: {
        lastCommittedOpTime: { ts: op.ts, t: op.t },
        appliedOpTime: { ts: op.ts, t: op.t },
        durableOpTime: { ts: op.ts, t: op.t },
        lastAppliedWallTime: op.date,
      },
      members: [
        {
          _id: 0,
          name: s.host,
          health: 1,
          state: 1,
          stateStr: 'PRIMARY',
          uptime: Math.floor((Date.now() - s.startedAt) / 1000),
          optime: { ts: op.ts, t: op.t },
          optimeDate: op.date,
          self: true,
        },
      ],
      ok: 1,
    };
  },
  dbstats(ctx) {
    const colls = [...(ctx.server.store.dbs.get(ctx.db)?.values() ?? [])];
    const dataSize = colls.reduce((n, c) => n + c.dataSize(), 0);
    const objects = colls.reduce((n, c) => n + c.docs.size, 0);
    return {
      db: ctx.db,
      collections: colls.length,
      views: colls.filter((c) => c.type === 'view').length,
      objects,
      dataSize,
      storageSize: dataSize,
      indexes: colls.reduce((n, c) => n + c.indexes.length, 0),
      ok: 1,
    };
  },
  collstats(ctx) {
    const coll = ctx.coll(ctx.cmd.collStats as string);
    if (!coll) throw E.nsNotFound(`Collection [${ctx.db}.${String(ctx.cmd.collStats)}] not found.`);
    const size = coll.dataSize();
    return {
      ns: coll.ns,
      count: coll.docs.size,
      size,
      storageSize: size,
      avgObjSize: coll.docs.size ? Math.round(size / coll.docs.size) : 0,
      nindexes: coll.indexes.length,
      capped: !!coll.options.capped,
      ok: 1,
    };
  },
  applyops(ctx) {
    const ops = (ctx.cmd.applyOps ?? []) as Document[];
    const results: boolean[] = [];
    for (const [k, op] of ops.entries()) {
      applyOp(ctx, op, ctx.rawApplyOpsO?.[k]);
      results.push(true);
    }
    return { applied: ops.length, results, ok: 1 };
  },
  committransaction(ctx) {
    const t = ctx.txn;
    if (!t) throw E.noSuchTransaction('No transaction to commit.');
    commitTransaction(ctx.server, t, ctx.cmd.commitTimestamp);
    return { ok: 1 };
  },
  aborttransaction(ctx) {
    const t = ctx.txn;
    if (t) abortTransaction(ctx.server, t);
    return { ok: 1 };
  },
  /** As on a replica-set mongod (what a shard does in a cross-shard commit; tests use it to hold a transaction prepared). */
  preparetransaction(ctx) {
    const t = ctx.txn;
    if (!t) throw E.noSuchTransaction('No transaction to prepare.');
    return { prepareTimestamp: prepareTransaction(ctx.server, t), ok: 1 };
  },
  getmore: (ctx, cursors) =>
    cursors.getMore(
      ctx.server.oplog,
      ctx.cmd.getMore as Long,
      ctx.cmd.collection as string,
      ctx.db,
      ctx.cmd.batchSize as number | undefined,
      ctx.cmd.maxTimeMS as number | undefined,
      ctx.extra(),
    ),
  killcursors(ctx, cursors) {
    const { killed, notFound } = cursors.kill((ctx.cmd.cursors ?? []) as Long[]);
    return { cursorsKilled: killed, cursorsNotFound: notFound, cursorsAlive: [], cursorsUnknown: [], ok: 1 };
  },
  connectionstatus(ctx) {
    const user =
      ctx.server.auth && ctx.conn.authenticated ? [{ user: ctx.server.auth.username, db: 'admin' }] : [];
    return {
      authInfo: {
        authenticatedUsers: user,
        authenticatedUserRoles: user.length ? ctx.server.auth!.roles : [],
      },
      ok: 1,
    };
  },
};

function saslMechs(ctx: Ctx): Document {
  return ctx.cmd.saslSupportedMechs ? { saslSupportedMechs: ['SCRAM-SHA-256'] } : {};
}
