/**
 * A source's connection settings. The connection string is parsed with the
 * driver's own parser (mongodb-connection-string-url); credentials are split
 * off so that only the password's sealed form is ever stored.
 */
import { ConnectionString } from 'mongodb-connection-string-url';
import { ApiError } from '../errors.js';

export interface ConnectionConfig {
  /** mongodb:// or mongodb+srv:// without user and password. */
  uri: string;
  username: string | null;
  tlsCaFile: string | null;
  tlsCertFile: string | null;
  readPreference: string | null;
}

export const READ_PREFERENCES = [
  'primary',
  'primaryPreferred',
  'secondary',
  'secondaryPreferred',
  'nearest',
] as const;

export function parseConnection(
  uri: string,
  extra: { tlsCaFile?: string | null; tlsCertFile?: string | null; readPreference?: string | null } = {},
): { config: ConnectionConfig; password: string | null } {
  let cs: ConnectionString;
  try {
    cs = new ConnectionString(uri);
  } catch (err) {
    throw new ApiError('INVALID_INPUT', `Not a valid MongoDB connection string: ${(err as Error).message}`);
  }
  const username = cs.username ? decodeURIComponent(cs.username) : null;
  const password = cs.password ? decodeURIComponent(cs.password) : null;
  const bare = cs.clone();
  bare.username = '';
  bare.password = '';
  if (extra.readPreference && !(READ_PREFERENCES as readonly string[]).includes(extra.readPreference)) {
    throw new ApiError(
      'INVALID_INPUT',
      `Unknown read preference "${extra.readPreference}"; use one of ${READ_PREFERENCES.join(', ')}.`,
    );
  }
  return {
    config: {
      uri: bare.toString(),
      username,
      tlsCaFile: extra.tlsCaFile ?? null,
      tlsCertFile: extra.tlsCertFile ?? null,
      readPreference: extra.readPreference ?? null,
    },
    password,
  };
}

/** For display: the connection string with the user but never the password. */
export function displayUri(config: ConnectionConfig): string {
  if (!config.username) return config.uri;
  const cs = new ConnectionString(config.uri);
  cs.username = encodeURIComponent(config.username);
  return cs.toString();
}
