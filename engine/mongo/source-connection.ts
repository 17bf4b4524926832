/** A source's stored connection settings and password, ready to connect. */
import { ApiError } from '../errors.js';
import { getSourceConnection, type SourceRow } from '../catalog/sources.js';
import type { CatalogDb } from '../catalog/open-catalog.js';
import type { SecretStore } from '../secrets.js';
import type { StoreRegistry } from '../store/store-registry.js';
import type { ConnectionConfig } from './connection-config.js';
import { unsealPassword, type SealedSecret } from './source-secret.js';

export async function sourceConnection(
  deps: { readonly catalog: CatalogDb; readonly stores: StoreRegistry; readonly secrets: SecretStore },
  row: SourceRow,
): Promise<{ config: ConnectionConfig; password: string | null }> {
  const c = getSourceConnection(deps.catalog, row.id);
  if (!c.connection_json)
    throw new ApiError(
      'INVALID_INPUT',
      `Source "${row.name}" has no connection settings; edit it with --uri.`,
    );
  const config = JSON.parse(c.connection_json) as ConnectionConfig;
  if (!c.secret_json) return { config, password: null };
  const store = await deps.stores.get(row.repository_id);
  return {
    config,
    password: unsealPassword(JSON.parse(c.secret_json) as SealedSecret, row.id, store.repo, deps.secrets),
  };
}
