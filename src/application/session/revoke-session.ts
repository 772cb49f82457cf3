import { Errors } from '../shared/errors';
import { inject, injectable } from 'inversify';
import { selfAuditEntry } from '../shared/audit-entry';
import type { ClientContext } from '../shared/client-context';
import type { Clock } from '../ports/clock';
import type { UnitOfWork } from '../ports/unit-of-work';
import { PORTS } from '../ports/tokens';

/**
 * Signs one of the user's own sessions out (the current one too, if asked). Another user's session, an unknown
 * id and an already ended session all answer the same NOT_FOUND, so session ids cannot be probed.
 */
@injectable()
export class RevokeSession {
  constructor(
    @inject(PORTS.UnitOfWork) private readonly uow: UnitOfWork,
    @inject(PORTS.Clock) private readonly clock: Clock,
  ) {}

  async execute(input: { userId: string; sessionId: string; client: ClientContext }): Promise<void> {
    const now = this.clock.now();
    await this.uow.run(async (repos) => {
      const session = await repos.sessions.findByIdForUpdate(input.sessionId);
      if (!session || session.userId !== input.userId || !session.isActive(now)) {
        throw Errors.sessionNotFound();
      }
      session.revoke(now, 'user');
      await repos.sessions.save(session);
      await repos.audit.record(selfAuditEntry('session.revoked', input.client, input.userId, now));
    });
  }
}
