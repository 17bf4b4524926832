/**
 * A source's connection settings. The connection string is parsed with the
 * driver's own parser (mongodb-connection-string-url); credentials are split
 * off so that only the password's sealed form is ever stored.
 *
 * Some options are secrets too: the client key's password
 * (tlsCertificateKeyFilePassword), the SOCKS5 proxy password, tokens in
 * authMechanismProperties (AWS_SESSION_TOKEN). They are split off the same
 * way and ride along in memory under a symbol key, which JSON.stringify
 * skips: a config written to the catalog, source.json, the audit log or an
 * API view cannot carry them. They are sealed like the password and put
 * back into the string only for the driver (driverUri).
 */
import { CommaAndColonSeparatedRecord, ConnectionString } from 'mongodb-connection-string-url';
import { ApiError } from '../errors.js';

/** Secret options: name -> value; a secret authMechanismProperties key as `authMechanismProperties.KEY`. */
export type UriSecrets = Record<string, string>;

export const URI_SECRETS: unique symbol = Symbol('uri-secrets');

/** Options whose value is a secret (compared case-insensitively, as the driver does). */
const SECRET_OPTIONS = ['tlsCertificateKeyFilePassword', 'proxyPassword', 'sslPEMKeyPassword'];
const MECHANISM_PROPERTIES = 'authMechanismProperties';
/** authMechanismProperties keys that hold credentials (AWS_SESSION_TOKEN); TOKEN_RESOURCE and the like do not. */
const SECRET_PROPERTY = /(^|_)(TOKEN|PASSWORD|SECRET)$/i;

export interface ConnectionConfig {
  /** mongodb:// or mongodb+srv:// without user, password or secret options. */
  uri: string;
  username: string | null;
  tlsCaFile: string | null;
  tlsCertFile: string | null;
  readPreference: string | null;
  /** In memory only (never serialised): the secret options split off `uri`. */
  [URI_SECRETS]?: UriSecrets;
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
  const uriSecrets = splitSecretOptions(bare);
  if (extra.readPreference && !(READ_PREFERENCES as readonly string[]).includes(extra.readPreference)) {
    throw new ApiError(
      'INVALID_INPUT',
      `Unknown read preference "${extra.readPreference}"; use one of ${READ_PREFERENCES.join(', ')}.`,
    );
  }
  const config: ConnectionConfig = {
    uri: bare.toString(),
    username,
    tlsCaFile: extra.tlsCaFile ?? null,
    tlsCertFile: extra.tlsCertFile ?? null,
    readPreference: extra.readPreference ?? null,
  };
  if (Object.keys(uriSecrets).length) config[URI_SECRETS] = uriSecrets;
  return { config, password };
}

/** Removes the secret options from `cs` (in place) and returns them. */
function splitSecretOptions(cs: ConnectionString): UriSecrets {
  const out: UriSecrets = {};
  const params = cs.searchParams;
  for (const key of [...new Set(params.keys())]) {
    const canonical = SECRET_OPTIONS.find((o) => o.toLowerCase() === key.toLowerCase());
    if (canonical) {
      const value = params.get(key) ?? '';
      params.delete(key);
      out[canonical] = value; // '' is kept: in an edit it removes a stored one
      continue;
    }
    if (key.toLowerCase() !== MECHANISM_PROPERTIES.toLowerCase()) continue;
    const props = new CommaAndColonSeparatedRecord(params.get(key) ?? '');
    for (const [k, v] of [...props]) {
      if (!SECRET_PROPERTY.test(k)) continue;
      props.delete(k);
      out[`${MECHANISM_PROPERTIES}.${k}`] = v;
    }
    if (props.size) params.set(key, props.toString());
    else params.delete(key);
  }
  return out;
}

/** A stored config whose uri still holds secret options (written by an older version): split them off. */
export function liftSecretOptions(config: ConnectionConfig): ConnectionConfig {
  const cs = new ConnectionString(config.uri);
  const lifted = splitSecretOptions(cs);
  if (!Object.keys(lifted).length) return config;
  return { ...config, uri: cs.toString(), [URI_SECRETS]: { ...config[URI_SECRETS], ...lifted } };
}

/** The secret options worth storing: those with a value. */
export function secretOptions(config: ConnectionConfig): UriSecrets | null {
  const kept = Object.entries(config[URI_SECRETS] ?? {}).filter(([, v]) => v !== '');
  return kept.length ? Object.fromEntries(kept) : null;
}

/**
 * An edit's new connection string may leave out secret options that `source list` never shows:
 * those stored are kept unless the new string names them (an empty value removes one).
 */
export function keepSecretOptions(edited: ConnectionConfig, current: ConnectionConfig): ConnectionConfig {
  const merged = { ...current[URI_SECRETS], ...edited[URI_SECRETS] };
  return Object.keys(merged).length ? { ...edited, [URI_SECRETS]: merged } : edited;
}

/** The connection string for the driver: `uri` with the secret options put back. Never store or show it. */
export function driverUri(config: ConnectionConfig): string {
  const secrets = config[URI_SECRETS];
  if (!secrets || !Object.keys(secrets).length) return config.uri;
  const cs = new ConnectionString(config.uri);
  const props = new CommaAndColonSeparatedRecord(cs.searchParams.get(MECHANISM_PROPERTIES) ?? '');
  for (const [name, value] of Object.entries(secrets)) {
    if (value === '') continue;
    if (name.startsWith(`${MECHANISM_PROPERTIES}.`))
      props.set(name.slice(MECHANISM_PROPERTIES.length + 1), value);
    else cs.searchParams.set(name, value);
  }
  if (props.size) cs.searchParams.set(MECHANISM_PROPERTIES, props.toString());
  return cs.toString();
}

/** For display: the connection string with the user but never the password nor a secret option. */
export function displayUri(config: ConnectionConfig): string {
  const cs = new ConnectionString(config.uri);
  const lifted = splitSecretOptions(cs); // a row from an older version may still hold some
  if (!config.username && !Object.keys(lifted).length) return config.uri;
  if (config.username) cs.username = encodeURIComponent(config.username);
  return cs.toString();
}
