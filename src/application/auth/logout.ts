import type { RevokeReason } from '@domain/session/session';
import type { Clock } from '../ports/clock';
import type { UnitOfWork } from '../ports/unit-of-work';
import { selfAuditEntry } from './audit-entry';
import { type ClientContext, UNKNOWN_CLIENT } from './client-context';

export type LogoutScope = 'local' | 'others' | 'global';

const REASONS: Record<LogoutScope, RevokeReason> = {
  local: 'logout',
  others: 'logout_others',
  global: 'logout_global',
};

/** local: this session; others: every session of the user but this one; global: all of them. */
export class Logout {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly clock: Clock,
  ) {}

  async execute(input: { userId: string; sessionId: string; scope: LogoutScope; client?: ClientContext }): Promise<{ revoked: number }> {
    const now = this.clock.now();
    return this.uow.run(async (repos) => {
      const sessions = await repos.sessions.findActiveByUser(input.userId, now);
      const targets = sessions.filter((s) =>
        input.scope === 'global' ? true : input.scope === 'local' ? s.id === input.sessionId : s.id !== input.sessionId,
      );
      for (const session of targets) {
        session.revoke(now, REASONS[input.scope]);
        await repos.sessions.save(session);
      }
      if (targets.length > 0) {
        const client = input.client ?? UNKNOWN_CLIENT;
        await repos.audit.record({ ...selfAuditEntry('session.revoked', client, input.userId, now), reason: REASONS[input.scope] });
      }
      return { revoked: targets.length };
    });
  }
}
