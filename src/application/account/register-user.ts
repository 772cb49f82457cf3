import { Errors } from '../shared/errors';
import { inject, injectable } from 'inversify';
import type { TokenPair } from '@domain/session/token-pair';
import { Email } from '@domain/user/email';
import { personName } from '@domain/user/person-name';
import { User } from '@domain/user/user';
import { UserId } from '@domain/user/user-id';
import { Username } from '@domain/user/username';
import type { AuthSettings } from '../shared/auth-settings';
import type { Clock } from '../ports/clock';
import type { IdGenerator } from '../ports/id-generator';
import type { PasswordHasher } from '../ports/password-hasher';
import type { RateLimitPolicy, RateLimitResult, RateLimiter } from '../ports/rate-limiter';
import type { UnitOfWork } from '../ports/unit-of-work';
import type { UserRepository } from '@domain/user/user.repository';
import { selfAuditEntry } from '../shared/audit-entry';
import type { ClientContext } from '../shared/client-context';
import { PasswordPolicy } from '../password/password-policy';
import { SessionIssuer } from '../session/session-issuer';
import { PORTS } from '../ports/tokens';

export interface RegisterUserInput {
  email: string;
  password: string;
  username?: string | undefined;
  firstName?: string | undefined;
  lastName?: string | undefined;
  client: ClientContext;
  /** Told the address's quota (AuthSettings.claimsPerAddress) once consumed: the transport reports it. */
  onQuota?: (policy: RateLimitPolicy, result: RateLimitResult) => void;
}

/**
 * `accepted`: verification required; the same answer, after the same work, whether or not the email was already
 * registered (ProcessAccountRequest finishes it). `created`: verification off, the account exists at once.
 */
export type RegisterUserOutput = { kind: 'accepted' } | { kind: 'created'; user: User; tokens: TokenPair };

@injectable()
export class RegisterUser {
  constructor(
    @inject(PORTS.UnitOfWork) private readonly uow: UnitOfWork,
    @inject(PORTS.UserRepository) private readonly users: UserRepository,
    @inject(PORTS.PasswordHasher) private readonly hasher: PasswordHasher,
    @inject(SessionIssuer) private readonly issuer: SessionIssuer,
    @inject(PORTS.IdGenerator) private readonly ids: IdGenerator,
    @inject(PORTS.Clock) private readonly clock: Clock,
    @inject(PORTS.AuthSettings) private readonly settings: AuthSettings,
    @inject(PasswordPolicy) private readonly policy: PasswordPolicy,
    @inject(PORTS.RateLimiter) private readonly limiter: RateLimiter,
  ) {}

  /**
   * The address's quota (RATE_LIMIT_REGISTER_ID, one counter with the email changes that mail it), spent once the
   * request has passed the checks that need no stored state (the shapes of the address, username and names, the
   * password policy): a sign-up refused for its password spends none; past it, RATE_LIMITED before any hashing. Until
   * stop 63 the route spent it before the password policy ran, so five sign-ups naming someone's address with the
   * password "a" (400 each, from anywhere) kept its owner's sign-up at 429, and email changes to it unmailed, for an
   * hour, with nothing mailed to say so (a review). Five with a strong password still spend it, but each mails the
   * address (a verification link, or "you already have an account").
   */
  private async spendAddressQuota(address: string, input: RegisterUserInput): Promise<void> {
    const policy = this.settings.claimsPerAddress;
    if (!policy) return;
    const quota = await this.limiter.consume(policy, address);
    input.onQuota?.(policy, quota);
    if (!quota.allowed) throw Errors.rateLimited(quota.resetSeconds);
  }

  async execute(input: RegisterUserInput): Promise<RegisterUserOutput> {
    const email = Email.create(input.email);
    const username = input.username === undefined ? null : Username.create(input.username);
    const firstName = personName(input.firstName, 'first_name') ?? null;
    const lastName = personName(input.lastName, 'last_name') ?? null;
    const password = await this.policy.check(input.password, { email: email.value, username: username?.value ?? null, firstName, lastName });
    await this.spendAddressQuota(email.value, input);
    // Hash before anything else: every path pays for it, so the answer's timing does not depend on the address.
    const passwordHash = await this.hasher.hash(password.reveal(), input.client.signal);
    const now = this.clock.now();
    const profile = { username, firstName, lastName };
    if (this.settings.requireEmailVerification) {
      // Only a durable request, the same for a new and a registered address (CONTRACT §3); the worker creates the
      // account or mails the owner. The username is checked first, whatever the email (no enumeration through
      // it), and after reserving it: a worker that is taking the same name right now makes the INSERT wait for
      // its commit, so the lookup then sees the new account.
      await this.uow.run(async (repos) => {
        const { firstName, lastName } = profile;
        await repos.accountRequests.add(
          { kind: 'registration', email: email.value, passwordHash, username: username?.value ?? null, firstName, lastName },
          input.client,
        );
        if (username && (await repos.users.findByUsername(username.value))) throw Errors.usernameTaken();
      });
      return { kind: 'accepted' };
    }
    // The username first, whatever the email, as above. Then one write of new rows only (runInserts: one statement
    // on PostgreSQL): a taken email, or a username taken since this read, rejects it whole with the domain's error.
    if (username && (await this.users.findByUsername(username.value))) throw Errors.usernameTaken();
    return this.uow.runInserts(async (repos) => {
      // Signed in at once, but the address is not proven (an outside review, stop 48: it was marked verified, in the
      // user resource, the registered event and the access token's email_verified claim, for whoever typed it).
      const user = User.register({ id: UserId.create(this.ids.newId()), email, ...profile, passwordHash, emailVerified: false, activeUnverified: true }, now);
      await repos.users.add(user);
      await repos.audit.record(selfAuditEntry('user.registered', input.client, user.id, now));
      const { tokens } = await this.issuer.start(repos, user, ['pwd'], input.client, now);
      return { kind: 'created' as const, user, tokens };
    });
  }
}
