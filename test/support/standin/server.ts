/**
 * A MongoDB stand-in for tests: speaks the wire protocol on 127.0.0.1 and
 * behaves like a single-node replica set (primary) closely enough for the
 * engine's integration tests through the official driver. Test
 * infrastructure only; never imported by engine/, electron/ or renderer/.
 */
import { Binary, ObjectId, type Document } from 'bson';
import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { Ctx, clusterTimeFields, type ConnState, type ServerState } from './context.js';
import { adminCommands } from './commands-admin.js';
import { crudCommands, type Handler } from './commands-crud.js';
import { ddlCommands } from './commands-ddl.js';
import { userCommands } from './commands-users.js';
import { Cursors } from './cursors.js';
import { E, MongoError } from './errors.js';
import { Oplog } from './oplog.js';
import { ScramServer, type ScramConversation } from './scram.js';
import { Store } from './store.js';
import { canFind, type RoleRef } from './roles.js';
import { OP_MSG, OP_QUERY, opMsgReply, opReply, parseMessage, serializeReply } from './wire.js';

export interface StandinOptions {
  replSetName?: string;
  /** The oplog keeps at most this many entries (oldest trimmed), so tests can make it roll over. */
  oplogMaxEntries?: number;
  /** The oplog's size cap in bytes (MongoDB's is at least 990 MB; tests use small ones). */
  oplogMaxBytes?: number;
  port?: number;
  /**
   * Enables SCRAM-SHA-256 authentication with this one user (in admin), with
   * these roles (root by default); reads are refused as mongod refuses them.
   */
  auth?: { username: string; password: string; roles?: RoleRef[] };
  /** Transactions above this many bytes of operations are logged as partialTxn chains (mongod: 16 MB). */
  txnSplitBytes?: number;
  /** Periodic no-op oplog entries, as MongoDB writes every 10 s; 0 disables. */
  noopIntervalMs?: number;
  version?: string;
  /** Present as a standalone mongod or a mongos instead of a replica-set primary (for refusal paths). */
  topology?: 'replicaSet' | 'standalone' | 'sharded';
  /** Serve TLS with this certificate; with `requireClientCert`, clients must present one signed by `ca`. */
  tls?: { cert: string; key: string; ca?: string; requireClientCert?: boolean };
  /**
   * Secondary members, each on its own port, serving the same data (no
   * replication lag). Like mongod they refuse writes, and refuse reads
   * unless the driver sent a non-primary read preference.
   */
  secondaries?: number;
  /**
   * How time-series buckets are written: `uncompressed` (control.version 1, as mongod 5.0-7.x;
   * the default) or `compressed` (BSONColumn columns, control.version 2, 3 after an out-of-order
   * measurement, as mongod 8.0 writes them).
   */
  timeseriesBuckets?: 'uncompressed' | 'compressed';
}

export interface Faults {
  /** Closes every open connection (the driver sees a network error). */
  dropConnections(): void;
  /** Stops accepting connections for `ms` (connection refused), dropping open ones. */
  refuseFor(ms: number): Promise<void>;
  /** Accepts and reads, but answers nothing for `ms`. */
  stall(ms: number): void;
  /** Same data, new process: connections, cursors and sessions are gone, a new topologyVersion. */
  restart(): Promise<void>;
  /** Drops oplog entries older than ts (the oplog rolled over). */
  trimOplogTo(ts: { t: number; i: number }): void;
  /** The DBA rotates the user's password: open connections drop, new ones must use it. */
  changePassword(password: string): void;
}

export interface Standin {
  uri: string;
  port: number;
  host: string;
  state: ServerState;
  faults: Faults;
  /** host:port of each secondary member. */
  secondaryHosts: string[];
  /** How many times each command reached a member (lower-case names). */
  commandsOn(host: string): Record<string, number>;
  stop(): Promise<void>;
}

/** Commands a secondary refuses (NotWritablePrimary), as mongod does. */
const WRITE_COMMANDS = new Set([
  'insert',
  'update',
  'delete',
  'findandmodify',
  'create',
  'drop',
  'dropdatabase',
  'createindexes',
  'dropindexes',
  'collmod',
  'renamecollection',
  'applyops',
  'committransaction',
  'aborttransaction',
  'preparetransaction',
]);
/** Commands that read documents: refused (13) on a database the user's roles cannot read. */
const READ_COMMANDS = new Set(['find', 'aggregate', 'count', 'distinct', 'getmore']);
/** Reads a secondary serves only when the driver allows it ($readPreference other than primary). */
const SECONDARY_OK_READS = new Set([
  'find',
  'aggregate',
  'count',
  'distinct',
  'listcollections',
  'listindexes',
]);

