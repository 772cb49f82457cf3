import { AggregateRoot } from '../shared/domain-event';
import { EventTypes } from '../shared/event-types';

export type RevokeReason = 'logout' | 'logout_others' | 'logout_global' | 'refresh_token_reuse' | 'password_changed'
  | 'password_reset' | 'account_deleted' | 'account_suspended' | 'admin' | 'user' | 'current_password_failures'
  /** A service client revoked one of the session's tokens (RFC 7009, /oauth/revoke). */
  | 'token_revoked'
  /** The account turned its second factor on: sessions signed in with the password alone end (but the caller's). */
  | 'mfa_enabled'
  /** The account was never verified and its address was registered again: its password was discarded. */
  | 'registration_contested'
  /** An admin confirmed a never-verified account's address: the password chosen before that proof was discarded. */
  | 'password_unproven'
  /** The account holds more live sessions than SESSION_MAX_PER_USER: its oldest end after a new sign-in. */
  | 'session_limit';

/**
 * A login on one device. Holds the refresh-token rotation state, never a usable token: `refreshTokenHash` is a
 * digest for lookup, `sealedRefreshToken` the current token encrypted (under ENCRYPTION_KEY and the token it replaced)
 * so that a concurrent refresh inside the grace window, presenting that token, can be handed the same token instead
 * of forking the chain.
 */
export interface SessionState {
  id: string;
  userId: string;
  refreshTokenHash: string;
  sealedRefreshToken: string;
  previousTokenHash: string | null;
  rotatedAt: Date | null;
  /** Hashes that rotated out and must be recognised as reuse; persisted by the repository. */
  retiredTokenHashes: string[];
  amr: string[];
  createdAt: Date;
  lastUsedAt: Date;
  expiresAt: Date;
  absoluteExpiresAt: Date;
  revokedAt: Date | null;
  revokeReason: RevokeReason | null;
  ip: string | null;
  userAgent: string | null;
}

export interface NewSession {
  id: string;
  userId: string;
  refreshTokenHash: string;
  sealedRefreshToken: string;
  amr: string[];
  ip: string | null;
  userAgent: string | null;
}

export interface SessionLifetimes {
  /** Sliding lifetime of a refresh token, in seconds. */
  idleSeconds: number;
  /** Absolute lifetime of the session, in seconds. */
  absoluteSeconds: number;
}

/** How a presented refresh token relates to this session (what the repository matched it against). */
export type PresentedToken = 'current' | 'previous' | 'retired';

export type RefreshDecision =
  | { kind: 'rotate' }
  | { kind: 'replay' }
  | { kind: 'reject' }
  | { kind: 'reuse_detected' };

export class Session extends AggregateRoot {
  private constructor(private state: SessionState) {
    super();
  }

  static start(input: NewSession, now: Date, lifetimes: SessionLifetimes): Session {
    const absoluteExpiresAt = addSeconds(now, lifetimes.absoluteSeconds);
    return new Session({
      ...input,
      amr: [...input.amr],
      previousTokenHash: null,
      rotatedAt: null,
      retiredTokenHashes: [],
      createdAt: now,
      lastUsedAt: now,
      expiresAt: earliest(addSeconds(now, lifetimes.idleSeconds), absoluteExpiresAt),
      absoluteExpiresAt,
      revokedAt: null,
      revokeReason: null,
    });
  }

  static restore(state: SessionState): Session {
    return new Session({ ...state, amr: [...state.amr], retiredTokenHashes: [...state.retiredTokenHashes] });
  }

  get id(): string {
    return this.state.id;
  }
  get userId(): string {
    return this.state.userId;
  }
  get amr(): readonly string[] {
    return this.state.amr;
  }
  /** The sign-in the session began with (a refresh does not change it). */
  get createdAt(): Date {
    return this.state.createdAt;
  }
  get sealedRefreshToken(): string {
    return this.state.sealedRefreshToken;
  }
  get expiresAt(): Date {
    return this.state.expiresAt;
  }
  get revokedAt(): Date | null {
    return this.state.revokedAt;
  }

  isActive(now: Date): boolean {
    return this.state.revokedAt === null && now.getTime() < this.state.expiresAt.getTime();
  }

