import { Errors } from '../shared/errors';
import { inject, injectable } from 'inversify';
import { selfAuditEntry } from '../shared/audit-entry';
import type { ClientContext } from '../shared/client-context';
import type { Clock } from '../ports/clock';
import type { Repositories, UnitOfWork } from '../ports/unit-of-work';
import { voidLinks } from './revoke-sessions';
import { PORTS } from '../ports/tokens';

/**
 * Signs one of the user's own sessions out (the current one too, if asked). Another user's session, an unknown
 * id and an already ended session all answer the same NOT_FOUND, so session ids cannot be probed.
 * Ending another session also drops a pending email change and voids its link, as `logout` with scope `others`
 * does (voidLinks): the session ended may be the one that asked for it. Ending the caller's own session keeps
 * it (the owner may have asked for the change from this device before signing out).
 */
@injectable()
export class RevokeSession {
  constructor(
    @inject(PORTS.UnitOfWork) private readonly uow: UnitOfWork,
    @inject(PORTS.Clock) private readonly clock: Clock,
  ) {}

  /** `currentSessionId`: the session of the access token asking. */
  async execute(input: { userId: string; sessionId: string; currentSessionId: string; client: ClientContext }): Promise<void> {
    await this.uow.run(async (repos) => {
      // Dated once the locks are held (each of the two reads the clock after taking them).
      const now = input.sessionId === input.currentSessionId ? await this.endOwn(repos, input) : await this.endOther(repos, input);
      await repos.audit.record(selfAuditEntry('session.revoked', input.client, input.userId, now));
    });
  }

  /** Only the session's lock: the account is not changed. */
  private async endOwn(repos: Repositories, input: { userId: string; sessionId: string }): Promise<Date> {
    const session = await repos.sessions.findByIdForUpdate(input.sessionId);
    const now = this.clock.now();
    if (!session || session.userId !== input.userId || !session.isActive(now)) throw Errors.sessionNotFound();
    session.revoke(now, 'user');
    await repos.sessions.save(session);
    return now;
  }

  /**
   * The user's lock first (as every writer of the account takes it), then the session's. Whose it is is read first,
   * without a lock (a session never changes hands): another user's session id is refused before any lock, as an
   * unknown one is (until stop 65 the caller held a lock on another account's session row before the 404, delaying
   * its refresh: a review of authorisation; the ids are visible to resource servers as `sid`).
   */
  private async endOther(repos: Repositories, input: { userId: string; sessionId: string }): Promise<Date> {
    if ((await repos.sessions.findById(input.sessionId))?.userId !== input.userId) throw Errors.sessionNotFound();
    const user = await repos.users.findByIdForUpdate(input.userId);
    const session = user ? await repos.sessions.findByIdForUpdate(input.sessionId) : null;
    const now = this.clock.now();
    if (!user || !session || session.userId !== user.id || !session.isActive(now)) throw Errors.sessionNotFound();
    session.revoke(now, 'user');
    await repos.sessions.save(session);
    await voidLinks(repos, user, now, 'email_change');
    await repos.users.save(user);
    return now;
  }
}
