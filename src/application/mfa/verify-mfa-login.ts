import { DomainError } from '@domain/shared/domain-error';
import { inject, injectable } from 'inversify';
import { isRedeemable, type OneTimeToken } from '@domain/token/one-time-token';
import type { TokenPair } from '@domain/session/token-pair';
import type { User } from '@domain/user/user';
import type { UserRepository } from '@domain/user/user.repository';
import { Errors } from '../shared/errors';
import type { Clock } from '../ports/clock';
import type { OpaqueTokens } from '../ports/opaque-tokens';
import type { RateLimitPolicy, RateLimitResult, RateLimiter } from '../ports/rate-limiter';
import type { UnitOfWork } from '../ports/unit-of-work';
import { selfAuditEntry, unauthenticatedAuditEntry } from '../shared/audit-entry';
import type { AuthSettings } from '../shared/auth-settings';
import type { ClientContext } from '../shared/client-context';
import type { MfaSettings } from '../shared/mfa-settings';
import { securityNoticeEmail } from '../shared/security-notices';
import { SessionIssuer } from '../session/session-issuer';
import { MfaLockout, recordSecondFactorLock } from './mfa-lockout';
import { SecondFactor, type PreparedProof, type Refusal, type SecondFactorProof } from './second-factor';
import { PORTS } from '../ports/tokens';

/** CONTRACT §4: a login proved by password and a one-time code. */
export const MFA_AMR = ['pwd', 'otp'];

export interface VerifyMfaInput {
  /** From the password step's answer. */
  mfaToken: string;
  proof: SecondFactorProof;
  client: ClientContext;
  /**
   * Told the per-account quota (RATE_LIMIT_MFA_ID) once it is consumed, refused or not: the transport reports it
   * as it reports its own quotas (RateLimit headers, the refusal count).
   */
  onQuota?: (policy: RateLimitPolicy, result: RateLimitResult) => void;
}

type Outcome = { kind: 'signed_in'; user: User; tokens: TokenPair; codesLeft: number | null } | { kind: Refusal } | { kind: 'gone' };

/**
 * The second login step. The mfa_token (single use, 5 minutes, stored as a digest, voided by a password reset or
 * change) names the account whose password was just proved; a code or a backup code finishes the login, with
 * `amr: ["pwd","otp"]`. Every failure answers the same. Wrong proofs count per account (MfaLockout): the
 * threshold-th locks the account's second step with the password lockout's progressive rules and voids its
 * pending logins. A replayed code (right, its step spent) is refused without counting: it is a retry or a
 * duplicate, no guess. Attempts are also limited per account (RATE_LIMIT_MFA_ID) whatever the IP: a quota,
 * answered 429 RATE_LIMITED like every other (CONTRACT §1), not the lockout's ACCOUNT_LOCKED.
 */
@injectable()
export class VerifyMfaLogin {
  constructor(
    @inject(PORTS.UnitOfWork) private readonly uow: UnitOfWork,
    @inject(PORTS.UserRepository) private readonly users: UserRepository,
    @inject(PORTS.OpaqueTokens) private readonly opaque: OpaqueTokens,
    @inject(PORTS.RateLimiter) private readonly limiter: RateLimiter,
    @inject(SecondFactor) private readonly factor: SecondFactor,
    @inject(MfaLockout) private readonly lockout: MfaLockout,
    @inject(SessionIssuer) private readonly issuer: SessionIssuer,
    @inject(PORTS.Clock) private readonly clock: Clock,
    @inject(PORTS.AuthSettings) private readonly settings: AuthSettings,
    @inject(PORTS.MfaSettings) private readonly mfa: MfaSettings,
  ) {}

