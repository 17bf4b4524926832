/** Opens a driver connection to a source and turns driver failures into typed errors with the reason. */
import { MongoClient, MongoServerError, type MongoClientOptions, type ReadPreferenceMode } from 'mongodb';
import { ApiError, fileSystemError, isFileSystemError } from '../errors.js';
import { ConnectionString } from 'mongodb-connection-string-url';
import { driverUri, type ConnectionConfig } from './connection-config.js';

export const APP_NAME = 'mongo-backup-manager';

/**
 * How long the driver waits for a server to answer a connection's handshake and its monitor's
 * heartbeat. Long work (a restore writing for an hour) passes a wider one than `timeoutMs`: a
 * target busy building an index may answer a heartbeat late, and a missed heartbeat makes the
 * driver drop the pool and fail the operations in flight. An unreachable server is still found
 * within `timeoutMs` (server selection).
 */
export interface ConnectTimeouts {
  monitorTimeoutMs?: number;
}

/** The heartbeat allowance of a restore or validation target (the driver's own default). */
export const LONG_WORK_MONITOR_TIMEOUT_MS = 30_000;

export function clientOptions(
  config: ConnectionConfig,
  password: string | null,
  timeoutMs = 5000,
  timeouts: ConnectTimeouts = {},
): MongoClientOptions {
  const o: MongoClientOptions = { appName: APP_NAME };
  // The driver lets these options win over the connection string's: a timeout the DBA wrote in
  // the URI (serverSelectionTimeoutMS=500 for a target on the same rack) is theirs to keep.
  const named = uriOptionNames(config.uri);
  if (!named.has('serverselectiontimeoutms')) o.serverSelectionTimeoutMS = timeoutMs;
  if (!named.has('connecttimeoutms'))
    o.connectTimeoutMS = Math.max(timeoutMs, timeouts.monitorTimeoutMs ?? 0);
  if (config.username) o.auth = { username: config.username, password: password ?? '' };
  if (config.tlsCaFile) {
    o.tls = true;
    o.tlsCAFile = config.tlsCaFile;
  }
  if (config.tlsCertFile) {
    o.tls = true;
    o.tlsCertificateKeyFile = config.tlsCertFile;
  }
  if (config.readPreference) o.readPreference = config.readPreference as ReadPreferenceMode;
  return o;
}

/** The options a connection string names, lower-cased (URI option names are case-insensitive). */
function uriOptionNames(uri: string): Set<string> {
  try {
    return new Set([...new ConnectionString(uri).searchParams.keys()].map((k) => k.toLowerCase()));
  } catch {
    return new Set(); // the driver reports a malformed string itself, with its own message
  }
}

/**
 * A driver failure as a typed error naming its cause. `tlsFiles` are the TLS files the connection
 * was configured with: a missing file is "a TLS file cannot be read" only when it is one of them;
 * any other file-system error (a full disk during a snapshot, a rename in the repository) is
 * labelled as what it is.
 */
export function toSourceError(err: unknown, tlsFiles: readonly (string | null | undefined)[] = []): ApiError {
  if (err instanceof ApiError) return err;
  if (isFileSystemError(err)) {
    const path = err.path;
    if (path && tlsFiles.includes(path))
      return new ApiError('INVALID_INPUT', `A TLS file cannot be read: ${(err as Error).message}`, {
        reason: 'tls-file',
        path,
      });
    return fileSystemError(err, 'a file operation');
  }
  const e = err as Error & { code?: number | string; cause?: { code?: string; message?: string } };
  const text = `${e.message ?? ''} ${e.cause?.message ?? ''}`;
  // Only what the server says about the credentials: capture treats this as permanent (Misconfigured),
  // so a message that merely mentions "auth" (authSource, author…) must not count.
  if (
    (err instanceof MongoServerError && (e.code === 18 || e.code === 13)) ||
    /Authentication failed/i.test(e.message ?? '')
  ) {
    return new ApiError('AUTH_FAILED', `The server refused the credentials: ${e.message}`);
  }
  if (/certificate|self[- ]signed|SSL|TLS|handshake|ECONNRESET.*tls/i.test(text)) {
    return new ApiError(
      'UNREACHABLE',
      `TLS handshake failed (check the CA file and the client certificate): ${e.message}`,
      { reason: 'tls' },
    );
  }
  if (/ENOTFOUND|EAI_AGAIN|getaddrinfo/.test(text))
    return new ApiError('UNREACHABLE', `Unknown host: ${e.message}`, { reason: 'dns' });
  if (/ECONNREFUSED/.test(text))
    return new ApiError('UNREACHABLE', `Connection refused: ${e.message}`, { reason: 'refused' });
  if (/Server selection timed out|timed out|ETIMEDOUT/i.test(text))
    return new ApiError('UNREACHABLE', `No answer from the server: ${e.message}`, { reason: 'timeout' });
  if (/ENOENT/.test(text) && tlsFiles.some((f) => f && text.includes(f)))
    return new ApiError('INVALID_INPUT', `A TLS file cannot be read: ${e.message}`, { reason: 'tls-file' });
  if (e.name?.startsWith('Mongo')) return new ApiError('UNREACHABLE', e.message);
  return new ApiError('INTERNAL', e.message ?? String(err));
}

/** Connects (and proves it with a ping) or throws a typed error; the caller closes the client. */
export async function connectSource(
  config: ConnectionConfig,
  password: string | null,
  timeoutMs = 5000,
  timeouts: ConnectTimeouts = {},
): Promise<MongoClient> {
  let client: MongoClient;
  try {
    client = new MongoClient(driverUri(config), clientOptions(config, password, timeoutMs, timeouts));
  } catch (err) {
    throw new ApiError('INVALID_INPUT', `The connection string is not usable: ${(err as Error).message}`);
  }
  try {
    await client.connect();
    await client.db('admin').command({ ping: 1 });
    return client;
  } catch (err) {
    await client.close().catch(() => undefined);
    throw toSourceError(err, [config.tlsCaFile, config.tlsCertFile]);
  }
}
