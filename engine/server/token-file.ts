/**
 * Optional stable token for the headless mode (`--token-file FILE`): a
 * service restarted by systemd keeps the same URL, so open browser tabs
 * reconnect on their own. Without the flag every run gets a new token.
 */
import { readFileSync, writeFileSync, renameSync, openSync, fsyncSync, closeSync } from 'node:fs';
import { ApiError } from '../errors.js';
import { newToken } from './access-guard.js';

const VALID = /^[\w-]{32,}$/;

export function loadOrCreateToken(path: string): string {
  let existing: string | null = null;
  try {
    existing = readFileSync(path, 'utf8').trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (existing !== null) {
    if (!VALID.test(existing)) {
      throw new ApiError(
        'INVALID_INPUT',
        `The token in ${path} is too short or malformed (32+ URL-safe characters expected).`,
      );
    }
    return existing;
  }
  const token = newToken();
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, `${token}\n`, { mode: 0o600 });
  const fd = openSync(tmp, 'r');
  fsyncSync(fd);
  closeSync(fd);
  renameSync(tmp, path);
  return token;
}
