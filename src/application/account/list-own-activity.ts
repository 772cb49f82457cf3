import { inject, injectable } from 'inversify';
import type { AuditEventType } from '../ports/audit-log';
import type { AuditPosition, AuditTrail } from '../ports/audit-trail';
import { auditPage, type AuditPage } from '../shared/audit-page';
import { PORTS } from '../ports/tokens';

/** What a user sees of their own trail: sign-ins, failures, credential and status changes, revocations. */
export const ACTIVITY_TYPES: readonly AuditEventType[] = [
  'login.succeeded',
  'login.failed',
  'account.locked',
  'account.unlocked',
  'email.verified',
  'password.reset_requested',
  'password.reset',
  'password.changed',
  'credentials.updated',
  'session.revoked',
  'refresh_token.reuse_detected',
  'user.status_changed',
  'user.roles_changed',
  'mfa.enabled',
  'mfa.disabled',
  'mfa.recovery_codes_regenerated',
  'mfa.recovery_code_used',
];

/**
 * GET /users/me/activity: the user's own security events, newest first, by keyset. Where someone else acted
 * (an admin), the actor's address and browser are not the user's to see: left out.
 */
@injectable()
export class ListOwnActivity {
  constructor(@inject(PORTS.AuditTrail) private readonly trail: AuditTrail) {}

  async execute(input: { userId: string; limit: number; after: AuditPosition | null }): Promise<AuditPage> {
    const page = await auditPage(this.trail, { subjectId: input.userId, types: ACTIVITY_TYPES }, input.limit, input.after);
    const records = page.records.map((r) => (r.actorId === null || r.actorId === input.userId ? r : { ...r, ip: null, userAgent: null }));
    return { records, next: page.next };
  }
}
