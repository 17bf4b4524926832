import { rm } from 'node:fs/promises';
import { ApiError } from '../../errors.js';
import { audit } from '../../catalog/audit.js';
import {
  getSourceByName,
  getSourceConnection,
  listSources,
  setSourceConnection,
  upsertSource,
  type SourceRow,
} from '../../catalog/sources.js';
import type { Engine } from '../../engine.js';
import {
  displayUri,
  keepSecretOptions,
  parseConnection,
  secretOptions,
  type ConnectionConfig,
} from '../../source/connection-config.js';
import { assertSupported, probeSource, type ProbeReport } from '../../source/probe.js';
import {
  readStoredSecrets,
  sealPassword,
  sealUriSecrets,
  storedSecretsJson,
  type StoredSecrets,
} from '../../source/source-secret.js';
import type { Repository } from '../../repo/repository.js';
import { sourcePasswordKey, sourceUriOptionsKey } from '../../secrets.js';
import { sourceConnection } from '../../source/source-connection.js';
import { writeSourceFile } from '../../repo/source-file.js';
import type { PartialHandlers } from './types.js';
import { getBackupJob } from '../../schedule/backup-jobs.js';
import { reactivate } from '../../schedule/job-health.js';
import { recordOplogWindow } from '../../catalog/oplog-window.js';

function sourceView(engine: Engine, row: SourceRow) {
  const c = getSourceConnection(engine.catalog, row.id);
  const config = c.connection_json ? (JSON.parse(c.connection_json) as ConnectionConfig) : null;
  const sealed = readStoredSecrets(c.secret_json);
  const warnings: string[] = [];
  if (sealed.password?.scheme === 'insecure-base64')
    warnings.push(
      'The password is stored unprotected (--insecure-store-password): anyone who can read the catalog can read it.',
    );
  if (sealed.uriOptions?.scheme === 'insecure-base64')
    warnings.push(
      'The connection-string secrets are stored unprotected (--insecure-store-password): anyone who can read the catalog can read them.',
    );
  return {
    id: row.id,
    name: row.name,
    repositoryId: row.repository_id,
    uri: config ? displayUri(config) : (row.uri_redacted ?? ''),
    username: config?.username ?? null,
    tlsCaFile: config?.tlsCaFile ?? null,
    tlsCertFile: config?.tlsCertFile ?? null,
    readPreference: config?.readPreference ?? null,
    passwordStorage: sealed.password?.scheme ?? ('none' as const),
    warnings,
    createdAt: row.created_at,
  };
}

export const sourceHandlers: PartialHandlers<
  'source.add' | 'source.test' | 'source.edit' | 'source.remove' | 'source.list'
