/**
 * Optional stable token for the headless mode (`--token-file FILE`): a
 * service restarted by systemd keeps the same URL, so open browser tabs
 * reconnect on their own. Without the flag every run gets a new token.
 */
import { readFileSync } from 'node:fs';
import { ApiError } from '../errors.js';
import { openToOthers } from '../owner-only.js';
import { writeFileDurableSync } from '../repo/durable-file.js';
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
    // A token others could read may already be known to them: refuse it rather than quietly chmod it.
    if (openToOthers(path)) {
      throw new ApiError(
        'INVALID_INPUT',
        `The token file ${path} is readable by other users. Delete it (a new one is made) or run chmod 600 on it if you are sure nobody read it.`,
      );
    }
    if (!VALID.test(existing)) {
      throw new ApiError(
        'INVALID_INPUT',
        `The token in ${path} is too short or malformed (32+ URL-safe characters expected).`,
      );
    }
    return existing;
  }
  const token = newToken();
  writeFileDurableSync(path, `${token}\n`);
  return token;
}
