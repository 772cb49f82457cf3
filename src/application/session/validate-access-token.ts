import { Errors } from '../shared/errors';
import { inject, injectable } from 'inversify';
import type { ServiceClientRepository } from '@domain/client/service-client.repository';
import type { SessionRepository } from '@domain/session/session.repository';
import { User, type UserState } from '@domain/user/user';
import type { UserRepository } from '@domain/user/user.repository';
import type { AuthSettings } from '../shared/auth-settings';
import { isServiceClaims, type TokenVerifier, type VerifiedUserAccessClaims } from '../ports/access-tokens';
import type { AuthStateCache } from '../ports/auth-state-cache';
import type { Clock } from '../ports/clock';
import type { CachedSessionState, SessionStateCache } from '../ports/session-state-cache';
import { PORTS } from '../ports/tokens';

/** A signed-in user: the only principal bearer routes accept so far. */
export interface Principal {
  readonly user: User;
  readonly claims: VerifiedUserAccessClaims;
  /**
   * Set when the account state checked was the local cache's entry: that entry (deep-frozen), whose identity
   * stands for its content until the cache replaces or drops it (every change to the user does). With the same
   * token, the same snapshot means the same user and claims, so a rendering of them may be reused.
   */
  readonly snapshot?: object;
}

/**
 * The roles a user token claims that its account still holds. An online answer (/auth/validate, /oauth/introspect)
 * drops a role taken away since the token was signed at once: a caller checking roles there must not let a demoted
 * admin through for the token's remaining lifetime. A role granted since appears with the next token, as offline
 * verification sees it.
 */
export function rolesStillHeld(claims: VerifiedUserAccessClaims, user: User): string[] {
  const held = user.roles;
  return claims.roles.filter((role) => held.includes(role));
}

/** A principal from the local cache: the User is rebuilt from a copy of the entry when first asked for. */
class CachedPrincipal implements Principal {
  private built: User | undefined;

  constructor(
    readonly snapshot: Readonly<UserState>,
    readonly claims: VerifiedUserAccessClaims,
  ) {}

  get user(): User {
    this.built ??= User.restore(structuredClone(this.snapshot) as UserState);
    return this.built;
  }
}

/**
 * Signature, issuer, audience, type and lifetime (the verifier, which remembers tokens it verified), then what
 * only this service knows: the session is not revoked or expired and the account is still usable. Revocation
 * takes effect at once on every instance:
 * - first tier, the process-local AuthStateCache (no I/O on a hit): every committed change to a session or a
 *   user drops the entry here before the request that made it answers, and on every other instance as the
 *   announcement sent before that answer arrives (pub/sub: a delivery's time, about a millisecond; the
 *   two-instance tests bound it at 100 ms; see StateCacheInvalidation); while that announcement cannot be relied
 *   on, the local cache is bypassed;
 * - second tier, for the session state, the shared SessionStateCache (Redis), kept in step by
 *   SessionCacheInvalidation; then the database. The user row comes from the database on a local miss.
 * The user handed out is rebuilt, when asked for, from a copy of an immutable snapshot: nothing a caller does
 * reaches the cache.
 *
 * A service token (client credentials) is authentic but names a client, not a user: it has no session or
 * account to check, and every bearer route (`/auth/validate` included, whose answer is `{valid, user, claims}`)
 * is about a user. A live one is refused with FORBIDDEN (CONTRACT §1: authenticated, lacks the right), after the
 * signature check, so a forged one still gets INVALID_TOKEN. So does one its client no longer honours (deleted, or
 * cut off by `rotate-client-secret --revoke-tokens`), as /oauth/introspect answers it inactive: until stop 52 it
 * got FORBIDDEN, "authentic", while introspection said `active: false` (an outside review). Services check service
 * tokens at /oauth/introspect.
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
    @inject(PORTS.ServiceClientRepository) private readonly clients: ServiceClientRepository,
  ) {}

  async execute(input: { token: string }): Promise<Principal> {
    const verified = await this.verifier.verify(input.token);
    if (isServiceClaims(verified)) {
      // The client's verdict, as introspection reads it (a database read, on this refusal's path only).
      const client = await this.clients.findById(verified.sub);
      throw client?.acceptsTokenIssuedAt(verified.iat) ? Errors.serviceTokenRefused() : Errors.invalidToken();
    }
    const claims: VerifiedUserAccessClaims = verified;
    const mark = this.local.startRead();
    const localSession = mark === null ? null : this.local.session(claims.sid);
    const localUser = mark === null ? null : this.local.userEntry(claims.sub);
    if (localUser) {
      // The account state from the local cache; the session from it too, or from the shared cache or database.
      this.check(await this.sessionState(claims.sid, mark, localSession), claims, localUser);
      return new CachedPrincipal(localUser, claims);
    }
    const [session, user] = await Promise.all([this.sessionState(claims.sid, mark, localSession), this.user(claims.sub, mark)]);
    this.check(session, claims, user);
    return { user, claims };
  }

  /** Refuses a revoked, expired or foreign session and an account that no longer counts (INVALID_TOKEN). */
  private check(session: CachedSessionState | null, claims: VerifiedUserAccessClaims, user: Readonly<Pick<UserState, 'status' | 'emailVerified'>> | null): asserts user {
    if (!session || session.revoked || session.userId !== claims.sub || this.clock.now().getTime() >= session.expiresAt.getTime()) {
      throw Errors.invalidToken();
    }
    if (!user || !User.isUsableState(user, this.settings.requireEmailVerification)) throw Errors.invalidToken();
  }

  /**
   * From the local cache (`local`), else the shared cache, else the database (then cached). A shared-cache failure
   * falls back to the database. An expiry a cache says has passed is read again from the database before it
   * refuses: a refresh moves the session's expiry later without telling the other instances' local caches (its
   * fast path writes outside the unit of work), and a reader racing it may put the earlier expiry back in the
   * shared cache; a valid token was refused for up to the local entry's life (outside review, 2026-12-03). A
   * revocation in a cache stands (revocations are final), and so does a live state (the unit of work announces
   * every change that ends one).
   */
  private async sessionState(sessionId: string, mark: number | null, local: CachedSessionState | null): Promise<CachedSessionState | null> {
    const cached = local ?? (await this.cache.get(sessionId).catch(() => null));
    if (cached && (cached.revoked || this.clock.now().getTime() < cached.expiresAt.getTime())) {
      if (!local && mark !== null) this.local.putSession(mark, sessionId, cached);
      return cached;
    }
    return this.databaseState(sessionId, mark, cached === null);
  }

  /** `remember`: absent from the shared cache, so stored there (a stale entry there is not overwritten: it expires). */
  private async databaseState(sessionId: string, mark: number | null, remember: boolean): Promise<CachedSessionState | null> {
    const session = await this.sessions.findById(sessionId);
    if (!session) return null;
    const state = { userId: session.userId, expiresAt: session.expiresAt, revoked: session.revokedAt !== null };
    if (remember) await this.cache.remember(sessionId, state).catch(() => undefined);
    if (mark !== null) this.local.putSession(mark, sessionId, state);
    return state;
  }

  private async user(userId: string, mark: number | null): Promise<User | null> {
    const user = await this.users.findById(userId);
    if (user && mark !== null) this.local.putUser(mark, userId, user.toState());
    return user;
  }
}
