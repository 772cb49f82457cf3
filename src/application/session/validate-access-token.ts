import { inject, injectable } from 'inversify';
import { DomainError } from '@domain/shared/domain-error';
import type { SessionRepository } from '@domain/session/session.repository';
import type { User } from '@domain/user/user';
import type { UserRepository } from '@domain/user/user.repository';
import type { AuthSettings } from '../shared/auth-settings';
import type { TokenVerifier, VerifiedAccessClaims } from '../ports/access-tokens';
import type { Clock } from '../ports/clock';
import type { CachedSessionState, SessionStateCache } from '../ports/session-state-cache';
import { PORTS } from '../ports/tokens';

export interface Principal {
  user: User;
  claims: VerifiedAccessClaims;
}

/**
 * Signature, issuer, audience, type and lifetime (the verifier), then what only this service knows:
 * the session is not revoked or expired and the account is still usable. Revocation takes effect at once: the
 * session state comes from a shared cache that the unit of work keeps in step with every session change (see
 * SessionCacheInvalidation), the user row always from the database (its status changes count at once, and
 * the caller needs the profile anyway).
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
    const claims = await this.verifier.verify(input.token);
    const now = this.clock.now();
    const [session, user] = await Promise.all([this.sessionState(claims.sid), this.users.findById(claims.sub)]);
    if (!session || session.revoked || session.userId !== claims.sub || now.getTime() >= session.expiresAt.getTime()) {
      throw invalid();
    }
    if (!user || !user.isUsable(this.settings.requireEmailVerification)) throw invalid();
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

function invalid(): DomainError {
  return new DomainError('INVALID_TOKEN', 'The access token is invalid or has been revoked.');
}
