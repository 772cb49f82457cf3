import { Errors } from '../shared/errors';
import { inject, injectable } from 'inversify';
import type { SessionRepository } from '@domain/session/session.repository';
import { User } from '@domain/user/user';
import type { UserRepository } from '@domain/user/user.repository';
import type { AuthSettings } from '../shared/auth-settings';
import { isServiceClaims, type TokenVerifier, type VerifiedUserAccessClaims } from '../ports/access-tokens';
import type { AuthStateCache } from '../ports/auth-state-cache';
import type { Clock } from '../ports/clock';
import type { CachedSessionState, SessionStateCache } from '../ports/session-state-cache';
import { PORTS } from '../ports/tokens';

/** A signed-in user: the only principal bearer routes accept so far. */
export interface Principal {
  user: User;
  claims: VerifiedUserAccessClaims;
}

/**
 * Signature, issuer, audience, type and lifetime (the verifier, which remembers tokens it verified), then what
 * only this service knows: the session is not revoked or expired and the account is still usable. Revocation
 * takes effect at once on every instance:
 * - first tier, the process-local AuthStateCache (no I/O on a hit): every committed change to a session or a
 *   user drops the entry here and on every other instance before the request that made it answers (see
 *   StateCacheInvalidation); while that announcement cannot be relied on, the local cache is bypassed;
 * - second tier, for the session state, the shared SessionStateCache (Redis), kept in step by
 *   SessionCacheInvalidation; then the database. The user row comes from the database on a local miss.
 * The user handed out is rebuilt per request from an immutable snapshot: nothing a caller does reaches the cache.
 *
 * A service token (client credentials) is authentic but names a client, not a user: it has no session or
 * account to check, and every bearer route (`/auth/validate` included, whose answer is `{valid, user, claims}`)
 * is about a user. It is refused with FORBIDDEN (CONTRACT §1: authenticated, lacks the right), after the
 * signature check, so a forged one still gets INVALID_TOKEN. Services check service tokens at /oauth/introspect.
 */
@injectable()
export class ValidateAccessToken {
  constructor(
    @inject(PORTS.TokenVerifier) private readonly verifier: TokenVerifier,
    @inject(PORTS.SessionRepository) private readonly sessions: SessionRepository,
    @inject(PORTS.UserRepository) private readonly users: UserRepository,
    @inject(PORTS.Clock) private readonly clock: Clock,
    @inject(PORTS.AuthSettings) private readonly settings: AuthSettings,
    @inject(PORTS.SessionStateCache) private readonly cache: SessionStateCache,
    @inject(PORTS.AuthStateCache) private readonly local: AuthStateCache,
  ) {}

  async execute(input: { token: string }): Promise<Principal> {
    const verified = await this.verifier.verify(input.token);
    if (isServiceClaims(verified)) throw Errors.serviceTokenRefused();
    const claims: VerifiedUserAccessClaims = verified;
    const mark = this.local.startRead();
    const localSession = mark === null ? null : this.local.session(claims.sid);
    const localUser = mark === null ? null : this.local.user(claims.sub);
    const [session, user] =
      localSession && localUser
        ? [localSession, User.restore(localUser)]
        : await Promise.all([localSession ?? this.sessionState(claims.sid, mark), localUser ? User.restore(localUser) : this.user(claims.sub, mark)]);
    const now = this.clock.now();
    if (!session || session.revoked || session.userId !== claims.sub || now.getTime() >= session.expiresAt.getTime()) {
      throw Errors.invalidToken();
    }
    if (!user || !user.isUsable(this.settings.requireEmailVerification)) throw Errors.invalidToken();
    return { user, claims };
  }

  /** From the shared cache, else from the database (then cached). A shared-cache failure falls back to the database. */
  private async sessionState(sessionId: string, mark: number | null): Promise<CachedSessionState | null> {
    const cached = await this.cache.get(sessionId).catch(() => null);
    if (cached) {
      if (mark !== null) this.local.putSession(mark, sessionId, cached);
      return cached;
    }
    const session = await this.sessions.findById(sessionId);
    if (!session) return null;
    const state = { userId: session.userId, expiresAt: session.expiresAt, revoked: session.revokedAt !== null };
    await this.cache.remember(sessionId, state).catch(() => undefined);
    if (mark !== null) this.local.putSession(mark, sessionId, state);
    return state;
  }

  private async user(userId: string, mark: number | null): Promise<User | null> {
    const user = await this.users.findById(userId);
    if (user && mark !== null) this.local.putUser(mark, userId, user.toState());
    return user;
  }
}