const UNAUTHENTICATED_OK = new Set([
  'hello',
  'ismaster',
  'ping',
  'buildinfo',
  'saslstart',
  'saslcontinue',
  'endsessions',
  'getnonce',
]);

export async function startStandin(opts: StandinOptions = {}): Promise<Standin> {
  const replSetName = opts.replSetName ?? 'rs0';
  const state: ServerState = {
    store: new Store(),
    oplog: new Oplog(opts.oplogMaxEntries ?? 1_000_000, opts.oplogMaxBytes ?? 990 * 1024 * 1024),
    replSetName,
    host: '127.0.0.1:0',
    version: opts.version ?? '8.0.4',
    processId: new ObjectId(),
    startedAt: Date.now(),
    txns: new Map(),
    auth: opts.auth ? { ...opts.auth, roles: opts.auth.roles ?? [{ role: 'root', db: 'admin' }] } : null,
    txnSplitBytes: opts.txnSplitBytes ?? 16 * 1024 * 1024,
    compressedBuckets: opts.timeseriesBuckets === 'compressed',
    topology: opts.topology ?? 'replicaSet',
    secondaryHosts: [],
    commandsByMember: new Map(),
  };
  let scram = opts.auth ? new ScramServer(opts.auth.username, opts.auth.password) : null;
  let cursors = new Cursors();
  const sockets = new Set<Socket>();
  const conversations = new Map<number, ScramConversation>();
  let connCounter = 0;
  let stalledUntil = 0;
  let server: Server;
  let stopped = false;
  const pendingHellos = new Set<() => void>();

  const handlers: Record<string, Handler> = {
    ...crudCommands,
    ...ddlCommands,
    ...adminCommands,
    ...userCommands,
  };

  /**
   * mongod's `failCommand` fail point (a test command of mongod, enableTestCommands): the listed
   * commands fail with `errorCode` while the point is on: `alwaysOn`, `{times: n}` (the next n), or
   * `{skip: n}` (on after the next n), optionally only on `namespace`; `off` clears it.
   */
  let failPoint: {
    commands: Set<string>;
    code: number;
    namespace: string | null;
    times: number | null;
    skip: number;
  } | null = null;
  handlers.configurefailpoint = (ctx) => {
    if (ctx.db !== 'admin')
      throw E.unauthorized('configureFailPoint may only be run against the admin database.');
    if (ctx.cmd.configureFailPoint !== 'failCommand')
      throw E.badValue(`Unknown fail point: ${String(ctx.cmd.configureFailPoint)}`);
    const mode = ctx.cmd.mode as unknown;
    const data = (ctx.cmd.data as Document | undefined) ?? {};
    if (mode === 'off') failPoint = null;
    else
      failPoint = {
        commands: new Set((data.failCommands as string[] | undefined) ?? []),
        code: Number(data.errorCode ?? 1),
        namespace: typeof data.namespace === 'string' ? data.namespace : null,
        times: mode === 'alwaysOn' ? null : Number((mode as Document).times ?? Infinity),
        skip: mode === 'alwaysOn' ? 0 : Number((mode as Document).skip ?? 0),
      };
    return { count: 0, ok: 1 };
  };
  function checkFailPoint(name: string, cmd: Document, db: string): void {
    const fp = failPoint;
    if (!fp || !fp.commands.has(name)) return;
    if (fp.namespace !== null && fp.namespace !== `${db}.${String(cmd[name])}`) return;
    if (fp.skip > 0) {
      fp.skip--;
      return;
    }
    if (fp.times !== null) {
      if (fp.times <= 0) return;
      fp.times--;
    }
    throw new MongoError(fp.code, 'FailPoint', "Failing command via 'failCommand' failpoint");
  }

  handlers.saslstart = (ctx) => {
    if (!scram) throw E.authFailed();
    const payload = Buffer.from((ctx.cmd.payload as Binary).buffer).toString('utf8');
    const { conv, reply } = scram.start(payload);
    const id = ++connCounter;
    conversations.set(id, conv);
    return { conversationId: id, done: false, payload: new Binary(Buffer.from(reply)), ok: 1 };
  };
  handlers.saslcontinue = (ctx) => {
    const conv = conversations.get(Number(ctx.cmd.conversationId));
    if (!scram || !conv) throw E.authFailed();
    const payload = Buffer.from((ctx.cmd.payload as Binary).buffer).toString('utf8');
    if (conv.step === 2) {
      const final = scram.finish(conv, payload);
      if (!final) {
        conversations.delete(Number(ctx.cmd.conversationId));
        throw E.authFailed();
      }
      conv.step = 3;
      ctx.conn.authenticated = true;
      return {
        conversationId: ctx.cmd.conversationId,
        done: true,
        payload: new Binary(Buffer.from(final)),
        ok: 1,
      };
    }
    conversations.delete(Number(ctx.cmd.conversationId));
    return {
      conversationId: ctx.cmd.conversationId,
      done: true,
      payload: new Binary(Buffer.alloc(0)),
      ok: 1,
    };
  };

  async function runCommand(
    cmd: Document,
    db: string,
    conn: ConnState,
    raw: Pick<
      ReturnType<typeof parseMessage>,
      'rawDocuments' | 'rawApplyOpsO' | 'rawUpdates' | 'rawFamUpdate'
    > = {},
  ): Promise<Buffer> {
    const name = Object.keys(cmd)[0] ?? '';
    const lower = name.toLowerCase();
    const counts = state.commandsByMember.get(conn.member) ?? new Map<string, number>();
    state.commandsByMember.set(conn.member, counts.set(lower, (counts.get(lower) ?? 0) + 1));
    try {
      const handler = handlers[lower];
      if (!handler) throw E.commandNotFound(name);
      if (conn.member !== state.host) {
        if (WRITE_COMMANDS.has(lower)) throw E.notWritablePrimary();
        const mode = (cmd.$readPreference as { mode?: string } | undefined)?.mode ?? 'primary';
        if (SECONDARY_OK_READS.has(lower) && mode === 'primary') throw E.notPrimaryNoSecondaryOk();
      }
      if (state.auth && !conn.authenticated && !UNAUTHENTICATED_OK.has(lower)) {
        throw E.unauthorized(`Command ${name} requires authentication`);
      }
      if (state.auth && READ_COMMANDS.has(lower) && !canFind(state.auth.roles, db)) {
        throw E.unauthorized(
          `not authorized on ${db} to execute command { ${name}: ${JSON.stringify(String(cmd[name]))}, $db: "${db}" }`,
        );
      }
      // Awaitable hello (streaming SDAM): wait until the topology changes or maxAwaitTimeMS passes.
      if ((lower === 'hello' || lower === 'ismaster') && cmd.topologyVersion && cmd.maxAwaitTimeMS) {
        await new Promise<void>((resolve) => {
          const t = setTimeout(done, Number(cmd.maxAwaitTimeMS));
          function done() {
            clearTimeout(t);
            pendingHellos.delete(done);
            resolve();
          }
          pendingHellos.add(done);
        });
      }
      checkFailPoint(name, cmd, db);
      const result = await handler(
        new Ctx(state, conn, cmd, db, raw.rawDocuments, raw.rawApplyOpsO, raw.rawUpdates, raw.rawFamUpdate),
        cursors,
      );
      if (Buffer.isBuffer(result)) return result;
      return serializeReply({ ...result, ...clusterTimeFields(state) });
    } catch (err) {
      if (err instanceof MongoError) {
        return serializeReply({
          ok: 0,
          errmsg: err.message,
          code: err.code,
          codeName: err.codeName,
          ...err.extra,
          ...clusterTimeFields(state),
        });
      }
      return serializeReply({
        ok: 0,
        errmsg: String((err as Error)?.message ?? err),
        code: 1,
        codeName: 'InternalError',
      });
    }
  }

  function onConnection(sock: Socket, member = state.host): void {
    if (stopped) return void sock.destroy();
    sockets.add(sock);
    sock.setNoDelay(true);
    const conn: ConnState = { id: ++connCounter, authenticated: false, member };
    // The chunks of the message being received, joined once it is whole: joining at every chunk
    // copied a 16 MB insert batch (256 chunks of 64 KiB) about 128 times over.
    let chunks: Buffer[] = [];
    let have = 0;
    let chain = Promise.resolve();
    sock.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      have += chunk.length;
      while (have >= 4) {
        if (chunks[0]!.length < 4) chunks = [Buffer.concat(chunks, have)];
        const len = chunks[0]!.readInt32LE(0);
        if (len < 16) return void sock.destroy(); // shorter than a message header: not the wire protocol
        if (have < len) break;
        const all = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, have);
        const msg = all.subarray(0, len);
        chunks = all.length > len ? [all.subarray(len)] : [];
        have = all.length - len;
        chain = chain.then(() => handleMessage(sock, conn, Buffer.from(msg)));
      }
    });
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => sockets.delete(sock));
  }

  async function handleMessage(sock: Socket, conn: ConnState, msg: Buffer): Promise<void> {
    const wait = stalledUntil - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    let incoming;
    try {
      incoming = parseMessage(msg);
    } catch {
      sock.destroy();
      return;
    }
    const db =
      incoming.opCode === OP_QUERY
        ? (incoming.fullCollectionName ?? 'admin.$cmd').split('.')[0]!
        : String(incoming.command.$db ?? 'admin');
    const body = await runCommand(incoming.command, db, conn, incoming);
    if (incoming.moreToCome || sock.destroyed) return;
    sock.write(
      incoming.opCode === OP_MSG ? opMsgReply(incoming.requestId, body) : opReply(incoming.requestId, body),
    );
  }

  function makeServer(onSocket: (sock: Socket) => void): Server {
    const srv = opts.tls
      ? createTlsServer(
          {
            cert: opts.tls.cert,
            key: opts.tls.key,
            ca: opts.tls.ca,
            requestCert: !!opts.tls.requireClientCert,
            rejectUnauthorized: !!opts.tls.requireClientCert,
          },
          onSocket,
        )
      : createServer(onSocket);
    // A failed TLS handshake is the client's problem; the server keeps running.
    srv.on('tlsClientError', () => undefined);
    return srv;
  }

  function listenOn(srv: Server, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      srv.once('error', reject);
      srv.listen(port, '127.0.0.1', () => resolve((srv.address() as AddressInfo).port));
    });
  }

  function listen(port: number): Promise<number> {
    server = makeServer((sock) => onConnection(sock));
    return listenOn(server, port);
  }

  const closeServer = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      sockets.clear();
      server.close(() => resolve());
    });

  const port = await listen(opts.port ?? 0);
  state.host = `127.0.0.1:${port}`;
  const secondaryServers: Server[] = [];
  for (let k = 0; k < (opts.secondaries ?? 0); k++) {
    let host = '';
    const srv = makeServer((sock) => onConnection(sock, host));
    host = `127.0.0.1:${await listenOn(srv, 0)}`;
    state.secondaryHosts.push(host);
    secondaryServers.push(srv);
  }
  // A replica set's oplog starts with this no-op (see dump_with_noop_in_oplog in the fixtures).
  state.oplog.append({ op: 'n', ns: '', o: { msg: 'initiating set' } });

  const noopTimer =
    (opts.noopIntervalMs ?? 10_000) > 0
      ? setInterval(
          () => state.oplog.append({ op: 'n', ns: '', o: { msg: 'periodic noop' } }),
          opts.noopIntervalMs ?? 10_000,
        )
      : null;
  noopTimer?.unref();

  const faults: Faults = {
    dropConnections() {
      for (const s of sockets) s.destroy();
      sockets.clear();
    },
    async refuseFor(ms) {
      await closeServer();
      await new Promise((r) => setTimeout(r, ms));
      if (!stopped) await listen(port);
    },
    stall(ms) {
      stalledUntil = Date.now() + ms;
    },
    async restart() {
      await closeServer();
      cursors = new Cursors();
      state.txns.clear();
      conversations.clear();
      state.processId = new ObjectId();
      for (const h of [...pendingHellos]) h();
      if (!stopped) await listen(port);
    },
    trimOplogTo(ts) {
      state.oplog.trimTo(ts);
    },
    changePassword(password) {
      if (!opts.auth) throw new Error('the stand-in was started without auth');
      scram = new ScramServer(opts.auth.username, password);
      conversations.clear();
      faults.dropConnections();
    },
  };

  return {
    uri: `mongodb://${opts.auth ? `${encodeURIComponent(opts.auth.username)}:${encodeURIComponent(opts.auth.password)}@` : ''}127.0.0.1:${port}/${state.topology === 'replicaSet' ? `?replicaSet=${replSetName}` : '?directConnection=true'}${opts.tls ? '&tls=true' : ''}`,
    port,
    host: state.host,
    state,
    faults,
    secondaryHosts: state.secondaryHosts,
    commandsOn: (host) => Object.fromEntries(state.commandsByMember.get(host) ?? []),
    async stop() {
      stopped = true;
      if (noopTimer) clearInterval(noopTimer);
      for (const h of [...pendingHellos]) h();
      await closeServer();
      await Promise.all(secondaryServers.map((srv) => new Promise((r) => srv.close(r))));
    },
  };
}
