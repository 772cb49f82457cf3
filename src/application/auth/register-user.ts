import { DomainError } from '@domain/shared/domain-error';
import type { TokenPair } from '@domain/session/token-pair';
import { Email } from '@domain/user/email';
import { User } from '@domain/user/user';
import { UserId } from '@domain/user/user-id';
import { Username } from '@domain/user/username';
import type { AuthSettings } from '../auth-settings';
import { accountExistsEmail } from '../emails/templates';
import type { Clock } from '../ports/clock';
import type { IdGenerator } from '../ports/id-generator';
import type { PasswordHasher } from '../ports/password-hasher';
import type { UnitOfWork } from '../ports/unit-of-work';
import { selfAuditEntry } from './audit-entry';
import type { ClientContext } from './client-context';
import type { PasswordPolicy } from './password-policy';
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
    private readonly issuer: SessionIssuer,
    private readonly verification: VerificationTokens,
    private readonly ids: IdGenerator,
    private readonly clock: Clock,
    private readonly settings: AuthSettings,
    private readonly policy: PasswordPolicy,
  ) {}

  async execute(input: RegisterUserInput): Promise<RegisterUserOutput> {
    const email = Email.create(input.email);
    const username = input.username === undefined ? null : Username.create(input.username);
    const password = await this.policy.check(input.password, {
      email: email.value,
      username: username?.value ?? null,
      firstName: input.firstName ?? null,
      lastName: input.lastName ?? null,
    });
    // Hash before looking the email up, so a taken email costs the same as a new one.
    const passwordHash = await this.hasher.hash(password.reveal());
    const now = this.clock.now();
    const verify = this.settings.requireEmailVerification;
    try {
      const result = await this.uow.run(async (repos) => {
        const existing = await repos.users.findByEmail(email.value);
        if (existing && !verify) throw new DomainError('EMAIL_ALREADY_REGISTERED', 'An account with this email already exists.');
        if (existing) {
          // The owner hears about it instead of a second account; the caller gets the usual 202.
          await repos.emails.enqueue(accountExistsEmail(existing.email, this.settings.publicUrl));
          return { kind: 'accepted' as const };
        }
        const id = UserId.create(this.ids.newId());
        const user = User.register(
          { id, email, username, firstName: input.firstName ?? null, lastName: input.lastName ?? null, passwordHash, emailVerified: !verify },
          now,
        );
        await repos.users.add(user);
        await repos.audit.record(selfAuditEntry('user.registered', input.client, user.id, now));
        if (verify) {
          await repos.emails.enqueue(await this.verification.issue(repos, user, now));
          return { kind: 'accepted' as const };
        }
        const { tokens } = await this.issuer.start(repos, user, ['pwd'], input.client, now);
        return { kind: 'created' as const, user, tokens };
      });
      return result;
    } catch (error) {
      // A concurrent registration of the same address won the unique constraint: with verification on, this
      // one must still look exactly like a new registration (no enumeration).
      if (verify && error instanceof DomainError && error.code === 'EMAIL_ALREADY_REGISTERED') return { kind: 'accepted' };
      throw error;
    }
  }
}
