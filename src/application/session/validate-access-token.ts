import { Errors } from '../shared/errors';
import { inject, injectable } from 'inversify';
import type { SessionRepository } from '@domain/session/session.repository';
import type { User } from '@domain/user/user';
import type { UserRepository } from '@domain/user/user.repository';
import type { AuthSettings } from '../shared/auth-settings';
import { isServiceClaims, type TokenVerifier, type VerifiedUserAccessClaims } from '../ports/access-tokens';
import type { Clock } from '../ports/clock';
import type { CachedSessionState, SessionStateCache } from '../ports/session-state-cache';
import { PORTS } from '../ports/tokens';

/** A signed-in user: the only principal bearer routes accept so far. */
export interface Principal {
  user: User;
  claims: VerifiedUserAccessClaims;
}

/**
 * Signature, issuer, audience, type and lifetime (the verifier), then what only this service knows:
 * the session is not revoked or expired and the account is still usable. Revocation takes effect at once: the
 * session state comes from a shared cache that the unit of work keeps in step with every session change (see
 * SessionCacheInvalidation), the user row always from the database (its status changes count at once, and
 * the caller needs the profile anyway).
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
  ) {}

  async execute(input: { token: string }): Promise<Principal> {
    const verified = await this.verifier.verify(input.token);
    if (isServiceClaims(verified)) throw Errors.serviceTokenRefused();
    const claims: VerifiedUserAccessClaims = verified;
    const now = this.clock.now();
    const [session, user] = await Promise.all([this.sessionState(claims.sid), this.users.findById(claims.sub)]);
    if (!session || session.revoked || session.userId !== claims.sub || now.getTime() >= session.expiresAt.getTime()) {
      throw Errors.invalidToken();
    }
    if (!user || !user.isUsable(this.settings.requireEmailVerification)) throw Errors.invalidToken();
    return { user, claims };
  }

  /** From the cache, else from the database (then cached). A cache failure falls back to the database. */
  private async sessionState(sessionId: string): Promise<CachedSessionState | null> {
    const cached = await this.cache.get(sessionId).catch(() => null);
    if (cached) return cached;
    const session = await this.sessions.findById(sessionId);
    if (!session) return null;
    const state = { userId: session.userId, expiresAt: session.expiresAt, revoked: session.revokedAt !== null };
    await this.cache.remember(sessionId, state).catch(() => undefined);
    return state;
  }
}
