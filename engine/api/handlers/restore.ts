import { randomUUID } from 'node:crypto';
import { audit } from '../../catalog/audit.js';
import { parseRestorePoint, planRestore, type RestorePoint } from '../../restore/planner.js';
import { finishRestore, getRestore, insertRestore, listRestores } from '../../catalog/restores.js';
import { snapshotsOfSource } from '../../catalog/snapshots.js';
import { getSourceByName, type SourceRow } from '../../catalog/sources.js';
import type { CatalogDb } from '../../catalog/open-catalog.js';
import { ApiError, toApiError } from '../../errors.js';
import { NamespaceFilter } from '../../oplog/namespace-selection.js';
import { readSegment } from '../../repo/segment-file.js';
import { restoreToMongo } from '../../restore/restore-to-mongo.js';
import { NamespaceStates } from '../../restore/namespace-states.js';
import { LONG_WORK_MONITOR_TIMEOUT_MS, connectSource } from '../../mongo/connect.js';
import { displayUri, parseConnection } from '../../mongo/connection-config.js';
import { restorePlanView, restoreView } from '../views.js';
import type { Services } from '../../services.js';
import { writeFileDurable } from '../../repo/durable-file.js';
import { validateRestore } from '../../verify/restore-validation.js';
import { validationHtml } from '../../verify/validation-html.js';
import type { ValidationReport } from '../../verify/restore-validation.js';
import type { PartialHandlers } from './types.js';

/** A restore point as typed, or the id of one of the source's snapshots (restored at its consistent point). */
export function pointOf(db: CatalogDb, source: SourceRow, at: string): RestorePoint {
  const snap = snapshotsOfSource(db, source.id).find((s) => s.id === at);
  if (!snap) return parseRestorePoint(at);
  if (snap.status !== 'complete' || snap.consistent_t === null || snap.consistent_i === null)
    throw new ApiError('CONFLICT', `Snapshot ${at} is ${snap.status}; it cannot be restored.`);
  return { kind: 'ts', ts: { t: snap.consistent_t, i: snap.consistent_i } };
}

interface TargetInput {
  source: string;
  at: string;
  targetUri?: string | undefined;
  localMongod?: boolean | undefined;
  password?: string | undefined;
  include: string[];
  exclude: string[];
  rename: string[];
}

/**
 * The plan for a point, refused (NOT_FOUND with the reason and the nearest restorable interval) when the
 * point cannot be restored, and only once every segment of its range has been read and checked: a
 * corrupt one refuses the restore before anything is written. Every restore kind starts here.
 */
export async function checkedPlan(svc: Pick<Services, 'catalog' | 'stores'>, source: SourceRow, at: string) {
  const store = await svc.stores.get(source.repository_id);
  const plan = planRestore(svc.catalog, source.id, pointOf(svc.catalog, source, at));
  if (!plan.ok)
    throw new ApiError('NOT_FOUND', `${at} cannot be restored: ${plan.message}`, {
      reason: plan.reason,
      nearest: plan.nearest ?? null,
    });
  for (const seg of plan.segments) await readSegment(store.repo, seg.path);
  return { store, plan };
}

/**
 * What restore and validation both need, checked before the target is touched: the source, a plan for
 * the point, the namespace selection, every segment of the range readable (a corrupt one refuses the
 * restore instead of leaving a half-restored target), and a connected client.
 */
async function prepare(
  svc: Pick<Services, 'catalog' | 'stores' | 'localMongod'>,
  input: TargetInput,
  startLocal: boolean,
) {
  const db = svc.catalog;
  const source = getSourceByName(db, input.source);
  const selection = new NamespaceFilter({
    include: input.include,
    exclude: input.exclude,
    rename: input.rename,
  });
  const { store, plan } = await checkedPlan(svc, source, input.at);
  const { config, password } = parseConnection(await targetUri(svc, input, startLocal));
  const client = await connectSource(config, input.password ?? password, 10_000, {
    monitorTimeoutMs: LONG_WORK_MONITOR_TIMEOUT_MS,
  });
  return { db, source, store, plan, selection, config, client };
}

/**
 * The target's connection string: the one given, or the throwaway local mongod's (started first when
 * a restore asks for it; a validation needs the running one).
 */
async function targetUri(
  svc: Pick<Services, 'localMongod'>,
  input: TargetInput,
  startLocal: boolean,
): Promise<string> {
  if (input.targetUri) return input.targetUri;
  if (startLocal) return (await svc.localMongod.ensureStarted()).uri!;
  const running = svc.localMongod.status();
  if (running.state !== 'running' || !running.uri)
    throw new ApiError(
      'CONFLICT',
      'The throwaway local mongod is not running (restore into it, or local-mongod start).',
      {
        reason: 'LOCAL_MONGOD_NOT_RUNNING',
      },
    );
  return running.uri;
}

/** Documents compared per namespace by the validation that follows every restore. */
const AFTER_RESTORE_SAMPLE = 100;

export const restoreHandlers: PartialHandlers<
  'restore.plan' | 'restore.run' | 'restore.list' | 'restore.get' | 'restore.validate' | 'restore.report',
  Pick<Services, 'catalog' | 'stores' | 'tasks' | 'actor' | 'localMongod'>
