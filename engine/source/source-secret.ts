/**
 * Source passwords are never stored in clear (DESIGN.md, Security): the
 * desktop app keeps them in the OS keychain; the headless mode and the CLI
 * encrypt them with the repository's data key (AES-256-GCM). An unencrypted
 * repository has no key, so a password is stored there only when the user
 * explicitly chooses --insecure-store-password, and that choice is reported.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { ApiError } from '../errors.js';
import type { Repository } from '../repo/repository.js';
import { sourcePasswordKey, type SecretStore } from '../secrets.js';

export type SealedSecret =
  | { scheme: 'keychain' }
  | { scheme: 'repository-key'; iv: string; ct: string; tag: string }
  | { scheme: 'insecure-base64'; value: string };

const aad = (sourceId: string) => Buffer.from(`mbm-source-password:${sourceId}`);

export function sealPassword(
  password: string,
  sourceId: string,
  repo: Repository,
  secrets: SecretStore,
  insecureOk: boolean,
): SealedSecret {
  if (secrets.persistent) {
    secrets.set(sourcePasswordKey(sourceId), password);
    return { scheme: 'keychain' };
  }
  if (repo.encrypted) {
    const key = repo.key(); // LOCKED if the passphrase was not given
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', key!, iv);
    c.setAAD(aad(sourceId));
    const ct = Buffer.concat([c.update(password, 'utf8'), c.final()]);
    return {
      scheme: 'repository-key',
      iv: iv.toString('base64'),
      ct: ct.toString('base64'),
      tag: c.getAuthTag().toString('base64'),
    };
  }
  if (insecureOk)
    return { scheme: 'insecure-base64', value: Buffer.from(password, 'utf8').toString('base64') };
  throw new ApiError(
    'INVALID_INPUT',
    'The repository is not encrypted, so the password cannot be stored safely. Use an encrypted repository, or accept storing it unprotected with --insecure-store-password.',
  );
}

export function unsealPassword(
  sealed: SealedSecret,
  sourceId: string,
  repo: Repository,
  secrets: SecretStore,
): string {
  switch (sealed.scheme) {
    case 'keychain': {
      const v = secrets.get(sourcePasswordKey(sourceId));
      if (v === null)
        throw new ApiError(
          'AUTH_FAILED',
          'The source password is not in the keychain any more; edit the source to enter it again.',
        );
      return v;
    }
    case 'repository-key': {
      const key = repo.key();
      try {
        const d = createDecipheriv('aes-256-gcm', key!, Buffer.from(sealed.iv, 'base64'));
        d.setAAD(aad(sourceId));
        d.setAuthTag(Buffer.from(sealed.tag, 'base64'));
        return Buffer.concat([d.update(Buffer.from(sealed.ct, 'base64')), d.final()]).toString('utf8');
      } catch {
        throw new ApiError(
          'CORRUPT',
          'The stored source password cannot be decrypted with this repository key.',
        );
      }
    }
    case 'insecure-base64':
      return Buffer.from(sealed.value, 'base64').toString('utf8');
  }
}
