/** A source's stored connection settings and secrets, ready to connect. */
import { ApiError } from '../errors.js';
import { getSourceConnection, type SourceRow } from '../catalog/sources.js';
import type { Engine } from '../engine.js';
import { URI_SECRETS, liftSecretOptions, type ConnectionConfig } from './connection-config.js';
import { readStoredSecrets, unsealPassword, unsealUriSecrets } from './source-secret.js';

/** The config carries its unsealed URI secrets in memory (URI_SECRETS), for the driver only. */
export async function sourceConnection(
  engine: Engine,
  row: SourceRow,
): Promise<{ config: ConnectionConfig; password: string | null }> {
  const c = getSourceConnection(engine.catalog, row.id);
  if (!c.connection_json)
    throw new ApiError(
      'INVALID_INPUT',
      `Source "${row.name}" has no connection settings; edit it with --uri.`,
    );
  // A row written before secret options were split off still has them in its uri: lift them out.
  const config = liftSecretOptions(JSON.parse(c.connection_json) as ConnectionConfig);
  const stored = readStoredSecrets(c.secret_json);
  if (!stored.password && !stored.uriOptions) return { config, password: null };
  const store = await engine.stores.get(row.repository_id);
  if (stored.uriOptions)
    config[URI_SECRETS] = {
      ...config[URI_SECRETS],
      ...unsealUriSecrets(stored.uriOptions, row.id, store.repo, engine.secrets),
    };
  return {
    config,
    password: stored.password ? unsealPassword(stored.password, row.id, store.repo, engine.secrets) : null,
  };
}
