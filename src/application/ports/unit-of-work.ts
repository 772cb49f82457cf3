import type { SessionRepository } from '@domain/session/session.repository';
import type { OneTimeTokenRepository } from '@domain/token/one-time-token.repository';
import type { UserRepository } from '@domain/user/user.repository';

/** Repositories bound to one transaction. */
export interface Repositories {
  users: UserRepository;
  sessions: SessionRepository;
  oneTimeTokens: OneTimeTokenRepository;
}

/**
 * Runs `work` in one database transaction: every write it makes through `repos`, and the events the saved
 * aggregates recorded (outbox), commit together or not at all. A thrown error rolls everything back.
 */
export interface UnitOfWork {
  run<T>(work: (repos: Repositories) => Promise<T>): Promise<T>;
}
