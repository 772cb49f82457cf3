import { Errors } from '../shared/errors';
import { inject, injectable } from 'inversify';
import type { TokenPair } from '@domain/session/token-pair';
import type { AuthSettings } from '../shared/auth-settings';
import type { Clock } from '../ports/clock';
import type { OpaqueTokens } from '../ports/opaque-tokens';
import type { UnitOfWork } from '../ports/unit-of-work';
import { selfAuditEntry } from '../shared/audit-entry';
import { type ClientContext, UNKNOWN_CLIENT } from '../shared/client-context';
import { SessionIssuer } from './session-issuer';
import { PORTS } from '../ports/tokens';

/**
 * Rotates a refresh token. Concurrent refreshes of one session are serialised by the row lock; the losers
 * present the token just replaced and, inside the grace window, receive the same new refresh token.
 */
@injectable()
export class RefreshSession {
  constructor(
    @inject(PORTS.UnitOfWork) private readonly uow: UnitOfWork,
    @inject(PORTS.OpaqueTokens) private readonly opaque: OpaqueTokens,
    @inject(SessionIssuer) private readonly issuer: SessionIssuer,
    @inject(PORTS.Clock) private readonly clock: Clock,
    @inject(PORTS.AuthSettings) private readonly settings: AuthSettings,
  ) {}

  async execute(input: { refreshToken: string; client?: ClientContext }): Promise<TokenPair> {
    const hash = this.opaque.hash(input.refreshToken);
    const now = this.clock.now();
    const tokens = await this.uow.run(async (repos) => {
      const match = await repos.sessions.findByRefreshTokenHashForUpdate(hash);
      if (!match) return null;
      const { session } = match;
      const decision = session.decideRefresh(match.presented, now, this.settings.refreshGraceSeconds);
      if (decision.kind === 'reject') return null;
      if (decision.kind === 'reuse_detected') {
        await repos.sessions.save(session); // commit the revocation and its event, then refuse
        const client = input.client ?? UNKNOWN_CLIENT;
        // Whoever presented the replaced token is not known to be the user: no actor.
        const entry = selfAuditEntry('refresh_token.reuse_detected', client, session.userId, now, 'refresh_token_reuse');
        await repos.audit.record({ ...entry, actorId: null });
        return null;
      }
      const user = await repos.users.findById(session.userId);
      if (!user || !user.isUsable(this.settings.requireEmailVerification)) return null;
      const refreshToken =
        decision.kind === 'rotate' ? this.issuer.rotate(session, now) : this.issuer.currentRefreshToken(session);
      await repos.sessions.save(session);
      return this.issuer.pair(user, session, refreshToken);
    });
    if (!tokens) throw Errors.invalidRefreshToken();
    return tokens;
  }
}
