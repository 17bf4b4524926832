/**
 * restore.in-place: the "pause, restore, resume" flow of the seed documents
 * (Atlas pauses the Online Archive, restores, resumes). Destructive, so the
 * caller types the source's name; every step goes to the audit log. Capture
 * of the source is paused while the chosen namespaces are dropped and
 * restored, resumed after (it then captures the restore's own writes, so the
 * coverage has no gap), and a new snapshot is taken at once because history
 * was rewritten. The restore history records the restore as `in-place`, which
 * the timeline can mark.
 */
import { randomUUID } from 'node:crypto';
import { audit } from '../../catalog/audit.js';
import { finishRestore, insertRestore } from '../../catalog/restores.js';
import { getSourceByName } from '../../catalog/sources.js';
import { ApiError, toApiError } from '../../errors.js';
import { LONG_WORK_MONITOR_TIMEOUT_MS, connectSource } from '../../mongo/connect.js';
import { displayUri } from '../../mongo/connection-config.js';
import { sourceConnection } from '../../mongo/source-connection.js';
import { NamespaceFilter } from '../../oplog/namespace-selection.js';
import { NamespaceStates } from '../../restore/namespace-states.js';
import { restoreToMongo } from '../../restore/restore-to-mongo.js';
import type { Services } from '../../services.js';
import { checkedPlan } from './restore.js';
import type { PartialHandlers } from './types.js';

export const restoreInPlaceHandlers: PartialHandlers<
  'restore.in-place',
  Pick<Services, 'catalog' | 'stores' | 'tasks' | 'actor' | 'secrets' | 'capture' | 'protection'>
> = {
  'restore.in-place': async (svc, input) => {
    const db = svc.catalog;
    const source = getSourceByName(db, input.source);
    if (input.confirm !== source.name)
      throw new ApiError(
        'CONFLICT',
        `An in-place restore replaces data in ${source.name} itself: confirm it by typing the source's name exactly (got "${input.confirm}").`,
      );
    const selection = new NamespaceFilter({ include: input.include, exclude: input.exclude });
    const { store, plan } = await checkedPlan(svc, source, input.at);
    const { config, password } = await sourceConnection(svc, source);
    const client = await connectSource(config, password, 10_000, {
      monitorTimeoutMs: LONG_WORK_MONITOR_TIMEOUT_MS,
    });
    const restoreId = randomUUID();
    const options = {
      include: input.include,
      exclude: input.exclude,
      strict: input.strict,
      parallel: input.parallel,
    };
    const recorded = { actor: svc.actor, target: displayUri(config), options };
    insertRestore(db, {
      id: restoreId,
      sourceId: source.id,
      point: input.at,
      kind: 'in-place',
      details: recorded,
    });
    const step = (action: string, outcome: 'done' | 'failed', details: Record<string, unknown> = {}) =>
      audit(db, {
        actor: svc.actor,
        action,
        target: source.name,
        outcome,
        details: { restoreId, ...details },
      });
    step('restore.in-place.start', 'done', { at: input.at, options });

    const task = svc.tasks.start('restore.in-place', async (ctx) => {
      const wasCapturing = !!svc.capture.get(source.id);
      let paused = false;
      const states = new NamespaceStates();
      try {
        if (wasCapturing) {
          ctx.progress({ message: 'pausing capture' });
          await svc.protection.pauseCapture(source);
          paused = true;
          step('capture.pause', 'done', { reason: 'in-place restore' });
        }
        const report = await restoreToMongo({
          restoreId,
          sourceName: source.name,
          point: input.at,
          repo: store.repo,
          plan,
          client,
          selection,
          drop: true, // the chosen namespaces are replaced: that is what "in place" means
          strict: input.strict,
          parallel: input.parallel,
          states,
          ctx,
        });
        step('restore.in-place.restored', 'done', {
          durationMs: report.durationMs,
          failures: report.failures.count,
        });
        if (paused) {
          svc.protection.resumeCapture(source);
          paused = false;
          step('capture.resume', 'done');
        }
        // History was rewritten: a new snapshot makes the restored state a restore point of its own.
        ctx.progress({ message: 'taking a new snapshot' });
        const snap = await svc.tasks.wait(svc.capture.startSnapshot(source, {}).taskId);
        step('restore.in-place.snapshot', snap.state === 'succeeded' ? 'done' : 'failed', {
          snapshotTask: snap.taskId,
          ...(snap.error ? { error: snap.error.message } : {}),
        });
        const result = {
          ...report,
          inPlace: true,
          newSnapshot: snap.state === 'succeeded' ? (snap.result as { snapshotId: string }).snapshotId : null,
        };
        finishRestore(db, restoreId, 'succeeded', { ...recorded, report: result });
        step('restore.in-place.finish', 'done');
        return result;
      } catch (err) {
        const e = toApiError(err);
        const state = e.code === 'CANCELLED' ? 'cancelled' : 'failed';
        // Exactly where each chosen namespace was left: untouched, dropped, partially restored (with how
        // far), or restored; the __mbm_restore_incomplete marker in their databases says the same on the
        // server.
        const namespaceStates = states.list();
        const count = (k: string) => namespaceStates.filter((n) => n.state === k).length;
        const summary = `untouched ${count('untouched')}, dropped ${count('dropped')}, partially restored ${count('partially restored')}, restored ${count('restored')}`;
        finishRestore(db, restoreId, state, {
          ...recorded,
          error: e,
          markerLeft: true,
          report: { state, namespaceStates },
        });
        step('restore.in-place.finish', 'failed', { state, error: e.message, namespaceStates });
        if (e.code === 'CANCELLED') throw err;
        throw new ApiError(e.code, `${e.message} The in-place restore stopped midway (${summary}).`, {
          ...(e.details && typeof e.details === 'object' ? e.details : {}),
          restoreId,
          namespaceStates,
        });
      } finally {
        if (paused) {
          svc.protection.resumeCapture(source);
          step('capture.resume', 'done');
        }
        await client.close().catch(() => undefined);
      }
    });
    return { taskId: task.taskId };
  },
};
