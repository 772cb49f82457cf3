import { DomainError } from '@domain/shared/domain-error';
import type { TokenPair } from '@domain/session/token-pair';
import { Email } from '@domain/user/email';
import type { User } from '@domain/user/user';
import type { UserRepository } from '@domain/user/user.repository';
import type { AuthSettings } from '../auth-settings';
import type { Clock } from '../ports/clock';
import type { PasswordHasher } from '../ports/password-hasher';
import type { UnitOfWork } from '../ports/unit-of-work';
import type { ClientContext } from './client-context';
import type { SessionIssuer } from './session-issuer';

export interface LoginInput {
  /** An email address or a username. */
  identifier: string;
  password: string;
  client: ClientContext;
}

export class LoginWithPassword {
  constructor(
    private readonly users: UserRepository,
    private readonly uow: UnitOfWork,
    private readonly hasher: PasswordHasher,
    private readonly issuer: SessionIssuer,
    private readonly clock: Clock,
    private readonly settings: AuthSettings,
  ) {}

  async execute(input: LoginInput): Promise<{ user: User; tokens: TokenPair }> {
    const found = await this.find(input.identifier);
    if (!found) {
      await this.hasher.verifyDummy(input.password);
      throw invalidCredentials();
    }
    const hash = found.credentials.passwordHash;
    if (!(await this.hasher.verify(hash, input.password))) {
      await this.recordFailure(found.id);
      throw invalidCredentials();
    }
    // Status is revealed only to someone who knows the password.
    found.assertCanAuthenticate(this.settings.requireEmailVerification);
    const rehash = this.hasher.needsRehash(hash) ? await this.hasher.hash(input.password) : null;
    const now = this.clock.now();
    return this.uow.run(async (repos) => {
      const user = (await repos.users.findById(found.id)) ?? found;
      if (rehash !== null && user.credentials.passwordHash === hash) user.rehashPassword(rehash);
      const { session, tokens } = await this.issuer.start(repos, user, ['pwd'], input.client, now);
      user.recordSuccessfulLogin(now, session.id, ['pwd']);
      await repos.users.save(user);
      return { user, tokens };
    });
  }

  private find(identifier: string): Promise<User | null> {
    const canonical = Email.canonicalize(identifier);
    return canonical.includes('@') ? this.users.findByEmail(canonical) : this.users.findByUsername(canonical);
  }

  private async recordFailure(userId: string): Promise<void> {
    const now = this.clock.now();
    await this.uow.run(async (repos) => {
      const user = await repos.users.findById(userId);
      if (!user) return;
      user.recordFailedLogin(now, 'wrong_password');
      await repos.users.save(user);
    });
  }
}

function invalidCredentials(): DomainError {
  return new DomainError('INVALID_CREDENTIALS', 'The email, username or password is incorrect.');
}
