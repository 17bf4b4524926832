import { rm } from 'node:fs/promises';
import { ApiError } from '../../errors.js';
import { audit } from '../../catalog/audit.js';
import {
  deleteSource,
  findSourceByName,
  getSourceByName,
  setSourceTopology,
  listSources,
  setSourceConnection,
  upsertSource,
  isImportedSource,
} from '../../catalog/sources.js';
import type { Services } from '../../services.js';
import {
  displayUri,
  keepSecretOptions,
  parseConnection,
  secretOptions,
  type ConnectionConfig,
} from '../../mongo/connection-config.js';
import { stoppedMetrics, type CaptureMetrics } from '../../source/oplog-capture.js';
import { assertSupported, probeSource, type ProbeReport } from '../../source/probe.js';
import {
  sealPassword,
  sealUriSecrets,
  storedSecretsJson,
  type StoredSecrets,
} from '../../mongo/source-secret.js';
import type { Repository } from '../../repo/repository.js';
import { sourcePasswordKey, sourceUriOptionsKey, type SecretStore } from '../../secrets.js';
import { sourceConnection } from '../../mongo/source-connection.js';
import { writeSourceFile } from '../../repo/source-file.js';
import type { PartialHandlers } from './types.js';
import { createBackupJob, getBackupJob } from '../../schedule/backup-jobs.js';
import { backupFileCount } from '../../catalog/storage.js';
import { getOplogWindow, recordOplogWindow } from '../../catalog/oplog-window.js';
import { listAlerts } from '../../catalog/alerts.js';
import { readCaptureStatus } from '../../catalog/capture-status.js';
import { snapshotsOfSource } from '../../catalog/snapshots.js';
import { alertView, coverageView, metricsView, oplogWindowView, snapshotView, sourceView } from '../views.js';

export const sourceHandlers: PartialHandlers<
  | 'source.add'
  | 'source.test'
  | 'source.edit'
  | 'source.remove'
  | 'source.list'
  | 'source.coverage'
  | 'source.status',
  Pick<Services, 'catalog' | 'stores' | 'secrets' | 'capture' | 'protection' | 'sourceTimeoutMs' | 'actor'>
