/**
 * The throwaway local `mongod`: an air-gapped workstation often has the
 * binary but no running server, so the engine starts one itself from the
 * binary the user points to (setting `mongodBinary`), restores into it, and
 * stops it on request or when the engine closes (app quit).
 *
 * It runs as a standalone (no --replSet: restore writes with applyOps and
 * `_mergeAuthzCollections`, both served by a standalone), listens on
 * 127.0.0.1 only, on a port the engine picks, with its data directory under
 * the app's data dir (`local-mongod/run-…`), removed when it stops. Only the
 * options every mongod has are passed: --port, --bind_ip, --dbpath.
 *
 * A binary is checked before it is started: it must exist, be an executable
 * file, and answer `--version` as mongod does (first line `db version v…`,
 * which mongod's own tests pin for downstream tools). A mongod that exits
 * during start-up is reported with the tail of what it printed.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { constants as fsConstants } from 'node:fs';
import { access, mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { ApiError } from '../errors.js';

export const LOCAL_MONGOD_DIR = 'local-mongod';
/** What is kept of the process's output, for the report when it exits. */
const LOG_KEEP_BYTES = 64 * 1024;
const LOG_TAIL_LINES = 20;
const VERSION_TIMEOUT_MS = 10_000;
const STOP_GRACE_MS = 30_000;

export type LocalMongodState = 'stopped' | 'starting' | 'running' | 'failed';

export interface LocalMongodStatus {
  state: LocalMongodState;
  binary: string | null;
  version: string | null;
  pid: number | null;
  port: number | null;
  /** The connection string (loopback, directConnection) while it runs. */
  uri: string | null;
  dataDir: string | null;
  startedAt: string | null;
  /** Why the last start failed or why it exited by itself. */
  lastError: string | null;
}

export interface LocalMongodOptions {
  /** The app's data dir: the mongod's data directories go under `<dataDir>/local-mongod/`. */
  dataDir: string;
  /** The configured binary path (read when a start is asked for: the setting may change). */
  binary: () => string | null;
  /** How long start-up may take before it is given up (default 60 s). */
  startTimeoutMs?: number;
  /** Told every change of state (the engine publishes it as local-mongod.changed and audits it). */
  onChange?: (status: LocalMongodStatus, previous: LocalMongodState) => void;
}

/** The version a binary reports, or a typed error saying why it is not a usable mongod. */
export async function checkMongodBinary(path: string): Promise<string> {
  const info = await stat(path).catch(() => null);
  if (!info)
    throw new ApiError('NOT_FOUND', `The mongod binary ${path} does not exist.`, {
      reason: 'MONGOD_BINARY_MISSING',
      path,
    });
  if (!info.isFile())
    throw new ApiError('INVALID_INPUT', `The mongod binary ${path} is not a file.`, {
      reason: 'MONGOD_NOT_EXECUTABLE',
      path,
    });
  try {
    await access(path, fsConstants.X_OK);
  } catch {
    throw new ApiError('INVALID_INPUT', `The mongod binary ${path} is not executable.`, {
      reason: 'MONGOD_NOT_EXECUTABLE',
      path,
    });
  }
  const output = await new Promise<string>((resolve) => {
    execFile(
      path,
      ['--version'],
      { timeout: VERSION_TIMEOUT_MS, maxBuffer: 256 * 1024, windowsHide: true },
      (_err, stdout, stderr) => resolve(`${String(stdout)}${String(stderr)}`),
    );
  });
  const first = output.split(/\r?\n/, 1)[0]?.trim() ?? '';
  const m = /^db version v(\d+\.\d+\.\d+\S*)$/.exec(first);
  if (m) return m[1]!;
  const what = /^mongos version v/.test(first) ? ' (that is mongos, the sharding router)' : '';
  throw new ApiError(
    'INVALID_INPUT',
    `${path} is not a mongod${what}: \`--version\` printed ${first ? JSON.stringify(first.slice(0, 200)) : 'nothing'} instead of "db version v…".`,
    { reason: 'NOT_MONGOD', path, output: output.slice(0, 2000) },
  );
}

