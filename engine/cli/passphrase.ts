/**
 * Secrets (repository passphrases, source passwords) reach the CLI and the
 * headless mode only through an environment variable named on the command
 * line (`--passphrase-env VAR`, `--password-env VAR`), never as an argument:
 * arguments are visible to every user in the process list.
 */
import { ApiError } from '../errors.js';

export const SECRET_FIELDS = new Set(['passphrase', 'password', 'restoreTestPassword']);

export function secretFromEnv(
  varName: string | undefined,
  flag: string,
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  if (varName === undefined) return undefined;
  if (varName === 'true' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(varName)) {
    throw new ApiError(
      'INVALID_INPUT',
      `--${flag} takes the NAME of an environment variable that holds the secret.`,
    );
  }
  const value = env[varName];
  if (value === undefined || value === '') {
    throw new ApiError(
      'INVALID_INPUT',
      `The environment variable ${varName} (from --${flag}) is not set or empty.`,
    );
  }
  return value;
}

export const passphraseFromEnv = (varName: string | undefined, env: NodeJS.ProcessEnv = process.env) =>
  secretFromEnv(varName, 'passphrase-env', env);
