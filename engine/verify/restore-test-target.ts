/**
 * Where a restore test restores to, opened for one test. Each kind of
 * RestoreTestTarget (engine/api/schemas.ts) has one case here: a deployment
 * named by its connection string, or the throwaway local mongod the app
 * starts itself (started for the test and stopped in `close` when the test
 * started it; one the user started stays running).
 */
import type { MongoClient } from 'mongodb';
import type { RestoreTestTarget } from '../api/schemas.js';
import { ApiError } from '../errors.js';
import { LONG_WORK_MONITOR_TIMEOUT_MS, connectSource } from '../mongo/connect.js';
import { displayUri, parseConnection } from '../mongo/connection-config.js';
import type { LocalMongod } from '../mongo/local-mongod.js';

const LOCAL_MONGOD = 'the throwaway local mongod';

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
    case 'local-mongod':
      return LOCAL_MONGOD;
  }
}

/** The password of a target, from where the job's settings say: an environment variable, or sealed. */
export type TargetPassword = () => Promise<string | null> | string | null;

export async function openRestoreTestTarget(
  target: RestoreTestTarget,
  sealedPassword: TargetPassword,
  timeoutMs: number,
  localMongod: Pick<LocalMongod, 'status' | 'ensureStarted' | 'stop'>,
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
      const client = await connectSource(config, password, timeoutMs, {
        monitorTimeoutMs: LONG_WORK_MONITOR_TIMEOUT_MS,
      });
      return { client, display: displayUri(config), close: () => client.close() };
    }
    case 'local-mongod': {
      // Started by this test (a typed error names a missing or wrong binary), stopped by it again.
      const ours = localMongod.status().state !== 'running';
      const running = await localMongod.ensureStarted();
      const stopIfOurs = async () => {
        if (ours) await localMongod.stop();
      };
      try {
        const client = await connectSource(parseConnection(running.uri!).config, null, timeoutMs, {
          monitorTimeoutMs: LONG_WORK_MONITOR_TIMEOUT_MS,
        });
        return {
          client,
          display: `${LOCAL_MONGOD} (${running.uri})`,
          close: async () => {
            await client.close().finally(stopIfOurs);
          },
        };
      } catch (err) {
        await stopIfOurs();
        throw err;
      }
    }
  }
}