> = {
  'source.add': async (svc, input) => {
    if (findSourceByName(svc.catalog, input.name)) {
      throw new ApiError('CONFLICT', `A source named "${input.name}" already exists.`);
    }
    const { config, password: fromUri } = parseConnection(input.uri, input);
    const password = input.password ?? fromUri;
    if (password && !config.username)
      throw new ApiError(
        'INVALID_INPUT',
        'A password was given without a user name in the connection string.',
      );
    const store = await svc.stores.get(input.repository);
    // Test first: nothing is saved for a source that cannot be reached, authenticated, or is sharded.
    const test: ProbeReport = await probeSource(config, password, svc.sourceTimeoutMs);
    assertSupported(test);
    const sourceId = await store.ensureSource(input.name, displayUri(config));
    try {
      const sealed = sealSecrets(
        svc.secrets,
        sourceId,
        store.repo,
        password,
        config,
        !!input.insecureStorePassword,
      );
      setSourceConnection(svc.catalog, sourceId, config, sealed);
      setSourceTopology(svc.catalog, sourceId, test.topology.kind);
      createBackupJob(svc.catalog, sourceId); // the source's backup job, Active with the default policy
      recordOplogWindow(svc.catalog, sourceId, test.oplog);
      await store.saveProtection(sourceId); // what a catalog rebuild needs to resume protection
    } catch (err) {
      deleteSource(svc.catalog, sourceId);
      await rm(store.repo.sourceDir(sourceId), { recursive: true, force: true });
      throw err;
    }
    audit(svc.catalog, {
      actor: svc.actor,
      action: 'source.add',
      target: input.name,
      outcome: 'done',
      details: { uri: displayUri(config), topology: test.topology.kind },
    });
    const added = getSourceByName(svc.catalog, input.name);
    await svc.protection.protect(added); // desktop / headless: protected from now on
    return { source: sourceView(svc.catalog, added), test };
  },
  'source.test': async (svc, { name }) => {
    const row = getSourceByName(svc.catalog, name);
    const { config, password } = await sourceConnection(svc, row);
    const report = await probeSource(config, password, svc.sourceTimeoutMs);
    recordOplogWindow(svc.catalog, row.id, report.oplog);
    return report;
  },
  'source.edit': async (svc, input) => {
    const row = getSourceByName(svc.catalog, input.name);
    const current = await sourceConnection(svc, row);
    const parsed = input.uri
      ? parseConnection(input.uri, { ...current.config, ...input })
      : { config: { ...current.config, ...pick(input) }, password: null };
    if (input.uri) parsed.config = keepSecretOptions(parsed.config, current.config);
    const password =
      input.password ?? parsed.password ?? (input.uri && !parsed.config.username ? null : current.password);
    const test = await probeSource(parsed.config, password, svc.sourceTimeoutMs);
    assertSupported(test);
    const store = await svc.stores.get(row.repository_id);
    const sealed = sealSecrets(
      svc.secrets,
      row.id,
      store.repo,
      password,
      parsed.config,
      !!input.insecureStorePassword,
    );
    const name = input.newName ?? row.name;
    if (input.newName) {
      upsertSource(svc.catalog, {
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
    setSourceConnection(svc.catalog, row.id, parsed.config, sealed);
    recordOplogWindow(svc.catalog, row.id, test.oplog);
    setSourceTopology(svc.catalog, row.id, test.topology.kind);
    await store.saveProtection(row.id);
    audit(svc.catalog, { actor: svc.actor, action: 'source.edit', target: name, outcome: 'done' });
    // A running capture holds a connection made with the old settings: reconnect with the new ones.
    // A job Misconfigured by the old settings (e.g. rejected credentials) gets another chance.
    const edited = getSourceByName(svc.catalog, name);
    if (getBackupJob(svc.catalog, row.id).state === 'misconfigured') await svc.protection.reactivate(edited);
    else await svc.protection.restart(edited);
    return { source: sourceView(svc.catalog, getSourceByName(svc.catalog, name)), test };
  },
  'source.remove': async (svc, { name }) => {
    const row = getSourceByName(svc.catalog, name);
    // Stop capture first so that no segment appears between the check and the removal.
    const wasCapturing = await svc.protection.stop(row.id);
    const count = backupFileCount(svc.catalog, row.id);
    if (count > 0) {
      if (wasCapturing) await svc.protection.protect(row);
      audit(svc.catalog, {
        actor: svc.actor,
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
    const store = await svc.stores.get(row.repository_id);
    deleteSource(svc.catalog, row.id);
    svc.secrets.delete(sourcePasswordKey(row.id));
    svc.secrets.delete(sourceUriOptionsKey(row.id));
    await rm(store.repo.sourceDir(row.id), { recursive: true, force: true });
    audit(svc.catalog, { actor: svc.actor, action: 'source.remove', target: name, outcome: 'done' });
    return { removed: name };
  },
  'source.list': (svc) => listSources(svc.catalog).map((r) => sourceView(svc.catalog, r)),
  'source.coverage': async (svc, { source }) => {
    const s = getSourceByName(svc.catalog, source);
    await svc.stores.get(s.repository_id); // reconciled before answering
    return coverageView(svc.catalog, s);
  },
  'source.status': async (svc, { source }) => {
    const row = getSourceByName(svc.catalog, source);
    await svc.stores.get(row.repository_id);
    const coverage = coverageView(svc.catalog, row);
    const snaps = snapshotsOfSource(svc.catalog, row.id).filter((s) => s.status === 'complete');
    // Live from this process, or as last written by the process that captures (desktop / headless).
    const stored = readCaptureStatus(svc.catalog, row.id);
    const fresh =
      stored && Date.now() - Date.parse(stored.updatedAt) < 15_000
        ? (stored.metrics as CaptureMetrics)
        : null;
    const lastCaptured = coverage.intervals.at(-1)?.end;
    const capture = svc.capture.get(row.id)?.metrics ??
      fresh ?? {
        ...stoppedMetrics(),
        capturedTs: lastCaptured ? { t: lastCaptured.t, i: lastCaptured.i } : null,
      };
    return {
      source: row.name,
      imported: isImportedSource(svc.catalog, row.id),
      capture: metricsView(capture),
      lastSnapshot: snaps.length ? snapshotView(snaps[snaps.length - 1]!) : null,
      coverage,
      openAlerts: listAlerts(svc.catalog, { sourceId: row.id, open: true }).map((a) =>
        alertView(svc.catalog, a),
      ),
      oplogWindow: oplogWindowView(getOplogWindow(svc.catalog, row.id)),
    };
  },
};

/** Seals the password and the connection string's secret options; null when there is neither. */
function sealSecrets(
  secrets: SecretStore,
  sourceId: string,
  repo: Repository,
  password: string | null,
  config: ConnectionConfig,
  insecureOk: boolean,
): StoredSecrets | null {
  const options = secretOptions(config);
  return storedSecretsJson({
    password: password ? sealPassword(password, sourceId, repo, secrets, insecureOk) : null,
    uriOptions: options ? sealUriSecrets(options, sourceId, repo, secrets, insecureOk) : null,
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
