import { Errors } from '../shared/errors';
import { inject, injectable } from 'inversify';
import type { TokenPair } from '@domain/session/token-pair';
import type { AuthSettings } from '../shared/auth-settings';
import type { Clock } from '../ports/clock';
import type { OpaqueTokens } from '../ports/opaque-tokens';
import type { UnitOfWork } from '../ports/unit-of-work';
import type { SessionRepository } from '@domain/session/session.repository';
import type { SessionStateCache } from '../ports/session-state-cache';
import { selfAuditEntry } from '../shared/audit-entry';
import { type ClientContext, UNKNOWN_CLIENT } from '../shared/client-context';
import { voidLinks } from './revoke-sessions';
import { SessionIssuer } from './session-issuer';
import { PORTS } from '../ports/tokens';

/**
 * Rotates a refresh token. The common cases, the current token of an active session (rotation) and the token it
 * just replaced inside the grace window (replay), take two statements and no transaction: a read of the session
 * and its user, then a compare-and-set that writes the change only if the row still holds the same current token,
 * is not revoked and was not written since the read (SessionRepository.saveIfCurrent). Anything else (reuse, a
 * retired or unknown token, a compare-and-set that lost to a concurrent rotation, revocation or role change's
 * fence) takes the locked path, which decides again under the row lock: concurrent refreshes of one session are serialised
 * by the row lock; the losers present the token just replaced and, inside the grace window, receive the same
 * new refresh token, and reuse revokes the session with its outbox event and audit entry in one transaction.
 */
@injectable()
export class RefreshSession {
  constructor(
    @inject(PORTS.UnitOfWork) private readonly uow: UnitOfWork,
    @inject(PORTS.OpaqueTokens) private readonly opaque: OpaqueTokens,
    @inject(SessionIssuer) private readonly issuer: SessionIssuer,
    @inject(PORTS.Clock) private readonly clock: Clock,
    @inject(PORTS.AuthSettings) private readonly settings: AuthSettings,
    @inject(PORTS.SessionRepository) private readonly sessions: SessionRepository,
    @inject(PORTS.SessionStateCache) private readonly cache: SessionStateCache,
  ) {}

  async execute(input: { refreshToken: string; client?: ClientContext }): Promise<TokenPair> {
    const hash = this.opaque.hash(input.refreshToken);
    // The time of each decision is read once its rows are in hand (not when the request began): a rotation is
    // dated when it is written, so a read that waited on a slow database does not date it seconds early and turn
    // the other tab's replay inside the grace window into a reuse (an outside review, 2026-12-02).
    const rotated = await this.rotateCurrent(hash, input.refreshToken);
    if (rotated === 'refused') throw Errors.invalidRefreshToken();
    if (rotated !== 'locked_path') return rotated;
    const tokens = await this.uow.run(async (repos) => {
      // The account's lock before the session's (the order everywhere), so that a reuse can end what the session
      // may have started on the account.
      const ownerId = await repos.sessions.findOwnerOfRefreshToken(hash);
      const user = ownerId === null ? null : await repos.users.findByIdForUpdate(ownerId);
      const match = user && (await repos.sessions.findByRefreshTokenHashForUpdate(hash));
      if (!user || !match || match.session.userId !== user.id) return null;
      const { session } = match;
      const now = this.clock.now();
      const decision = session.decideRefresh(match.presented, now, this.settings.refreshGraceSeconds, this.issuer.lifetimes);
      if (decision.kind === 'reject') return null;
      if (decision.kind === 'reuse_detected') {
        await repos.sessions.save(session); // commit the revocation and its event, then refuse
        // The session is taken for stolen: a pending email change goes with it, as when the owner ends another
        // session (its link may be in the thief's mailbox; confirmed, it would hand over the account through a
        // reset). Until 2026-12-02 it survived the revocation (an outside review found it).
        await voidLinks(repos, user, now, 'email_change');
        await repos.users.save(user);
        const client = input.client ?? UNKNOWN_CLIENT;
        // Whoever presented the replaced token is not known to be the user: no actor.
        const entry = selfAuditEntry('refresh_token.reuse_detected', client, session.userId, now, 'refresh_token_reuse');
        await repos.audit.record({ ...entry, actorId: null });
        return null;
      }
      if (!user.isUsable(this.settings.requireEmailVerification)) return null;
      const refreshToken =
        decision.kind === 'rotate' ? this.issuer.rotate(session, now, input.refreshToken) : this.issuer.currentRefreshToken(session, input.refreshToken);
      if (refreshToken === null) return null;
      await repos.sessions.save(session);
      return this.issuer.pair(user, session, refreshToken);
    });
    if (!tokens) throw Errors.invalidRefreshToken();
    return tokens;
  }

  /** The fast path: the same decision, rotation and replay as the locked path, written by compare-and-set. */
  private async rotateCurrent(hash: string, presentedToken: string): Promise<TokenPair | 'refused' | 'locked_path'> {
    const found = await this.sessions.findByRefreshTokenHash(hash);
    if (!found) return 'locked_path';
    const now = this.clock.now();
    const { session, user, presented } = found;
    const current = session.toState().refreshTokenHash;
    const decision = session.decideRefresh(presented, now, this.settings.refreshGraceSeconds, this.issuer.lifetimes);
    if (decision.kind === 'reject') return 'refused';
    // Reuse revokes the session with its event and audit entry: decided again under the lock, in a transaction.
    if (decision.kind === 'reuse_detected') return 'locked_path';
    if (!user || !user.isUsable(this.settings.requireEmailVerification)) return 'refused';
    const refreshToken = decision.kind === 'rotate' ? this.issuer.rotate(session, now, presentedToken) : this.issuer.currentRefreshToken(session, presentedToken);
    if (refreshToken === null) return 'refused';
    // Signed before the write, and handed out only if it holds: the access token's iat is then no later than the
    // compare-and-set, which fails if a role change fenced the session since the read (fenceRefreshes), so a role
    // taken away is dated after any token that still carries it (the SDK's revocation feed cuts tokens off by iat).
    const tokens = await this.issuer.pair(user, session, refreshToken);
    // Alive when written, not only when read: a revocation of every session skips one already expired (liveAt).
    if (!(await this.sessions.saveIfCurrent(session, current, this.clock.now()))) return 'locked_path';
    // A rotation moved the expiry: drop the shared cache's state. The local caches are not told (no announcement
    // on this hot path): an expiry a cache says has passed is read again from the database before a token is
    // refused (ValidateAccessToken), so an entry with the earlier expiry costs a read, never a wrong refusal.
    if (decision.kind === 'rotate') await this.cache.invalidate({ revoked: [], changed: [session.id] }).catch(() => undefined);
    return tokens;
  }
}
