import { inject, injectable } from 'inversify';
import type { RevokeReason } from '@domain/session/session';
import type { Clock } from '../ports/clock';
import type { UnitOfWork } from '../ports/unit-of-work';
import { selfAuditEntry } from '../shared/audit-entry';
import { type ClientContext, UNKNOWN_CLIENT } from '../shared/client-context';
import { cutOffEarlierAccess, endOtherAccess } from './revoke-sessions';
import { PORTS } from '../ports/tokens';

export type LogoutScope = 'local' | 'others' | 'global';

const REASONS: Record<LogoutScope, RevokeReason> = {
  local: 'logout',
  others: 'logout_others',
  global: 'logout_global',
};

/**
 * local: this session (a pending email change stays: the owner may have asked for it from here before signing
 * out); others: every session of the user but this one, and a pending email change with its link (see
 * endOtherAccess); global: all of them, and (like a password change) every outstanding one-time link and a
 * pending email change are void.
 */
@injectable()
export class Logout {
  constructor(
    @inject(PORTS.UnitOfWork) private readonly uow: UnitOfWork,
    @inject(PORTS.Clock) private readonly clock: Clock,
  ) {}

  async execute(input: { userId: string; sessionId: string; scope: LogoutScope; client?: ClientContext }): Promise<{ revoked: number }> {
    const reason = REASONS[input.scope];
    return this.uow.run(async (repos) => {
      // The user's lock first (as every writer of the account takes it), then the sessions'.
      const user = await repos.users.findByIdForUpdate(input.userId);
      if (!user) return { revoked: 0 };
      let revoked: number;
      const session = input.scope === 'local' ? await repos.sessions.findByIdForUpdate(input.sessionId) : null;
      // Dated once the locks are held: a change that committed during the wait comes before the logout in time too.
      const now = this.clock.now();
      if (input.scope === 'local') {
        revoked = session && session.userId === user.id && session.isActive(now) ? 1 : 0;
        if (session && revoked) {
          session.revoke(now, reason);
          await repos.sessions.save(session);
        }
      } else {
        // The pending change goes even when no other session is left: its asker may have signed out already.
        revoked =
          input.scope === 'others' ? await endOtherAccess(repos, user, now, reason, input.sessionId) : await cutOffEarlierAccess(repos, user, now, reason);
        await repos.users.save(user);
      }
      if (revoked > 0) {
        const client = input.client ?? UNKNOWN_CLIENT;
        await repos.audit.record({ ...selfAuditEntry('session.revoked', client, input.userId, now), reason });
      }
      return { revoked };
    });
  }
}
