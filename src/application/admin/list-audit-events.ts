import { inject, injectable } from 'inversify';
import type { AuditFilter, AuditPosition, AuditTrail } from '../ports/audit-trail';
import { auditPage, type AuditPage } from '../shared/audit-page';
import { PORTS } from '../ports/tokens';

/** GET /admin/audit-events: the whole trail, filtered, newest first, by keyset. */
@injectable()
export class ListAuditEvents {
  constructor(@inject(PORTS.AuditTrail) private readonly trail: AuditTrail) {}

  execute(input: { filter: AuditFilter; limit: number; after: AuditPosition | null }): Promise<AuditPage> {
    return auditPage(this.trail, input.filter, input.limit, input.after);
  }
}
