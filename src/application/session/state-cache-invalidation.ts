import type { Session } from '@domain/session/session';
import type { SessionRepository } from '@domain/session/session.repository';
import type { User } from '@domain/user/user';
import type { UserRepository } from '@domain/user/user.repository';
import { Errors } from '../shared/errors';
import { DelegatingSessions } from './delegating-sessions';
import type { AuthStateCache } from '../ports/auth-state-cache';
import type { Logger } from '../ports/logger';
import type { AfterCommit, Guarded, Repositories, UnitOfWork } from '../ports/unit-of-work';

/**
 * The unit of work that keeps every instance's local validate cache (AuthStateCache) in step: it hands out user
 * and session repositories that note each id they write, and after the commit drops those ids here and announces
 * them to every other instance, before run() resolves (so before the request answers). Every write to a user or
 * a session goes through `repos` (repositories refuse to save what was not read FOR UPDATE in the unit of
 * work), so no path can miss it: logout, revocations, refresh, suspension, deletion, role, password, email
 * verification, profile, MFA, login bookkeeping, the CLI and the account-request worker alike.
 *
 * If the announcement cannot be sent, the change stands in the database and this instance has dropped its own
 * entries; other instances may serve their entry until it expires (LOCAL_CACHE_TTL). For a change that decides
 * whether a token is accepted (a session revoked; a user deleted, or whose status, email verification or roles
 * changed) run() then rejects with SERVICE_UNAVAILABLE, as SessionCacheInvalidation does: the caller must not be
 * told it holds everywhere. Other changes (a profile edit, login bookkeeping, a rotation that moves the expiry)
 * are only logged: failing a login because Redis is away would not make anything safer.
 */
export class StateCacheInvalidation implements UnitOfWork {
  constructor(
    private readonly inner: UnitOfWork,
    private readonly cache: AuthStateCache,
    private readonly logger: Logger,
  ) {}

  run<T>(work: (repos: Repositories) => Promise<T>): Promise<T> {
    return this.inner.run((repos) => work(this.noting(repos)));
  }

  /** New users and sessions only: nothing anybody could hold in a cache (absence is never cached). */
  runInserts<T>(work: (repos: Repositories) => Promise<T>): Promise<T> {
    return this.inner.runInserts((repos) => work(this.noting(repos)));
  }

  /** `user` was read outside: its gate as read is what a save is compared with, as for one read FOR UPDATE. */
  runIfUnchanged<T>(user: User, work: (repos: Repositories) => Promise<T>): Promise<Guarded<T>> {
    return this.inner.runIfUnchanged(user, (repos) => work(this.noting(repos, user)));
  }

  private noting(repos: Repositories, guard?: User): Repositories {
    const changes = new Changes(repos.afterCommit, this.cache, this.logger);
    const users = new NotingUsers(repos.users, changes);
    if (guard) users.readAs(guard);
    return { ...repos, users, sessions: new NotingSessions(repos.sessions, changes) };
  }
}

/** One transaction's changed ids; announced once, after the commit. */
class Changes {
  private readonly sessions = new Set<string>();
  private readonly users = new Set<string>();
  private critical = false;

  constructor(
    private readonly afterCommit: (fn: AfterCommit) => void,
    private readonly cache: AuthStateCache,
    private readonly logger: Logger,
  ) {}

  session(id: string, critical: boolean): void {
    this.sessions.add(id);
    this.note(critical);
  }

  user(id: string, critical: boolean): void {
    this.users.add(id);
    this.note(critical);
  }

  private note(critical: boolean): void {
    this.critical ||= critical;
    this.afterCommit(this.committed); // once per transaction: the list runs a function once
  }

  private readonly committed = async (): Promise<void> => {
    const keys = { sessions: [...this.sessions], users: [...this.users] };
    try {
      await this.cache.invalidate(keys);
    } catch (error) {
      const ids = { sessions: keys.sessions.length, users: keys.users.length };
      if (!this.critical) {
        this.logger.warn({ err: error, ...ids }, 'local caches: change committed but not announced to other instances');
        return;
      }
      this.logger.error({ err: error, ...ids }, 'local caches: revocation committed but not announced to other instances');
      throw Errors.notYetEverywhere();
    }
  };
}

/** What decides whether a user's tokens are accepted (ValidateAccessToken, role guards). */
function gate(user: User): string {
  return `${user.status}|${user.emailVerified}|${[...user.roles].sort().join(',')}`;
}

class NotingUsers implements UserRepository {
  /** The gate of each user as read FOR UPDATE here, to tell a decisive change from bookkeeping. */
  private readonly before = new Map<string, string>();

  constructor(
    private readonly inner: UserRepository,
    private readonly changes: Changes,
  ) {}

  findById(id: string): Promise<User | null> {
    return this.inner.findById(id);
  }

  findByEmail(email: string): Promise<User | null> {
    return this.inner.findByEmail(email);
  }

  findByUsername(username: string): Promise<User | null> {
    return this.inner.findByUsername(username);
  }

  async findByIdForUpdate(id: string): Promise<User | null> {
    const user = await this.inner.findByIdForUpdate(id);
    if (user) this.readAs(user);
    return user;
  }

  readAs(user: User): void {
    if (!this.before.has(user.id)) this.before.set(user.id, gate(user));
  }

  lockActiveAdmins(): Promise<string[]> {
    return this.inner.lockActiveAdmins();
  }

  async add(user: User): Promise<void> {
    await this.inner.add(user);
    // Nobody can hold a new user's state (absence is never cached): nothing to announce.
    this.before.set(user.id, gate(user));
  }

  async save(user: User): Promise<void> {
    await this.inner.save(user);
    this.changes.user(user.id, this.before.get(user.id) !== gate(user));
  }

  async delete(user: User): Promise<void> {
    await this.inner.delete(user);
    this.changes.user(user.id, true);
  }
}

class NotingSessions extends DelegatingSessions {
  constructor(
    inner: SessionRepository,
    private readonly changes: Changes,
  ) {
    super(inner);
  }

  override async save(session: Session): Promise<void> {
    await this.inner.save(session);
    this.changes.session(session.id, session.revokedAt !== null);
  }
}
