import { inject, injectable } from 'inversify';
import { equalsConstantTime } from '@domain/shared/constant-time';
import type { User } from '@domain/user/user';
import type { OtpReplayGuard } from '../ports/otp-replay-guard';
import type { RecoveryCodes } from '../ports/recovery-codes';
import { SEALED, type SecretBox } from '../ports/secret-box';
import type { Totp } from '../ports/totp';
import { PORTS } from '../ports/tokens';

/** What proves the second factor: a code from the authenticator app, or one of the backup codes. */
export type SecondFactorProof = { code: string } | { backupCode: string };

/** A proof checked as far as it can be outside a transaction, to be spent on the locked row. */
export type PreparedProof =
  | { method: 'totp'; step: number; sealedSecret: string }
  | { method: 'recovery_code'; codeHash: string };

/**
 * Why a proof was refused. `replayed`: a code right for the secret whose time step was used already (a client's
 * retry, a double click, duplicates racing each other): refused like a wrong one, but it is no guess, so callers
 * do not count it toward the lockout. Only the service's own records say so (the replay guard's claim, the
 * account's last accepted step), after the code was verified against the secret: a guesser can reach it only
 * with a code that was right and is spent, which gains nothing. `wrong`: everything else (counted).
 */
export type Refusal = 'wrong' | 'replayed';

/** What spending a prepared proof on the locked row came to. */
export type Spent = 'spent' | Refusal;

/**
 * Checks a second factor in two halves. `prepare`, before any transaction: a TOTP code against the secret
 * (T-1..T+1), its time step claimed in the store every instance shares (OtpReplayGuard: the fast refusal of a
 * replay); a backup code hashed. `spend`, inside the transaction, on the user's locked row: the step must be
 * newer than the last one the account accepted (the durable, authoritative replay check: two instances racing
 * with one code serialise on the row, and the second finds the step spent), the backup code must be one of the
 * codes left, and it is removed.
 */
@injectable()
export class SecondFactor {
  constructor(
    @inject(PORTS.Totp) private readonly totp: Totp,
    @inject(PORTS.SecretBox) private readonly box: SecretBox,
    @inject(PORTS.RecoveryCodes) private readonly recoveryCodes: RecoveryCodes,
    @inject(PORTS.OtpReplayGuard) private readonly replay: OtpReplayGuard,
  ) {}

  /**
   * A Refusal when the proof is wrong, or replayed, already. `pending`: checks the set-up secret not yet confirmed.
   * A backup code of the current set that was used already is `replayed` (the set remembers its spent codes); one
   * of a replaced set, or never issued, is `wrong`.
   */
  async prepare(user: User, proof: SecondFactorProof, now: Date, options: { pending?: boolean } = {}): Promise<PreparedProof | Refusal> {
    if ('backupCode' in proof) {
      if (options.pending) return 'wrong';
      const candidates = this.recoveryCodes.candidates(proof.backupCode);
      if (candidates === null) return 'wrong';
      // A code issued before a key change is stored under a previous key (ENCRYPTION_KEYS_PREVIOUS).
      const codeHash = candidates.find((hash) => user.holdsRecoveryCode(hash) || user.isSpentRecoveryCode(hash)) ?? (candidates[0] as string);
      return user.isSpentRecoveryCode(codeHash) ? 'replayed' : { method: 'recovery_code', codeHash };
    }
    const credential = user.credentials.get('totp');
    if (credential === null || (credential.confirmedAt === null) !== (options.pending === true)) return 'wrong';
    const verified = this.totp.verify(this.openSecret(user.id, credential.sealedSecret), proof.code, now);
    if (!verified.ok) return 'wrong';
    // Right for this secret, but its step is spent (durably on the account, or claimed in the shared store).
    if (credential.lastUsedStep !== undefined && verified.step <= credential.lastUsedStep) return 'replayed';
    if (!(await this.replay.claim(user.id, credential.sealedSecret, verified.step))) return 'replayed';
    return { method: 'totp', step: verified.step, sealedSecret: credential.sealedSecret };
  }

