import { ApiError } from '../../errors.js';
import { listAlerts, resolveAlertById } from '../../catalog/alerts.js';
import { audit } from '../../catalog/audit.js';
import { getSourceByName } from '../../catalog/sources.js';
import type { Services } from '../../services.js';
import { alertView } from '../views.js';
import type { PartialHandlers } from './types.js';

export const alertHandlers: PartialHandlers<
  'alert.list' | 'alert.resolve',
  Pick<Services, 'catalog' | 'actor'>
> = {
  'alert.list': (svc, { source, open }) => {
    const sourceId = source ? getSourceByName(svc.catalog, source).id : undefined;
    return listAlerts(svc.catalog, { ...(sourceId ? { sourceId } : {}), ...(open ? { open } : {}) }).map(
      (a) => alertView(svc.catalog, a),
    );
  },
  'alert.resolve': (svc, { id }) => {
    const row = resolveAlertById(svc.catalog, id);
    if (!row) throw new ApiError('NOT_FOUND', `No alert ${id}.`);
    audit(svc.catalog, {
      actor: svc.actor,
      action: 'alert.resolve',
      target: String(id),
      outcome: 'done',
      details: { kind: row.kind, message: row.message },
    });
    return alertView(svc.catalog, row);
  },
};