  async execute(input: VerifyMfaInput): Promise<{ user: User; tokens: TokenPair }> {
    const now = this.clock.now();
    const digest = this.opaque.hash(input.mfaToken);
    const challenge = await this.uow.run((repos) => repos.oneTimeTokens.findByHash('mfa_pending', digest));
    if (!challenge || !isRedeemable(challenge, 'mfa_pending', now)) return this.refuse(input, challenge?.userId ?? null, 'invalid_mfa_token', Errors.invalidSecondFactor());
    const userId = challenge.userId;
    if (this.mfa.verifyPerAccount) {
      const quota = await this.limiter.consume(this.mfa.verifyPerAccount, `user:${userId}`);
      input.onQuota?.(this.mfa.verifyPerAccount, quota);
      if (!quota.allowed) return this.refuse(input, userId, 'mfa_rate_limited', Errors.rateLimited(quota.resetSeconds));
    }
    try {
      await this.lockout.reserve(userId, now);
    } catch (error) {
      // Not a refusal (the lockout store failed): no verdict to audit, the error answers as it is (until stop 48 it
      // was audited as `mfa_locked`, a lock that did not exist).
      if (!(error instanceof DomainError)) throw error;
      const inFlight = error.code === 'RATE_LIMITED';
      return this.refuse(input, userId, inFlight ? 'attempts_in_flight' : 'mfa_locked', error);
    }
    const attempt = { settled: false };
    try {
      const user = await this.users.findById(userId);
      // Deleted, or MFA removed, since the password step: this pending login is over (not a wrong code).
      const proof = user?.mfaEnabled ? await this.factor.prepare(user, input.proof, now) : undefined;
      // `gone` on the locked row: over before the proof was spent (another request with this token finished first,
      // or the account changed), so the code's claim is given back.
      const spend = (ready: PreparedProof) =>
        this.factor.spending(userId, ready, () => this.finish(input, challenge, ready, attempt), (result) => result.kind === 'gone');
      const outcome: Outcome = proof === undefined ? { kind: 'gone' } : typeof proof === 'string' ? { kind: proof } : await spend(proof);
      if (outcome.kind === 'signed_in') {
        return { user: outcome.user, tokens: outcome.tokens };
      }
      if (outcome.kind === 'gone') return this.refuse(input, userId, 'invalid_mfa_token', Errors.invalidSecondFactor());
      // Its reservation is released (finally): no failure, the pending login stays for a fresh code.
      if (outcome.kind === 'replayed') return this.refuse(input, userId, 'mfa_code_replayed', Errors.invalidSecondFactor());
      attempt.settled = true;
      return this.fail(input, userId, now);
    } finally {
      if (!attempt.settled) await this.lockout.release(userId);
    }
  }

  /** On the locked row: the proof is spent, the pending login consumed, the session started, in one transaction. */
  private finish(input: VerifyMfaInput, challenge: OneTimeToken, proof: PreparedProof, attempt: { settled: boolean }): Promise<Outcome> {
    return this.uow.run<Outcome>(async (repos) => {
      const user = await repos.users.findByIdForUpdate(challenge.userId);
      // Dated once the lock is held: a pending login that expired during the wait is not consumed, and the session
      // starts when it does (until stop 65 both used the request's first instant: a review of clocks).
      const now = this.clock.now();
      // Deleted, suspended or MFA removed since the password step: this pending login is over.
      if (!user || !user.mfaEnabled || !user.isUsable(this.settings.requireEmailVerification)) return { kind: 'gone' };
      const spent = this.factor.spend(user, proof, now);
      if (spent !== 'spent') return { kind: spent };
      // Single use: a concurrent request with the same token and another good code got here first.
      if (!(await repos.oneTimeTokens.consume(challenge.id, now))) return { kind: 'gone' };
      // The last word of the lockout (throws, rolling all of this back, if other attempts locked it meanwhile).
      await this.lockout.succeed(user.id, now);
      attempt.settled = true;
      const { session, tokens } = await this.issuer.start(repos, user, MFA_AMR, input.client, now);
      user.recordSuccessfulLogin(now, session.id, MFA_AMR);
      await repos.users.save(user);
      await repos.audit.record(selfAuditEntry('login.succeeded', input.client, user.id, now));
      const codesLeft = proof.method === 'recovery_code' ? user.recoveryCodesLeft : null;
      if (codesLeft !== null) {
        await repos.audit.record(selfAuditEntry('mfa.recovery_code_used', input.client, user.id, now));
        await repos.emails.enqueue(securityNoticeEmail(user.email, { kind: 'recovery_code_used', occurredAt: now, codesLeft }, this.settings.publicUrl));
      }
      return { kind: 'signed_in', user, tokens, codesLeft };
    });
  }

  /** A wrong or stale proof: one more failure for the account; the threshold-th locks and voids. */
  private async fail(input: VerifyMfaInput, userId: string, now: Date): Promise<never> {
    const outcome = await this.lockout.fail(userId, now);
    await this.uow.run(async (repos) => {
      const user = await repos.users.findByIdForUpdate(userId);
      user?.recordFailedLogin(now, 'wrong_mfa_code');
      await repos.audit.record(unauthenticatedAuditEntry('login.failed', input.client, user ? userId : null, now, 'wrong_mfa_code'));
      if (outcome.lockedNow) await recordSecondFactorLock(repos, user, userId, outcome.lockSeconds, now, input.client);
      if (user) await repos.users.save(user);
    });
    throw Errors.invalidSecondFactor();
  }

  /** Refused before any proof was checked, or a replay: audited, nothing counted. */
  private async refuse(input: VerifyMfaInput, userId: string | null, reason: string, error: unknown): Promise<never> {
    const now = this.clock.now();
    await this.uow.run((repos) => repos.audit.record(unauthenticatedAuditEntry('login.failed', input.client, userId, now, reason)));
    throw error;
  }
}