  /**
   * The account's TOTP secret. One that does not open (another ENCRYPTION_KEY, or a value moved from another row)
   * is a fault of the stored data, not a wrong code: a 500 whose log line names the account and the way out.
   */
  private openSecret(userId: string, sealed: string): string {
    try {
      return this.box.open(sealed, SEALED.totpSecret(userId));
    } catch {
      throw new Error(
        `The TOTP secret of account ${userId} cannot be opened (ENCRYPTION_KEY is not the one it was sealed with, or the stored value was altered): ` +
          'an admin can remove its MFA (DELETE /admin/users/{id}/mfa) so that the user enrols again.',
      );
    }
  }

  /**
   * Runs `work`, the transaction that is to spend `proof`. When it throws (an outage, a conflict, a refusal found on
   * the locked row), nothing was spent: the TOTP step claimed by `prepare` is given back, so the user can send the
   * same code again (until 2026-12-05 it stayed claimed, and the retry of a right code after a 503 was refused as a
   * replay until the next code came up). Refusals that `work` returns rather than throws keep the claim, unless
   * `unspent` says the result spent nothing (a login lost to a parallel one on the same pending login: until stop
   * 51 the loser's right code stayed claimed and was refused as a replay for its window, a review of stop 50).
   */
  async spending<T>(userId: string, proof: PreparedProof, work: () => Promise<T>, unspent: (result: T) => boolean = () => false): Promise<T> {
    let result: T;
    try {
      result = await work();
    } catch (error) {
      await this.giveBack(userId, proof);
      throw error;
    }
    if (unspent(result)) await this.giveBack(userId, proof);
    return result;
  }

  private async giveBack(userId: string, proof: PreparedProof): Promise<void> {
    if (proof.method === 'totp') await this.replay.release(userId, proof.sealedSecret, proof.step).catch(() => undefined);
  }

  /**
   * On the row locked in this transaction: spends the proof. `replayed`: the code's step, or the backup code, was
   * spent meanwhile (a duplicate racing this one: a TOTP code that got past the shared store, e.g. while Redis was
   * down; a backup code sent twice at once); `wrong`: not (or no longer) good for this account.
   */
  spend(user: User, proof: PreparedProof, now: Date): Spent {
    if (proof.method === 'recovery_code') {
      if (user.useRecoveryCode(proof.codeHash, now)) return 'spent';
      return user.isSpentRecoveryCode(proof.codeHash) ? 'replayed' : 'wrong';
    }
    // A new set-up or a removal since the code was checked: it was checked against another secret.
    if (!this.holdsSecret(user, proof)) return 'wrong';
    return user.useTotpStep(proof.step) ? 'spent' : 'replayed';
  }

  /**
   * Whether the account's TOTP secret is still the one the proof was checked against. The same sealed value, or
   * the same secret sealed anew (`reseal` under another ENCRYPTION_KEY between the check and the locked row:
   * until 2026-12-04 that refused a right code as wrong); a secret set up again is another value.
   */
  holdsSecret(user: User, proof: PreparedProof): boolean {
    const sealed = user.credentials.get('totp')?.sealedSecret;
    if (proof.method !== 'totp' || sealed === undefined) return false;
    if (sealed === proof.sealedSecret) return true;
    try {
      const context = SEALED.totpSecret(user.id);
      return equalsConstantTime(this.box.open(sealed, context), this.box.open(proof.sealedSecret, context));
    } catch {
      return false;
    }
  }

  /** Fresh backup codes, shown once, and the hashes that are stored. */
  newRecoveryCodes(count: number): { codes: string[]; hashes: string[] } {
    const codes = this.recoveryCodes.generate(count);
    return { codes, hashes: codes.map((code) => this.recoveryCodes.hash(code) as string) };
  }
}
