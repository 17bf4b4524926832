/** A source's stored connection settings and password, ready to connect. */
import { ApiError } from '../errors.js';
import { getSourceConnection, type SourceRow } from '../catalog/sources.js';
import type { Engine } from '../engine.js';
import type { ConnectionConfig } from './connection-config.js';
import { unsealPassword, type SealedSecret } from './source-secret.js';

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
  const config = JSON.parse(c.connection_json) as ConnectionConfig;
  if (!c.secret_json) return { config, password: null };
  const store = await engine.stores.get(row.repository_id);
  return {
    config,
    password: unsealPassword(JSON.parse(c.secret_json) as SealedSecret, row.id, store.repo, engine.secrets),
  };
}
