import type { Session } from '@domain/session/session';
import { Errors } from '../shared/errors';
import type { SessionRepository } from '@domain/session/session.repository';
import { DelegatingSessions } from './delegating-sessions';
import type { Logger } from '../ports/logger';
import type { SessionStateCache } from '../ports/session-state-cache';
import type { AfterCommit, Guarded, Repositories, UnitOfWork } from '../ports/unit-of-work';
import type { User } from '@domain/user/user';

/**
 * The unit of work every use case gets; it keeps the session cache in step with the database by handing out a
 * session repository that does. Hooked here rather than in each use case so that no revocation path can miss
 * it: logout, refresh reuse, password change and reset, session revoke (and suspension, admin revoke later) all
 * save the session through `repos`. What follows the commit is on the transaction's after-commit list.
 * - A revocation is written to the cache when the session is saved, before the commit: the moment the change
 *   is visible in the database, the cache already refuses the session on every instance. (Should the commit
 *   fail after that, the session is refused until the revocation entry expires: the safe side.)
 * - Other changes (a rotation moves the expiry) drop the cached state after the commit; a reader that re-cached
 *   the old state in between holds an earlier expiry, which can only refuse sooner.
 * - A revocation that could not be written is tried once more after the commit; if that fails too, run()
 *   rejects with SERVICE_UNAVAILABLE although the work committed. The database has the revocation and this instance reads
 *   the database until the adapter has written it (see RedisSessionStateCache), but another instance may still
 *   hold a live entry for up to SESSION_CACHE_TTL (at most 60 s): the caller must not be told that the session
 *   is revoked everywhere when it may not be. (A shared "distrust" epoch was not chosen: kept in Redis it is
 *   lost with the very write that failed; kept in the database every instance would have to poll it.)
 */
export class SessionCacheInvalidation implements UnitOfWork {
  constructor(
    private readonly inner: UnitOfWork,
    private readonly cache: SessionStateCache,
    private readonly logger: Logger,
  ) {}

  run<T>(work: (repos: Repositories) => Promise<T>): Promise<T> {
    return this.inner.run((repos) => work(this.invalidating(repos)));
  }

  runInserts<T>(work: (repos: Repositories) => Promise<T>): Promise<T> {
    return this.inner.runInserts((repos) => work(this.invalidating(repos)));
  }

  runIfUnchanged<T>(user: User, work: (repos: Repositories) => Promise<T>): Promise<Guarded<T>> {
    return this.inner.runIfUnchanged(user, (repos) => work(this.invalidating(repos)));
  }

  private invalidating(repos: Repositories): Repositories {
    return { ...repos, sessions: new CacheInvalidatingSessions(repos.sessions, repos.afterCommit, this.cache, this.logger) };
  }
}

/** The transaction's session repository: announces revocations at once, the rest after the commit. */
class CacheInvalidatingSessions extends DelegatingSessions {
  private readonly changed = new Set<string>();
  private readonly unwritten = new Set<string>();

  constructor(
    inner: SessionRepository,
    private readonly afterCommit: (fn: AfterCommit) => void,
    private readonly cache: SessionStateCache,
    private readonly logger: Logger,
  ) {
    super(inner);
  }

  override async save(session: Session): Promise<void> {
    await this.inner.save(session);
    this.afterCommit(this.committed); // once per transaction: the list runs a function once
    if (session.revokedAt !== null) {
      this.changed.delete(session.id);
      await this.cache.invalidate({ revoked: [session.id], changed: [] }).catch(() => this.unwritten.add(session.id));
    } else {
      this.changed.add(session.id);
    }
  }

  /** Drops the changed sessions' cached state; gives each unwritten revocation one more try. */
  private readonly committed = async (): Promise<void> => {
    if (this.changed.size > 0) {
      await this.cache.invalidate({ revoked: [], changed: [...this.changed] }).catch((error: unknown) => {
        this.logger.warn({ err: error, sessions: [...this.changed] }, 'session cache: could not drop changed sessions');
      });
    }
    if (this.unwritten.size > 0) await this.retryRevocations([...this.unwritten]);
  };

  /** After the commit: one more try, then the request fails (the revocation itself stands). */
  private async retryRevocations(sessionIds: string[]): Promise<void> {
    try {
      await this.cache.invalidate({ revoked: sessionIds, changed: [] });
    } catch (error) {
      this.logger.error({ err: error, sessions: sessionIds }, 'session cache: revocation committed but not written; kept for when the cache is back');
      throw Errors.notYetEverywhere();
    }
  }
}