> = {
  'restore.plan': async (svc, { source, at }) => {
    const point = parseRestorePoint(at);
    const s = getSourceByName(svc.catalog, source);
    await svc.stores.get(s.repository_id); // reconciled before answering
    return restorePlanView(s.name, at, planRestore(svc.catalog, s.id, point));
  },
  'restore.run': async (svc, input) => {
    const { db, source, store, plan, selection, config, client } = await prepare(svc, input, true);
    const restoreId = randomUUID();
    const options = {
      include: input.include,
      exclude: input.exclude,
      rename: input.rename,
      drop: input.drop,
      strict: input.strict,
      parallel: input.parallel,
      writeConcern: input.writeConcern ?? null,
      usersRoles: input.usersRoles,
      ...(input.localMongod ? { localMongod: true } : {}),
    };
    const recorded = { actor: svc.actor, target: displayUri(config), options };
    insertRestore(db, {
      id: restoreId,
      sourceId: source.id,
      point: input.at,
      kind: 'new-target',
      details: recorded,
    });
    audit(db, {
      actor: svc.actor,
      action: 'restore.start',
      target: source.name,
      outcome: 'done',
      details: { restoreId, at: input.at, target: displayUri(config), options },
    });
    const task = svc.tasks.start('restore', async (ctx) => {
      const states = new NamespaceStates();
      try {
        const report = await restoreToMongo({
          restoreId,
          sourceName: source.name,
          point: input.at,
          repo: store.repo,
          plan,
          client,
          selection,
          drop: input.drop,
          strict: input.strict,
          parallel: input.parallel,
          ...(input.writeConcern !== undefined ? { writeConcern: { w: input.writeConcern } } : {}),
          usersRoles: input.usersRoles,
          states,
          ctx,
        });
        ctx.progress({ message: 'validating the target' });
        const validation = await validateRestore({
          repo: store.repo,
          plan,
          point: input.at,
          client,
          selection,
          sample: AFTER_RESTORE_SAMPLE,
          full: false,
          usersRoles: input.usersRoles,
          ctx,
        });
        Object.assign(report, { validation });
        finishRestore(db, restoreId, 'succeeded', { ...recorded, report });
        audit(db, {
          actor: svc.actor,
          action: 'restore.finish',
          target: source.name,
          outcome: 'done',
          details: {
            restoreId,
            durationMs: report.durationMs,
            failures: report.failures.count,
            validated: validation.passed,
          },
        });
        return report;
      } catch (err) {
        const e = toApiError(err);
        const state = e.code === 'CANCELLED' ? 'cancelled' : 'failed';
        // Where each target namespace was left (untouched, dropped, partially restored, restored).
        const namespaceStates = states.list();
        finishRestore(db, restoreId, state, {
          ...recorded,
          error: e,
          markerLeft: true,
          report: { state, namespaceStates },
        });
        audit(db, {
          actor: svc.actor,
          action: 'restore.finish',
          target: source.name,
          outcome: 'failed',
          details: { restoreId, state, error: e.message },
        });
        throw err;
      } finally {
        await client.close().catch(() => undefined);
      }
    });
    return { taskId: task.taskId };
  },
  'restore.validate': async (svc, input) => {
    const { source, store, plan, selection, config, client } = await prepare(svc, input, false);
    const task = svc.tasks.start('restore.validate', async (ctx) => {
      try {
        const report = await validateRestore({
          repo: store.repo,
          plan,
          point: input.at,
          client,
          selection,
          sample: input.sample,
          full: input.full,
          usersRoles: input.usersRoles,
          ctx,
        });
        if (input.html) {
          const html = validationHtml(report, {
            source: source.name,
            target: displayUri(config),
            generatedAt: new Date().toISOString(),
          });
          await writeFileDurable(input.html, [Buffer.from(html)]);
        }
        audit(svc.catalog, {
          actor: svc.actor,
          action: 'restore.validate',
          target: source.name,
          outcome: report.passed ? 'done' : 'failed',
          details: { at: input.at, target: displayUri(config), passed: report.passed },
        });
        return report;
      } finally {
        await client.close().catch(() => undefined);
      }
    });
    return { taskId: task.taskId };
  },
  'restore.list': (svc) => listRestores(svc.catalog).map((r) => restoreView(svc.catalog, r)),
  'restore.get': (svc, { id }) => {
    const r = getRestore(svc.catalog, id);
    if (!r) throw new ApiError('NOT_FOUND', `No restore ${id}.`);
    return restoreView(svc.catalog, r);
  },
  'restore.report': (svc, { id, format }) => {
    const r = getRestore(svc.catalog, id);
    if (!r) throw new ApiError('NOT_FOUND', `No restore ${id}.`);
    const view = restoreView(svc.catalog, r);
    const base = `restore-${view.source}-${id.slice(0, 8)}`;
    if (format === 'json')
      return {
        fileName: `${base}.json`,
        mediaType: 'application/json' as const,
        content: `${JSON.stringify(view, null, 2)}\n`,
      };
    const report = view.report as {
      validation?: ValidationReport;
      phases?: { name: string; ms: number }[];
    } | null;
    if (!report?.validation)
      throw new ApiError(
        'NOT_FOUND',
        `Restore ${id} has no validation report (${view.state === 'succeeded' ? 'this kind is not validated after it runs' : `it ${view.state}`}); its JSON report has what it did.`,
      );
    const html = validationHtml(report.validation, {
      source: view.source,
      target: view.target ?? '—',
      generatedAt: view.finishedAt ?? view.startedAt,
      ...(report.phases ? { phases: report.phases } : {}),
    });
    return { fileName: `${base}.html`, mediaType: 'text/html' as const, content: html };
  },
};