  /**
   * Decides what a presented refresh token may do. The current token rotates; the token it just replaced is
   * replayed (same new token) inside the grace window, for concurrent tabs; anything older, or the previous
   * token after the window, is reuse: the session is revoked and the fact recorded. `lifetimes` are the ones
   * configured now: a session past them is refused even if its stored expiry is later (see outlives).
   */
  decideRefresh(presented: PresentedToken, now: Date, graceSeconds: number, lifetimes: SessionLifetimes): RefreshDecision {
    if (!this.isLive(now, lifetimes)) return { kind: 'reject' };
    if (presented === 'current') return { kind: 'rotate' };
    const rotatedAt = this.state.rotatedAt;
    // Measured both ways: the rotation may have been dated by an instance whose clock runs ahead of this one's (or
    // this one's clock stepped back since). A negative age counted as inside the window, so a behind clock handed
    // the current token to a copy of the replaced one for as long as the skew (a review of clocks, stop 65).
    const withinGrace =
      presented === 'previous' && rotatedAt !== null && Math.abs(now.getTime() - rotatedAt.getTime()) <= graceSeconds * 1000;
    if (withinGrace) {
      this.state.lastUsedAt = now;
      return { kind: 'replay' };
    }
    this.revoke(now, 'refresh_token_reuse');
    this.record(EventTypes.SessionRefreshReuseDetected, this.state.userId, now, {
      user_id: this.state.userId,
      session_id: this.id,
    });
    return { kind: 'reuse_detected' };
  }

  /**
   * Past the limits configured now: older than `absoluteSeconds` since its sign-in, or unused for `idleSeconds`. The
   * stored expiries were computed with the limits of the day the session began or was last refreshed; until stop 52
   * only they counted, so lowering SESSION_MAX_LIFETIME or REFRESH_TOKEN_TTL (after an incident, for a policy) left
   * every existing session its old 90 days (a review of sessions). Raising them extends no session.
   */
  outlives(lifetimes: SessionLifetimes, now: Date): boolean {
    return now.getTime() >= this.limitedBy(lifetimes).getTime();
  }

  /**
   * When it ends under the limits configured now: its stored expiry, or earlier when they were lowered since it began
   * or was last refreshed (see outlives). What introspection and the session lists call its `exp` / `expires_at`.
   */
  endsAt(lifetimes: SessionLifetimes): Date {
    return earliest(this.state.expiresAt, this.limitedBy(lifetimes));
  }

  /**
   * Neither revoked nor past its end under the limits configured now: a session whose refresh token /auth/refresh
   * still takes. Introspection and the session lists judge by this, as refresh does (until stop 56 they judged by the
   * stored expiry alone, so a token refresh refused after the limits were lowered still introspected as active: a
   * review of stop 55).
   */
  isLive(now: Date, lifetimes: SessionLifetimes): boolean {
    return this.state.revokedAt === null && now.getTime() < this.endsAt(lifetimes).getTime();
  }

  private limitedBy(lifetimes: SessionLifetimes): Date {
    return earliest(addSeconds(this.state.createdAt, lifetimes.absoluteSeconds), addSeconds(this.state.lastUsedAt, lifetimes.idleSeconds));
  }

  rotate(next: { refreshTokenHash: string; sealedRefreshToken: string }, now: Date, lifetimes: SessionLifetimes): void {
    if (this.state.previousTokenHash !== null) this.state.retiredTokenHashes.push(this.state.previousTokenHash);
    this.state.previousTokenHash = this.state.refreshTokenHash;
    this.state.refreshTokenHash = next.refreshTokenHash;
    this.state.sealedRefreshToken = next.sealedRefreshToken;
    this.state.rotatedAt = now;
    this.state.lastUsedAt = now;
    // A lowered SESSION_MAX_LIFETIME shortens the stored end too (never lengthens it).
    this.state.absoluteExpiresAt = earliest(this.state.absoluteExpiresAt, addSeconds(this.state.createdAt, lifetimes.absoluteSeconds));
    this.state.expiresAt = earliest(addSeconds(now, lifetimes.idleSeconds), this.state.absoluteExpiresAt);
  }

  revoke(now: Date, reason: RevokeReason): void {
    if (this.state.revokedAt !== null) return;
    this.state.revokedAt = now;
    this.state.revokeReason = reason;
    this.record(EventTypes.SessionRevoked, this.state.userId, now, {
      user_id: this.state.userId,
      session_id: this.id,
      reason,
    });
  }

  toState(): SessionState {
    return { ...this.state, amr: [...this.state.amr], retiredTokenHashes: [...this.state.retiredTokenHashes] };
  }
}

function addSeconds(date: Date, seconds: number): Date {
  return new Date(date.getTime() + seconds * 1000);
}

function earliest(a: Date, b: Date): Date {
  return a.getTime() <= b.getTime() ? a : b;
}
