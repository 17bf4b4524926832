/**
 * Where a restore test restores to, opened for one test. Each kind of
 * RestoreTestTarget (engine/api/schemas.ts) has one case here: a deployment
 * named by its connection string today; the throwaway local mongod the app
 * starts itself joins as `case 'local-mongod'` (start it, connect, and stop
 * it in `close`), and nothing else in the restore test changes.
 */
import type { MongoClient } from 'mongodb';
import type { RestoreTestTarget } from '../api/schemas.js';
import { ApiError } from '../errors.js';
import { connectSource } from '../mongo/connect.js';
import { displayUri, parseConnection } from '../mongo/connection-config.js';

export interface OpenedTarget {
  client: MongoClient;
  /** The target as the history shows it (the user, never the password). */
  display: string;
  close(): Promise<void>;
}

/** The target as the history shows it before it is reached (the user, never a password). */
export function describeRestoreTestTarget(target: RestoreTestTarget): string {
  switch (target.kind) {
    case 'uri':
      try {
        return displayUri(parseConnection(target.uri).config);
      } catch {
        return '(an invalid connection string)';
      }
  }
}

/** The password of a target, from where the job's settings say: an environment variable, or sealed. */
export type TargetPassword = () => Promise<string | null> | string | null;

export async function openRestoreTestTarget(
  target: RestoreTestTarget,
  sealedPassword: TargetPassword,
  timeoutMs: number,
  env: NodeJS.ProcessEnv = process.env,
): Promise<OpenedTarget> {
  switch (target.kind) {
    case 'uri': {
      const { config } = parseConnection(target.uri);
      let password: string | null;
      if (target.passwordEnv) {
        const v = env[target.passwordEnv];
        if (v === undefined || v === '')
          throw new ApiError(
            'AUTH_FAILED',
            `The environment variable ${target.passwordEnv} (the restore test target's password) is not set in the engine's process.`,
          );
        password = v;
      } else password = await sealedPassword();
      const client = await connectSource(config, password, timeoutMs);
      return { client, display: displayUri(config), close: () => client.close() };
    }
  }
}
