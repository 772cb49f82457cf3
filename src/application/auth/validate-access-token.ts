import { DomainError } from '@domain/shared/domain-error';
import type { SessionRepository } from '@domain/session/session.repository';
import type { User } from '@domain/user/user';
import type { UserRepository } from '@domain/user/user.repository';
import type { AuthSettings } from '../auth-settings';
import type { TokenVerifier, VerifiedAccessClaims } from '../ports/access-tokens';
import type { Clock } from '../ports/clock';

export interface Principal {
  user: User;
  claims: VerifiedAccessClaims;
}

/**
 * Signature, issuer, audience, type and lifetime (the verifier), then what only this service knows:
 * the session is not revoked or expired and the account is still usable. Revocation takes effect at once.
 */
export class ValidateAccessToken {
  constructor(
    private readonly verifier: TokenVerifier,
    private readonly sessions: SessionRepository,
    private readonly users: UserRepository,
    private readonly clock: Clock,
    private readonly settings: AuthSettings,
  ) {}

  async execute(input: { token: string }): Promise<Principal> {
    const claims = await this.verifier.verify(input.token);
    const now = this.clock.now();
    const session = await this.sessions.findById(claims.sid);
    if (!session || session.userId !== claims.sub || !session.isActive(now)) throw invalid();
    const user = await this.users.findById(claims.sub);
    if (!user || !user.isUsable(this.settings.requireEmailVerification)) throw invalid();
    return { user, claims };
  }
}

function invalid(): DomainError {
  return new DomainError('INVALID_TOKEN', 'The access token is invalid or has been revoked.');
}
