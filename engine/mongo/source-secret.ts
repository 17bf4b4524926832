/**
 * Source secrets are never stored in clear (DESIGN.md, Security): the
 * desktop app keeps them in the OS keychain; the headless mode and the CLI
 * encrypt them with the repository's data key (AES-256-GCM). An unencrypted
 * repository has no key, so a secret is stored there only when the user
 * explicitly chooses --insecure-store-password, and that choice is reported.
 *
 * A source has two secrets, sealed the same way and separately: its
 * password, and the secret options of its connection string
 * (connection-config.ts), as one JSON object. The catalog's `secret_json`
 * holds `{password, uriOptions}`; a row written before the options were
 * sealed holds the password's sealed form alone, and is still read.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { ApiError } from '../errors.js';
import type { Repository } from '../repo/repository.js';
import {
  restoreTestPasswordKey,
  sourcePasswordKey,
  sourceUriOptionsKey,
  type SecretStore,
} from '../secrets.js';
import type { UriSecrets } from './connection-config.js';

export type SealedSecret =
  | { scheme: 'keychain' }
  | { scheme: 'repository-key'; iv: string; ct: string; tag: string }
  | { scheme: 'insecure-base64'; value: string };

/** What `secret_json` holds. */
export interface StoredSecrets {
  password: SealedSecret | null;
  uriOptions: SealedSecret | null;
}

/** 'restore-test-password': the password of the source's restore test target (its backup job). */
type Purpose = 'password' | 'uri-options' | 'restore-test-password';

const aad = (purpose: Purpose, sourceId: string) => Buffer.from(`mbm-source-${purpose}:${sourceId}`);
const keychainKey = (purpose: Purpose, sourceId: string) =>
  purpose === 'password'
    ? sourcePasswordKey(sourceId)
    : purpose === 'uri-options'
      ? sourceUriOptionsKey(sourceId)
      : restoreTestPasswordKey(sourceId);

function seal(
  purpose: Purpose,
  plain: string,
  sourceId: string,
  repo: Repository,
  secrets: SecretStore,
  insecureOk: boolean,
  what: string,
): SealedSecret {
  if (secrets.persistent) {
    secrets.set(keychainKey(purpose, sourceId), plain);
    return { scheme: 'keychain' };
  }
  if (repo.encrypted) {
    const key = repo.key(); // LOCKED if the passphrase was not given
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', key!, iv);
    c.setAAD(aad(purpose, sourceId));
    const ct = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
    return {
      scheme: 'repository-key',
      iv: iv.toString('base64'),
      ct: ct.toString('base64'),
      tag: c.getAuthTag().toString('base64'),
    };
  }
  if (insecureOk) return { scheme: 'insecure-base64', value: Buffer.from(plain, 'utf8').toString('base64') };
  throw new ApiError(
    'INVALID_INPUT',
    `The repository is not encrypted, so ${what} cannot be stored safely. Use an encrypted repository, or accept storing it unprotected with --insecure-store-password.`,
  );
}

function unseal(
  purpose: Purpose,
  sealed: SealedSecret,
  sourceId: string,
  repo: Repository,
  secrets: SecretStore,
) {
  const what =
    purpose === 'password'
      ? 'source password'
      : purpose === 'uri-options'
        ? "source's connection-string secrets"
        : 'restore test target password';
  switch (sealed.scheme) {
    case 'keychain': {
      const v = secrets.get(keychainKey(purpose, sourceId));
      if (v === null)
        throw new ApiError(
          'AUTH_FAILED',
          purpose === 'restore-test-password'
            ? 'The restore test target password is not in the keychain any more; set it again with backup-job set (restoreTestPassword).'
            : purpose === 'password'
              ? 'The source password is not in the keychain any more; edit the source to enter it again.'
              : "The source's connection-string secrets are not in the keychain any more; edit the source with its full connection string to enter them again.",
        );
      return v;
    }
    case 'repository-key': {
      const key = repo.key();
      try {
        const d = createDecipheriv('aes-256-gcm', key!, Buffer.from(sealed.iv, 'base64'));
        d.setAAD(aad(purpose, sourceId));
        d.setAuthTag(Buffer.from(sealed.tag, 'base64'));
        return Buffer.concat([d.update(Buffer.from(sealed.ct, 'base64')), d.final()]).toString('utf8');
      } catch {
        throw new ApiError('CORRUPT', `The stored ${what} cannot be decrypted with this repository key.`);
      }
    }
    case 'insecure-base64':
      return Buffer.from(sealed.value, 'base64').toString('utf8');
  }
}

export function sealPassword(
  password: string,
  sourceId: string,
  repo: Repository,
  secrets: SecretStore,
  insecureOk: boolean,
): SealedSecret {
  return seal('password', password, sourceId, repo, secrets, insecureOk, 'the password');
}

export function unsealPassword(
  sealed: SealedSecret,
  sourceId: string,
  repo: Repository,
  secrets: SecretStore,
): string {
  return unseal('password', sealed, sourceId, repo, secrets);
}

export function sealUriSecrets(
  options: UriSecrets,
  sourceId: string,
  repo: Repository,
  secrets: SecretStore,
  insecureOk: boolean,
): SealedSecret {
  const names = Object.keys(options).join(', ');
  return seal(
    'uri-options',
    JSON.stringify(options),
    sourceId,
    repo,
    secrets,
    insecureOk,
    `the secret option(s) ${names}`,
  );
}

export function unsealUriSecrets(
  sealed: SealedSecret,
  sourceId: string,
  repo: Repository,
  secrets: SecretStore,
): UriSecrets {
  return JSON.parse(unseal('uri-options', sealed, sourceId, repo, secrets)) as UriSecrets;
}

/** Reads `secret_json`, including the older form that held the sealed password alone. */
export function readStoredSecrets(json: string | null): StoredSecrets {
  if (!json) return { password: null, uriOptions: null };
  const v = JSON.parse(json) as SealedSecret | StoredSecrets;
  if ('scheme' in v) return { password: v, uriOptions: null };
  return { password: v.password ?? null, uriOptions: v.uriOptions ?? null };
}

/** What `secret_json` stores, or null when the source has no secret at all. */
export function storedSecretsJson(s: StoredSecrets): StoredSecrets | null {
  return s.password || s.uriOptions ? s : null;
}

/** The password of a backup job's restore test target, sealed like the source's own. */
export function sealRestoreTestPassword(
  password: string,
  sourceId: string,
  repo: Repository,
  secrets: SecretStore,
  insecureOk: boolean,
): SealedSecret {
  return seal(
    'restore-test-password',
    password,
    sourceId,
    repo,
    secrets,
    insecureOk,
    'the restore test target password',
  );
}

export function unsealRestoreTestPassword(
  sealed: SealedSecret,
  sourceId: string,
  repo: Repository,
  secrets: SecretStore,
): string {
  return unseal('restore-test-password', sealed, sourceId, repo, secrets);
}
