/**
 * A source's view at a restore point, ready to read: the plan for the point
 * (refused with the reason, as restores are), the view found or made by the
 * cache, and its file open. `withView` runs a read on it and, when the file
 * turns out damaged while being read, removes it, builds it again and runs
 * the read once more: a damaged view is never answered from.
 */
import { ApiError } from '../errors.js';
import { readSettings } from '../catalog/settings-store.js';
import { getSourceByName } from '../catalog/sources.js';
import { planRestore, type RestorePoint } from '../restore/planner.js';
import type { Services } from '../services.js';
import type { ViewRow } from '../catalog/view-index.js';
import type { ViewDb } from '../catalog/view-store.js';
import type { BuildProgress, OkPlan } from './build-view.js';
import { isDamage, type ViewHow } from './view-cache.js';

export type PointViewDeps = Pick<Services, 'catalog' | 'stores' | 'views'>;

export interface PointView {
  row: ViewRow;
  how: ViewHow;
  plan: OkPlan;
  db: ViewDb;
}

export function planFor(deps: PointViewDeps, sourceId: string, at: string, point: RestorePoint): OkPlan {
  const plan = planRestore(deps.catalog, sourceId, point);
  if (!plan.ok)
    throw new ApiError('NOT_FOUND', `${at} cannot be queried: ${plan.message}`, {
      reason: plan.reason,
      nearest: plan.nearest ?? null,
    });
  return plan;
}

export async function pointView(
  deps: PointViewDeps,
  sourceName: string,
  at: string,
  point: RestorePoint,
  ctx?: BuildProgress,
): Promise<PointView> {
  const source = getSourceByName(deps.catalog, sourceName);
  const store = await deps.stores.get(source.repository_id);
  const plan = planFor(deps, source.id, at, point);
  const s = readSettings(deps.catalog);
  const { row, how } = await deps.views.ensure(
    { id: source.id, name: source.name, repo: store.repo },
    plan,
    { maxBytes: s.viewCacheMaxBytes, maxAgeDays: s.viewMaxAgeDays },
    ctx,
    point.kind === 'latest',
  );
  return { row, how, plan, db: deps.views.open(row) };
}

/**
 * pointView for a read that spans awaits (a selective restore writing between its reads): the view
 * is leased, so that no move in place takes it, until `release` is called. The cache leases what it
 * hands out until the next turn of the event loop (ViewCache.handOut), so this lease, taken in the
 * same turn, leaves no instant in which the view could be taken.
 */
export async function leasedPointView(
  deps: PointViewDeps,
  sourceName: string,
  at: string,
  point: RestorePoint,
  ctx?: BuildProgress,
): Promise<PointView & { release: () => void }> {
  const v = await pointView(deps, sourceName, at, point, ctx);
  return { ...v, release: deps.views.lease(v.row.id) };
}

/** Runs `read` on the view of the point; a view found damaged is rebuilt and read again, once. */
export async function withView<R>(
  deps: PointViewDeps,
  sourceName: string,
  at: string,
  point: RestorePoint,
  read: (v: PointView) => R,
): Promise<R> {
  for (let attempt = 0; ; attempt++) {
    let v: PointView | null = null;
    try {
      v = await pointView(deps, sourceName, at, point);
      return read(v);
    } catch (err) {
      if (attempt > 0 && (err as { code?: string }).code === 'VIEW_MOVED')
        throw new ApiError('CONFLICT', `${(err as Error).message} (twice in a row).`);
      if (attempt > 0 || !isDamage(err)) throw err;
      if (v) deps.views.discard(v.row);
    }
  }
}
