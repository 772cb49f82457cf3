import { DomainError } from '@domain/shared/domain-error';
import type { TokenPair } from '@domain/session/token-pair';
import { Email } from '@domain/user/email';
import { Password } from '@domain/user/password';
import { User } from '@domain/user/user';
import { UserId } from '@domain/user/user-id';
import { Username } from '@domain/user/username';
import type { AuthSettings } from '../auth-settings';
import type { Clock } from '../ports/clock';
import type { IdGenerator } from '../ports/id-generator';
import type { Mailer } from '../ports/mailer';
import type { PasswordHasher } from '../ports/password-hasher';
import type { UnitOfWork } from '../ports/unit-of-work';
import type { ClientContext } from './client-context';
import type { SessionIssuer } from './session-issuer';
import type { VerificationTokens } from './verification-tokens';

export interface RegisterUserInput {
  email: string;
  password: string;
  username?: string | undefined;
  firstName?: string | undefined;
  lastName?: string | undefined;
  client: ClientContext;
}

/** `accepted`: verification required; the same answer whether or not the email was already registered. */
export type RegisterUserOutput = { kind: 'accepted' } | { kind: 'created'; user: User; tokens: TokenPair };

export class RegisterUser {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly hasher: PasswordHasher,
    private readonly mailer: Mailer,
    private readonly issuer: SessionIssuer,
    private readonly verification: VerificationTokens,
    private readonly ids: IdGenerator,
    private readonly clock: Clock,
    private readonly settings: AuthSettings,
  ) {}

  async execute(input: RegisterUserInput): Promise<RegisterUserOutput> {
    const email = Email.create(input.email);
    const username = input.username === undefined ? null : Username.create(input.username);
    const password = Password.create(input.password, this.settings.passwordMinLength);
    // Hash before looking the email up, so a taken email costs the same as a new one.
    const passwordHash = await this.hasher.hash(password.reveal());
    const now = this.clock.now();
    const verify = this.settings.requireEmailVerification;
    try {
      const result = await this.uow.run(async (repos) => {
        if (await repos.users.findByEmail(email.value)) {
          throw new DomainError('EMAIL_ALREADY_REGISTERED', 'An account with this email already exists.');
        }
        const id = UserId.create(this.ids.newId());
        const user = User.register(
          { id, email, username, firstName: input.firstName ?? null, lastName: input.lastName ?? null, passwordHash, emailVerified: !verify },
          now,
        );
        await repos.users.save(user);
        if (verify) return { kind: 'accepted' as const, email: await this.verification.issue(repos, user, now) };
        const { tokens } = await this.issuer.start(repos, user, ['pwd'], input.client, now);
        return { kind: 'created' as const, user, tokens };
      });
      if (result.kind === 'created') return result;
      await this.mailer.send(result.email);
      return { kind: 'accepted' };
    } catch (error) {
      // With verification on, a taken email must look exactly like a new registration (no enumeration).
      if (verify && error instanceof DomainError && error.code === 'EMAIL_ALREADY_REGISTERED') return { kind: 'accepted' };
      throw error;
    }
  }
}