> = {
  'source.add': async (engine, input) => {
    if (engine.catalog.prepare('SELECT 1 FROM sources WHERE name = ?').get(input.name)) {
      throw new ApiError('CONFLICT', `A source named "${input.name}" already exists.`);
    }
    const { config, password: fromUri } = parseConnection(input.uri, input);
    const password = input.password ?? fromUri;
    if (password && !config.username)
      throw new ApiError(
        'INVALID_INPUT',
        'A password was given without a user name in the connection string.',
      );
    const store = await engine.stores.get(input.repository);
    // Test first: nothing is saved for a source that cannot be reached, authenticated, or is sharded.
    const test: ProbeReport = await probeSource(config, password, engine.sourceTimeoutMs);
    assertSupported(test);
    const sourceId = await store.ensureSource(input.name, displayUri(config));
    try {
      const sealed = sealSecrets(
        engine,
        sourceId,
        store.repo,
        password,
        config,
        !!input.insecureStorePassword,
      );
      setSourceConnection(engine.catalog, sourceId, config, sealed);
      engine.catalog
        .prepare('UPDATE sources SET options_json = ? WHERE id = ?')
        .run(JSON.stringify({ topology: test.topology.kind }), sourceId);
      getBackupJob(engine.catalog, sourceId); // the source's backup job, Active with the default policy
      recordOplogWindow(engine.catalog, sourceId, test.oplog);
      await store.saveProtection(sourceId); // what a catalog rebuild needs to resume protection
    } catch (err) {
      engine.catalog.prepare('DELETE FROM sources WHERE id = ?').run(sourceId);
      await rm(store.repo.sourceDir(sourceId), { recursive: true, force: true });
      throw err;
    }
    audit(engine.catalog, {
      actor: engine.actor,
      action: 'source.add',
      target: input.name,
      outcome: 'done',
      details: { uri: displayUri(config), topology: test.topology.kind },
    });
    const added = getSourceByName(engine.catalog, input.name);
    await engine.protect(added); // desktop / headless: protected from now on
    return { source: sourceView(engine, added), test };
  },
  'source.test': async (engine, { name }) => {
    const row = getSourceByName(engine.catalog, name);
    const { config, password } = await sourceConnection(engine, row);
    const report = await probeSource(config, password, engine.sourceTimeoutMs);
    recordOplogWindow(engine.catalog, row.id, report.oplog);
    return report;
  },
  'source.edit': async (engine, input) => {
    const row = getSourceByName(engine.catalog, input.name);
    const current = await sourceConnection(engine, row);
    const parsed = input.uri
      ? parseConnection(input.uri, { ...current.config, ...input })
      : { config: { ...current.config, ...pick(input) }, password: null };
    if (input.uri) parsed.config = keepSecretOptions(parsed.config, current.config);
    const password =
      input.password ?? parsed.password ?? (input.uri && !parsed.config.username ? null : current.password);
    const test = await probeSource(parsed.config, password, engine.sourceTimeoutMs);
    assertSupported(test);
    const store = await engine.stores.get(row.repository_id);
    const sealed = sealSecrets(
      engine,
      row.id,
      store.repo,
      password,
      parsed.config,
      !!input.insecureStorePassword,
    );
    const name = input.newName ?? row.name;
    if (input.newName) {
      upsertSource(engine.catalog, {
        id: row.id,
        name,
        repositoryId: row.repository_id,
        createdAt: row.created_at,
      });
      await writeSourceFile(store.repo, {
        sourceId: row.id,
        name,
        createdAt: row.created_at,
        uriRedacted: displayUri(parsed.config),
      });
    }
    setSourceConnection(engine.catalog, row.id, parsed.config, sealed);
    recordOplogWindow(engine.catalog, row.id, test.oplog);
    engine.catalog
      .prepare('UPDATE sources SET options_json = ? WHERE id = ?')
      .run(JSON.stringify({ topology: test.topology.kind }), row.id);
    await store.saveProtection(row.id);
    audit(engine.catalog, { actor: engine.actor, action: 'source.edit', target: name, outcome: 'done' });
    // A running capture holds a connection made with the old settings: reconnect with the new ones.
    // A job Misconfigured by the old settings (e.g. rejected credentials) gets another chance.
    const edited = getSourceByName(engine.catalog, name);
    if (getBackupJob(engine.catalog, row.id).state === 'misconfigured') await reactivate(engine, edited);
    else if (engine.capture.get(row.id)) {
      await engine.capture.stop(row.id);
      await engine.protect(edited);
    }
    return { source: sourceView(engine, getSourceByName(engine.catalog, name)), test };
  },
  'source.remove': async (engine, { name }) => {
    const row = getSourceByName(engine.catalog, name);
    // Stop capture first so that no segment appears between the check and the removal.
    const wasCapturing = !!engine.capture.get(row.id);
    await engine.capture.stop(row.id);
    const count = engine.catalog
      .prepare(
        'SELECT (SELECT count(*) FROM snapshots WHERE source_id = ?) + (SELECT count(*) FROM oplog_segments WHERE source_id = ?)',
      )
      .pluck()
      .get(row.id, row.id) as number;
    if (count > 0) {
      if (wasCapturing) await engine.protect(row);
      audit(engine.catalog, {
        actor: engine.actor,
        action: 'source.remove',
        target: name,
        outcome: 'refused',
        details: { backups: count },
      });
      throw new ApiError(
        'CONFLICT',
        `Source "${name}" still has ${count} backup file(s); terminate its backup job (which deletes them after confirmation) first.`,
      );
    }
    const store = await engine.stores.get(row.repository_id);
    engine.catalog.prepare('DELETE FROM sources WHERE id = ?').run(row.id);
    engine.secrets.delete(sourcePasswordKey(row.id));
    engine.secrets.delete(sourceUriOptionsKey(row.id));
    await rm(store.repo.sourceDir(row.id), { recursive: true, force: true });
    audit(engine.catalog, { actor: engine.actor, action: 'source.remove', target: name, outcome: 'done' });
    return { removed: name };
  },
  'source.list': (engine) => listSources(engine.catalog).map((r) => sourceView(engine, r)),
};

/** Seals the password and the connection string's secret options; null when there is neither. */
function sealSecrets(
  engine: Engine,
  sourceId: string,
  repo: Repository,
  password: string | null,
  config: ConnectionConfig,
  insecureOk: boolean,
): StoredSecrets | null {
  const options = secretOptions(config);
  return storedSecretsJson({
    password: password ? sealPassword(password, sourceId, repo, engine.secrets, insecureOk) : null,
    uriOptions: options ? sealUriSecrets(options, sourceId, repo, engine.secrets, insecureOk) : null,
  });
}

function pick(input: {
  tlsCaFile?: string;
  tlsCertFile?: string;
  readPreference?: string;
}): Partial<ConnectionConfig> {
  const out: Partial<ConnectionConfig> = {};
  if (input.tlsCaFile) out.tlsCaFile = input.tlsCaFile;
  if (input.tlsCertFile) out.tlsCertFile = input.tlsCertFile;
  if (input.readPreference) out.readPreference = input.readPreference;
  return out;
}
