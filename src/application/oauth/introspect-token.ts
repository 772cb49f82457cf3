import { inject, injectable } from 'inversify';
import { DomainError } from '@domain/shared/domain-error';
import type { ServiceClientRepository } from '@domain/client/service-client.repository';
import type { SessionRepository } from '@domain/session/session.repository';
import {
  isServiceClaims,
  type TokenVerifier,
  type VerifiedServiceAccessClaims,
  type VerifiedUserAccessClaims,
} from '../ports/access-tokens';
import type { Clock } from '../ports/clock';
import type { OpaqueTokens } from '../ports/opaque-tokens';
import { PORTS } from '../ports/tokens';
import { sessionLifetimes, type AuthSettings } from '../shared/auth-settings';
import { rolesStillHeld, ValidateAccessToken } from '../session/validate-access-token';
import { looksLikeJwt, MAX_TOKEN_LENGTH } from './token-shape';

export type Introspection =
  | { active: false }
  | { active: true; kind: 'user'; claims: VerifiedUserAccessClaims }
  | { active: true; kind: 'service'; claims: VerifiedServiceAccessClaims }
  | { active: true; kind: 'refresh'; userId: string; sessionId: string; expiresAt: Date };

const INACTIVE: Introspection = { active: false };

/**
 * RFC 7662. Anything that is not a live token of this service is `{active: false}` and nothing else: unknown,
 * garbage, expired, foreign (other issuer or audience), revoked. A user access token is checked as /auth/validate
 * checks it (signature, then the session's revocation state and the account), so a logout, reset or suspension
 * makes it inactive at once. A service token is active while its client exists, is not deleted and has not cut
 * off the tokens issued before a secret rotation (`rotate-client-secret --revoke-tokens`). A refresh
 * token is active while it is its session's current token and the session (under the limits configured now) and
 * the account are live. Failures of the service itself (database down) are thrown, never answered as "inactive".
 */
@injectable()
export class IntrospectToken {
  constructor(
    @inject(PORTS.TokenVerifier) private readonly verifier: TokenVerifier,
    @inject(ValidateAccessToken) private readonly validate: ValidateAccessToken,
    @inject(PORTS.ServiceClientRepository) private readonly clients: ServiceClientRepository,
    @inject(PORTS.SessionRepository) private readonly sessions: SessionRepository,
    @inject(PORTS.OpaqueTokens) private readonly opaque: OpaqueTokens,
    @inject(PORTS.AuthSettings) private readonly settings: AuthSettings,
    @inject(PORTS.Clock) private readonly clock: Clock,
  ) {}

  async execute(input: { token: string }): Promise<Introspection> {
    const token = input.token;
    if (token.length === 0 || token.length > MAX_TOKEN_LENGTH) return INACTIVE;
    return looksLikeJwt(token) ? this.accessToken(token) : this.refreshToken(token);
  }

  private async accessToken(token: string): Promise<Introspection> {
    const verified = await inactiveOnDomainError(() => this.verifier.verify(token));
    if (verified === null) return INACTIVE;
    // The verifier allows the clock leeway of CONTRACT §4, which is for other verifiers' clocks; this server is the
    // one that issued the token and answers by its own clock: past exp it is inactive (RFC 7662 §4; until a
    // review found it, a token answered active for up to 60 s after its exp).
    if (verified.exp <= this.clock.now().getTime() / 1000) return INACTIVE;
    if (isServiceClaims(verified)) {
      const client = await this.clients.findById(verified.sub);
      return client?.acceptsTokenIssuedAt(verified.iat) ? { active: true, kind: 'service', claims: verified } : INACTIVE;
    }
    const principal = await inactiveOnDomainError(() => this.validate.execute({ token }));
    if (!principal) return INACTIVE;
    return { active: true, kind: 'user', claims: { ...principal.claims, roles: rolesStillHeld(principal.claims, principal.user) } };
  }

  private async refreshToken(token: string): Promise<Introspection> {
    const hash = this.opaque.hash(token);
    const now = this.clock.now();
    // One read without a lock (the refresh fast path's): a client introspecting a user's refresh token over and over
    // must not hold that session's row against the user's own refreshes (outside review, 2026-12-02).
    const match = await this.sessions.findByRefreshTokenHash(hash);
    // Judged by the session limits configured now, as /auth/refresh judges it: a token refresh refuses is inactive.
    const lifetimes = sessionLifetimes(this.settings);
    if (!match || match.presented !== 'current' || !match.session.isLive(now, lifetimes)) return INACTIVE;
    const { session, user } = match;
    if (!user || !user.isUsable(this.settings.requireEmailVerification)) return INACTIVE;
    return { active: true, kind: 'refresh', userId: session.userId, sessionId: session.id, expiresAt: session.endsAt(lifetimes) };
  }
}

/** A DomainError (invalid token, refused token) means "not active"; anything else is an outage and is thrown. */
async function inactiveOnDomainError<T>(work: () => Promise<T>): Promise<T | null> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof DomainError) return null;
    throw error;
  }
}
