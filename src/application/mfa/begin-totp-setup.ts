import { inject, injectable } from 'inversify';
import type { UserRepository } from '@domain/user/user.repository';
import type { Clock } from '../ports/clock';
import { SEALED, type SecretBox } from '../ports/secret-box';
import type { Totp } from '../ports/totp';
import type { UnitOfWork } from '../ports/unit-of-work';
import { found } from '../password/current-password';
import { selfAuditEntry } from '../shared/audit-entry';
import { lockAskingAccount } from '../shared/asking-session';
import type { AuthSettings } from '../shared/auth-settings';
import type { ClientContext } from '../shared/client-context';
import type { MfaSettings } from '../shared/mfa-settings';
import { PORTS } from '../ports/tokens';
import { assertRecentSignIn } from './sign-in-recency';

export interface TotpSetup {
  /** Base32, for typing into the app by hand. Shown this once; stored only sealed. */
  secret: string;
  otpauthUri: string;
  /** The URI as a PNG QR code (data URL). */
  qrDataUrl: string;
}

/**
 * Starts TOTP set-up: a fresh 160-bit secret, stored sealed as the account's pending second factor (a set-up
 * started earlier is replaced). Nothing changes at login until EnableTotp proves a code from it. The asking session
 * must have signed in within the last 15 minutes (sign-in-recency.ts), as for EnableTotp: refused here already, before
 * the user scans a code that could not be enabled from this session.
 */
@injectable()
export class BeginTotpSetup {
  constructor(
    @inject(PORTS.UnitOfWork) private readonly uow: UnitOfWork,
    @inject(PORTS.UserRepository) private readonly users: UserRepository,
    @inject(PORTS.Totp) private readonly totp: Totp,
    @inject(PORTS.SecretBox) private readonly box: SecretBox,
    @inject(PORTS.Clock) private readonly clock: Clock,
    @inject(PORTS.MfaSettings) private readonly settings: MfaSettings,
    @inject(PORTS.AuthSettings) private readonly auth: AuthSettings,
  ) {}

  /** `sessionId`: the session asking (the access token's `sid`). */
  async execute(input: { userId: string; sessionId: string; client: ClientContext }): Promise<TotpSetup> {
    found(await this.users.findById(input.userId));
    const secret = this.totp.newSecret();
    const sealed = this.box.seal(secret.base32, SEALED.totpSecret(input.userId));
    const email = await this.uow.run(async (repos) => {
      const { user, now } = await lockAskingAccount(repos, input, this.clock, this.auth.requireEmailVerification);
      await assertRecentSignIn(repos, input.sessionId, now);
      user.beginTotpSetup(sealed, now);
      await repos.users.save(user);
      await repos.audit.record(selfAuditEntry('mfa.setup_started', input.client, user.id, now));
      return user.email;
    });
    const otpauthUri = this.totp.uri(secret.base32, { issuer: this.settings.issuer, account: email });
    return { secret: secret.base32, otpauthUri, qrDataUrl: await this.totp.qrDataUrl(otpauthUri) };
  }
}
