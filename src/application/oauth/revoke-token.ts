import { inject, injectable } from 'inversify';
import { DomainError } from '@domain/shared/domain-error';
import type { Session } from '@domain/session/session';
import { isServiceClaims, type TokenVerifier } from '../ports/access-tokens';
import type { Clock } from '../ports/clock';
import type { OpaqueTokens } from '../ports/opaque-tokens';
import { PORTS } from '../ports/tokens';
import type { Repositories, UnitOfWork } from '../ports/unit-of-work';
import { selfAuditEntry } from '../shared/audit-entry';
import type { ClientContext } from '../shared/client-context';
import { looksLikeJwt, MAX_TOKEN_LENGTH } from './token-shape';

/**
 * RFC 7009. A refresh token ends its session; a user access token ends its session too (an access token
 * cannot be revoked alone: it is a signed JWT, the session is what checks consult). Service tokens are
 * stateless and stay valid until they expire (delete the client to stop them introspecting as active).
 * Unknown, garbage, expired and already revoked tokens change nothing; the caller is answered 200 regardless.
 * Any authenticated client may end any user's session, so the audit entry names the client that did
 * (`actor_id`: the service client's id, reason `token_revoked`): the trail to follow if a client misbehaves.
 */
@injectable()
export class RevokeToken {
  constructor(
    @inject(PORTS.TokenVerifier) private readonly verifier: TokenVerifier,
    @inject(PORTS.UnitOfWork) private readonly uow: UnitOfWork,
    @inject(PORTS.OpaqueTokens) private readonly opaque: OpaqueTokens,
    @inject(PORTS.Clock) private readonly clock: Clock,
  ) {}

  /** `serviceClientId`: the authenticated service client asking. */
  async execute(input: { token: string; serviceClientId: string; client: ClientContext }): Promise<{ revoked: boolean }> {
    const token = input.token;
    if (token.length === 0 || token.length > MAX_TOKEN_LENGTH) return { revoked: false };
    if (looksLikeJwt(token)) {
      const claims = await this.verifier.verify(token).catch((error: unknown) => {
        if (error instanceof DomainError) return null;
        throw error;
      });
      if (claims === null || isServiceClaims(claims)) return { revoked: false };
      return this.revoke(input, (repos) => repos.sessions.findByIdForUpdate(claims.sid), claims.sub);
    }
    const hash = this.opaque.hash(token);
    return this.revoke(input, async (repos) => (await repos.sessions.findByRefreshTokenHashForUpdate(hash))?.session ?? null);
  }

  /** Only the session's lock is taken (as RevokeSession of one's own session does): the account row is not changed. */
  private async revoke(
    caller: { serviceClientId: string; client: ClientContext },
    find: (repos: Repositories) => Promise<Session | null>,
    userId?: string,
  ): Promise<{ revoked: boolean }> {
    return this.uow.run(async (repos) => {
      const session = await find(repos);
      const now = this.clock.now(); // once the session's lock is held
      if (!session || (userId !== undefined && session.userId !== userId) || !session.isActive(now)) return { revoked: false };
      session.revoke(now, 'token_revoked');
      await repos.sessions.save(session);
      // The service client acted, not the user: it is the actor.
      const entry = selfAuditEntry('session.revoked', caller.client, session.userId, now);
      await repos.audit.record({ ...entry, actorId: caller.serviceClientId, reason: 'token_revoked' });
      return { revoked: true };
    });
  }
}