/** A free loopback port (the kernel's pick), or a typed error when the one asked for is taken. */
async function loopbackPort(wanted: number | undefined): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', (err: NodeJS.ErrnoException) => {
      reject(
        err.code === 'EADDRINUSE'
          ? portInUse(wanted ?? 0)
          : new ApiError('UNAVAILABLE', `No loopback port: ${err.message}`),
      );
    });
    s.listen(wanted ?? 0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

const portInUse = (port: number) =>
  new ApiError(
    'CONFLICT',
    `Port ${port} on 127.0.0.1 is already in use; choose another or let the app pick.`,
    {
      reason: 'PORT_IN_USE',
      port,
    },
  );

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** The audit entry of a change of state: starts, failed starts, exits by itself and stops. */
export function localMongodAudit(
  s: LocalMongodStatus,
  previous: LocalMongodState,
): { action: string; target: string; outcome: 'done' | 'failed'; details: Record<string, unknown> } {
  const target = s.binary ?? '';
  if (s.state === 'running')
    return {
      action: 'local-mongod.start',
      target,
      outcome: 'done',
      details: { uri: s.uri, version: s.version, port: s.port, dataDir: s.dataDir },
    };
  if (s.state === 'failed')
    return {
      action: previous === 'running' ? 'local-mongod.exited' : 'local-mongod.start',
      target,
      outcome: 'failed',
      details: { port: s.port, error: s.lastError },
    };
  return { action: 'local-mongod.stop', target, outcome: 'done', details: { port: s.port } };
}

export class LocalMongod {
  private child: ChildProcess | null = null;
  private exited: Promise<void> | null = null;
  private log = '';
  private current: LocalMongodStatus = {
    state: 'stopped',
    binary: null,
    version: null,
    pid: null,
    port: null,
    uri: null,
    dataDir: null,
    startedAt: null,
    lastError: null,
  };
  private starting: Promise<LocalMongodStatus> | null = null;
  private closed = false;

  constructor(private readonly opts: LocalMongodOptions) {}

  status(): LocalMongodStatus {
    return { ...this.current };
  }

  private reported: LocalMongodState = 'stopped';
  private changed(): void {
    const previous = this.reported;
    this.reported = this.current.state;
    this.opts.onChange?.(this.status(), previous);
  }

  /** The running one, or a new one started (one per engine). */
  async ensureStarted(port?: number): Promise<LocalMongodStatus> {
    if (this.current.state === 'running') {
      if (port !== undefined && port !== this.current.port)
        throw new ApiError(
          'CONFLICT',
          `The local mongod already runs on port ${this.current.port}; stop it first to use port ${port}.`,
          { reason: 'ALREADY_RUNNING', port: this.current.port },
        );
      return this.status();
    }
    this.starting ??= this.start(port).finally(() => (this.starting = null));
    return this.starting;
  }

  private async start(wantedPort: number | undefined): Promise<LocalMongodStatus> {
    if (this.closed) throw new ApiError('UNAVAILABLE', 'The engine is closing.');
    const binary = this.opts.binary();
    if (!binary)
      throw new ApiError(
        'INVALID_INPUT',
        'No mongod binary is configured: set its path first (settings: mongodBinary).',
        { reason: 'NO_MONGOD_BINARY' },
      );
    const version = await checkMongodBinary(binary);
    const parent = join(this.opts.dataDir, LOCAL_MONGOD_DIR);
    await mkdir(parent, { recursive: true, mode: 0o700 });
    await this.removeLeftovers(parent);
    const port = await loopbackPort(wantedPort);
    const dbpath = join(parent, `run-${new Date().toISOString().replace(/[:.]/g, '')}-${process.pid}`);
    await mkdir(dbpath, { mode: 0o700 });
    this.log = '';
    this.current = {
      state: 'starting',
      binary,
      version,
      pid: null,
      port,
      uri: `mongodb://127.0.0.1:${port}/?directConnection=true`,
      dataDir: dbpath,
      startedAt: null,
      lastError: null,
    };
    const child = spawn(binary, ['--port', String(port), '--bind_ip', '127.0.0.1', '--dbpath', dbpath], {
      stdio: ['ignore', 'pipe', 'pipe'],
      windowsHide: true,
    });
    this.child = child;
    const keep = (chunk: Buffer) => {
      this.log = (this.log + chunk.toString('utf8')).slice(-LOG_KEEP_BYTES);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    let exit: { code: number | null; signal: NodeJS.Signals | null; error?: Error } | null = null;
    this.exited = new Promise<void>((resolve) => {
      child.once('error', (error) => {
        exit = { code: null, signal: null, error };
        resolve();
      });
      child.once('exit', (code, signal) => {
        exit ??= { code, signal };
        resolve();
      });
    });
    void this.exited.then(() => this.onExit(child, exit));
    this.current.pid = child.pid ?? null;

    try {
      await this.waitForHello(port, () => exit);
    } catch (err) {
      await this.kill(child);
      await rm(dbpath, { recursive: true, force: true });
      const e = err instanceof ApiError ? err : new ApiError('UNAVAILABLE', String(err));
      this.current = { ...this.current, state: 'failed', pid: null, uri: null, lastError: e.message };
      this.changed();
      throw e;
    }
    this.current = { ...this.current, state: 'running', startedAt: new Date().toISOString() };
    this.changed();
    return this.status();
  }

  /** Polls `hello` until the server answers, the process exits, or the time is up. */
  private async waitForHello(
    port: number,
    exitOf: () => { code: number | null; signal: NodeJS.Signals | null; error?: Error } | null,
  ): Promise<void> {
    const deadline = Date.now() + (this.opts.startTimeoutMs ?? 60_000);
    for (;;) {
      const exit = exitOf();
      if (exit) throw this.exitError(exit, port);
      const client = new MongoClient(`mongodb://127.0.0.1:${port}/?directConnection=true`, {
        serverSelectionTimeoutMS: 500,
        connectTimeoutMS: 500,
      });
      try {
        await client.connect();
        const hello = await client.db('admin').command({ hello: 1 });
        if (hello.ok === 1) return;
      } catch {
        // not listening yet
      } finally {
        await client.close().catch(() => undefined);
      }
      if (Date.now() > deadline)
        throw new ApiError(
          'UNAVAILABLE',
          `The local mongod did not answer hello within ${Math.round((this.opts.startTimeoutMs ?? 60_000) / 1000)} s.${this.tailText()}`,
          { reason: 'MONGOD_START_TIMEOUT', logTail: this.tail() },
        );
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  private exitError(
    exit: { code: number | null; signal: NodeJS.Signals | null; error?: Error },
    port: number,
  ): ApiError {
    // mongod exits with 48 when it cannot start listening (documented exit codes); its log says why.
    if (/address already in use|EADDRINUSE/i.test(this.log)) return portInUse(port);
    const how = exit.error
      ? `could not be started (${exit.error.message})`
      : exit.signal
        ? `was killed by ${exit.signal}`
        : exit.code === 48
          ? `could not listen on 127.0.0.1:${port} (exit code 48)`
          : `exited with code ${exit.code}`;
    return new ApiError('UNAVAILABLE', `The local mongod ${how} during start-up.${this.tailText()}`, {
      reason: 'MONGOD_EXITED',
      exitCode: exit.code,
      signal: exit.signal,
      logTail: this.tail(),
    });
  }

  private tail(): string[] {
    return this.log.split(/\r?\n/).filter(Boolean).slice(-LOG_TAIL_LINES);
  }

  private tailText(): string {
    const t = this.tail();
    return t.length ? ` Last lines of its output:\n${t.join('\n')}` : ' It printed nothing.';
  }

  /** The process ended by itself (not through stop): say so in status and remove its data. */
  private onExit(
    child: ChildProcess,
    exit: { code: number | null; signal: NodeJS.Signals | null; error?: Error } | null,
  ): void {
    if (this.child !== child) return;
    this.child = null;
    if (this.current.state === 'running') {
      const dir = this.current.dataDir;
      this.current = {
        ...this.current,
        state: 'failed',
        pid: null,
        uri: null,
        lastError: `The local mongod exited by itself (${exit?.signal ?? `code ${exit?.code}`}).${this.tailText()}`,
      };
      this.changed();
      if (dir) void rm(dir, { recursive: true, force: true });
    }
  }

  private async kill(child: ChildProcess): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const done = this.exited ?? Promise.resolve();
    child.kill('SIGTERM'); // mongod shuts down cleanly on SIGTERM
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
    await done;
    clearTimeout(timer);
  }

  /** Stops it (SIGTERM, then SIGKILL after 30 s) and removes its data directory. */
  async stop(): Promise<LocalMongodStatus> {
    if (this.starting) await this.starting.catch(() => undefined);
    const child = this.child;
    const dir = this.current.dataDir;
    const was = this.current.state;
    if (child) {
      this.child = null;
      await this.kill(child);
    }
    if (dir) await rm(dir, { recursive: true, force: true });
    this.current = {
      ...this.current,
      state: 'stopped',
      pid: null,
      uri: null,
      dataDir: null,
      startedAt: null,
      lastError: this.current.state === 'failed' ? this.current.lastError : null,
    };
    if (was !== 'stopped') this.changed();
    return this.status();
  }

  /** Engine close (app quit): stop, and refuse new starts. */
  async close(): Promise<void> {
    this.closed = true;
    await this.stop();
  }

  /**
   * Data directories left by an engine that died: removed, unless a live
   * process still holds one (mongod writes its pid to `mongod.lock`).
   */
  private async removeLeftovers(parent: string): Promise<void> {
    for (const name of await readdir(parent).catch(() => [] as string[])) {
      if (!name.startsWith('run-')) continue;
      const dir = join(parent, name);
      const pid = Number((await readFile(join(dir, 'mongod.lock'), 'utf8').catch(() => '')).trim());
      if (Number.isInteger(pid) && pid > 0 && alive(pid)) continue;
      await rm(dir, { recursive: true, force: true });
    }
  }
}
