/** A source's stored connection settings and secrets, ready to connect. */
import { ApiError } from '../errors.js';
import {
  getSourceConnection,
  replaceSourceConnection,
  type SourceConnectionRow,
  type SourceRow,
} from '../catalog/sources.js';
import type { CatalogDb } from '../catalog/open-catalog.js';
import type { Repository } from '../repo/repository.js';
import type { SecretStore } from '../secrets.js';
import type { StoreRegistry } from '../store/store-registry.js';
import { URI_SECRETS, liftSecretOptions, secretOptions, type ConnectionConfig } from './connection-config.js';
import {
  readStoredSecrets,
  sealUriSecrets,
  storedSecretsJson,
  unsealPassword,
  unsealUriSecrets,
  type StoredSecrets,
} from './source-secret.js';

/** The config carries its unsealed URI secrets in memory (URI_SECRETS), for the driver only. */
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
  // A row written before secret options were split off still has them in its uri: lift them out.
  const config = liftSecretOptions(JSON.parse(c.connection_json) as ConnectionConfig);
  const lifted = secretOptions(config) !== null;
  const stored = readStoredSecrets(c.secret_json);
  if (!stored.password && !stored.uriOptions && !lifted) return { config, password: null };
  const store = await deps.stores.get(row.repository_id);
  if (stored.uriOptions)
    config[URI_SECRETS] = {
      ...config[URI_SECRETS],
      ...unsealUriSecrets(stored.uriOptions, row.id, store.repo, deps.secrets),
    };
  if (lifted) resealLifted(deps, row, c, config, stored, store.repo);
  return {
    config,
    password: stored.password ? unsealPassword(stored.password, row.id, store.repo, deps.secrets) : null,
  };
}

/**
 * Moves secret options that an older version left in `connection_json` into the sealed
 * `secret_json` and rewrites the row without them, in one statement (the first read after an
 * upgrade does it). It seals as the source's other secrets are sealed; when that is not possible
 * now (a locked repository, or an unencrypted one without a keychain where the user never chose
 * --insecure-store-password) the row stays as it is, the connection goes on with the options in
 * memory, and the next read tries again.
 */
function resealLifted(
  deps: { readonly catalog: CatalogDb; readonly secrets: SecretStore },
  row: SourceRow,
  before: SourceConnectionRow,
  config: ConnectionConfig,
  stored: StoredSecrets,
  repo: Repository,
): void {
  // Nothing awaits from here on, so an edit cannot come between this check and the rewrite (a
  // keychain seal must not overwrite the secrets of an edit made while the repository opened).
  const now = getSourceConnection(deps.catalog, row.id);
  if (now.connection_json !== before.connection_json || now.secret_json !== before.secret_json) return;
  const options = secretOptions(config)!;
  const insecureOk = [stored.password, stored.uriOptions].some((s) => s?.scheme === 'insecure-base64');
  let uriOptions;
  try {
    uriOptions = sealUriSecrets(options, row.id, repo, deps.secrets, insecureOk);
  } catch (err) {
    if (err instanceof ApiError) return;
    throw err;
  }
  replaceSourceConnection(
    deps.catalog,
    row.id,
    before,
    config,
    storedSecretsJson({ password: stored.password, uriOptions }),
  );
}
