import { listAudit } from '../../catalog/audit.js';
import type { Services } from '../../services.js';
import { auditEntryView } from '../views.js';
import type { PartialHandlers } from './types.js';

export const auditHandlers: PartialHandlers<'audit.list', Pick<Services, 'catalog'>> = {
  'audit.list': (svc, { limit }) => listAudit(svc.catalog, limit ?? 100).map(auditEntryView),
};
