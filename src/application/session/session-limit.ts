import { inject, injectable } from 'inversify';
import type { SessionRepository } from '@domain/session/session.repository';
import type { AuditEntry } from '../ports/audit-log';
import type { Clock } from '../ports/clock';
import type { DeferredWork } from '../ports/deferred-work';
import { PORTS } from '../ports/tokens';
import type { Repositories, UnitOfWork } from '../ports/unit-of-work';
import type { AuthSettings } from '../shared/auth-settings';

/**
 * SESSION_MAX_PER_USER: an account keeps at most this many live sessions; a sign-in past it ends the oldest (by when
 * they began), reason `session_limit`, each with its `auth.session.revoked`. Until 2026-12-07 nothing bounded them (a
 * review): at the login quotas an account could gather some 11,500 sessions a day, each living 30 days, and its
 * sessions list, a global logout or an admin's view of it loaded them all at once, enough to exhaust a worker's heap;
 * a global logout of 100,000 sessions also flushed every SDK's revocation list.
 *
 * Checked after the sign-in's answer, on the work that follows it (DeferredWork): the login itself stays the one
 * statement it is, and the check is one read of at most `max + 1` entries of `sessions_user_live_idx`. Only an account
 * past the limit takes locked transactions (the user's row, then its sessions past the newest `max`, at most BATCH
 * of them each, so that no transaction holds the account long: one from before the limit, or after it was lowered,
 * may hold thousands). One run per account at a time in this process. Sign-ins at the same instant may each see the
 * account just under the limit: it is held again by the next sign-in's check.
 */
/** Sessions ended per transaction. */
export const SESSION_LIMIT_BATCH = 100;

@injectable()
export class SessionLimit {
  /** Accounts being trimmed by this process (an entry lives while its run does). */
  private readonly running = new Map<string, Promise<number>>();

  constructor(
    @inject(PORTS.UnitOfWork) private readonly uow: UnitOfWork,
    @inject(PORTS.SessionRepository) private readonly sessions: SessionRepository,
    @inject(PORTS.Clock) private readonly clock: Clock,
    @inject(PORTS.DeferredWork) private readonly deferred: DeferredWork,
    @inject(PORTS.AuthSettings) private readonly settings: AuthSettings,
  ) {}

  /** In the transaction that starts a session of `userId`: its check, once that transaction has committed. */
  afterStart(repos: Repositories, userId: string): void {
    repos.afterCommit(() => this.deferred.defer('session limit', async () => void (await this.enforce(userId))));
  }

  /** Ends the account's sessions past the newest SESSION_MAX_PER_USER; returns how many (0 while a run is on). */
  async enforce(userId: string): Promise<number> {
    const max = this.settings.maxSessionsPerUser;
    if (this.running.has(userId) || !(await this.sessions.hasActiveBeyond(userId, max, this.clock.now()))) return 0;
    if (this.running.has(userId)) return 0;
    const run = this.trim(userId, max).finally(() => this.running.delete(userId));
    this.running.set(userId, run);
    return run;
  }

  private async trim(userId: string, max: number): Promise<number> {
    for (let ended = 0; ; ) {
      const batch = await this.uow.run(async (repos) => {
        // User first, then sessions (the order everywhere); dated once the locks are held.
        if (!(await repos.users.findByIdForUpdate(userId))) return 0;
        const now = this.clock.now();
        const excess = await repos.sessions.findActiveBeyondForUpdate(userId, max, now, SESSION_LIMIT_BATCH);
        for (const session of excess) {
          session.revoke(now, 'session_limit');
          await repos.sessions.save(session);
        }
        if (excess.length > 0) await repos.audit.record(limitEntry(userId, excess.length, now));
        return excess.length;
      });
      ended += batch;
      if (batch < SESSION_LIMIT_BATCH) return ended;
    }
  }
}

/** No actor and no request: the service ended them. */
function limitEntry(userId: string, count: number, now: Date): AuditEntry {
  return { type: 'session.revoked', outcome: 'success', actorId: null, subjectId: userId, reason: `session_limit:${count}`, ip: null, userAgent: null, requestId: null, occurredAt: now };
}
