/**
 * One harness for the stand-in and real MongoDB. Integration tests are
 * written once: `withMongo(async ({uri, kind}) => …)` runs against
 *  - `MONGODB_URI` when set (an existing replica set),
 *  - a single-node replica set started from `MONGOD_BINARY` when set,
 *  - otherwise the in-process stand-in.
 * Tests must not assert stand-in-only behaviour; fault injection exists only
 * on the stand-in, and tests that need it say so with `needsFaults`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { MongoClient } from 'mongodb';
import { startStandin, type Standin, type StandinOptions } from './standin/server.js';
import { tempDir } from './temp-dir.js';

export type MongoKind = 'standin' | 'uri' | 'mongod';

export interface MongoEnv {
  uri: string;
  kind: MongoKind;
  /** Only for the stand-in: fault injection and internals. */
  standin: Standin | null;
}

export const MONGO_KIND: MongoKind = process.env.MONGODB_URI
  ? 'uri'
  : process.env.MONGOD_BINARY
    ? 'mongod'
    : 'standin';

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

async function startMongod(binary: string): Promise<{ uri: string; stop: () => Promise<void> }> {
  const dir = tempDir('mbm-mongod-');
  const port = await freePort();
  const child: ChildProcess = spawn(
    binary,
    [
      '--replSet',
      'rs0',
      '--port',
      String(port),
      '--bind_ip',
      '127.0.0.1',
      '--dbpath',
      dir.path,
      '--oplogSize',
      '64',
      '--quiet',
    ],
    {
      stdio: 'ignore',
    },
  );
  const direct = new MongoClient(`mongodb://127.0.0.1:${port}/?directConnection=true`, {
    serverSelectionTimeoutMS: 30_000,
  });
  await direct.connect();
  await direct
    .db('admin')
    .command({ replSetInitiate: { _id: 'rs0', members: [{ _id: 0, host: `127.0.0.1:${port}` }] } });
  for (let k = 0; k < 300; k++) {
    const hello = await direct.db('admin').command({ hello: 1 });
    if (hello.isWritablePrimary) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  await direct.close();
  return {
    uri: `mongodb://127.0.0.1:${port}/?replicaSet=rs0`,
    stop: async () => {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      dir.remove();
    },
  };
}

export async function withMongo<T>(
  fn: (env: MongoEnv) => Promise<T>,
  standinOptions: StandinOptions = {},
): Promise<T> {
  if (process.env.MONGODB_URI) return fn({ uri: process.env.MONGODB_URI, kind: 'uri', standin: null });
  if (process.env.MONGOD_BINARY) {
    const m = await startMongod(process.env.MONGOD_BINARY);
    try {
      return await fn({ uri: m.uri, kind: 'mongod', standin: null });
    } finally {
      await m.stop();
    }
  }
  const s = await startStandin({ noopIntervalMs: 0, ...standinOptions });
  try {
    return await fn({ uri: s.uri, kind: 'standin', standin: s });
  } finally {
    await s.stop();
  }
}

/** A database name no other test uses (real servers are shared between tests). */
export const uniqueDb = (prefix: string) =>
  `${prefix}_${Date.now().toString(36)}_${Math.floor(Math.random() * 1e6).toString(36)}`;

export const needsFaults = MONGO_KIND !== 'standin';
export const FAULTS_SKIP_MESSAGE =
  'skipped: fault injection needs the stand-in (MONGODB_URI / MONGOD_BINARY is set)';

/**
 * For a suite that shares one server and client: call in beforeAll, and the
 * returned `release` in afterAll.
 */
export async function sharedMongoClient(): Promise<{ client: MongoClient; release: () => Promise<void> }> {
  let ready!: (c: MongoClient) => void;
  let stop!: () => void;
  const started = new Promise<MongoClient>((r) => (ready = r));
  const done = withMongo(async (e) => {
    const client = new MongoClient(e.uri, { serverSelectionTimeoutMS: 10_000 });
    await client.connect();
    ready(client);
    await new Promise<void>((r) => (stop = r));
    await client.close();
  });
  const client = await started;
  return {
    client,
    release: async () => {
      stop();
      await done;
    },
  };
}
