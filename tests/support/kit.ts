/**
 * The unit-test kit's parts that are not the use-case wiring. (The wiring itself, `createKit`, still lives in
 * tests/unit/application/support/test-kit.ts and the HTTP test app in tests/unit/interface/http/support/test-app.ts;
 * both fold in here.)
 */
import { Argon2PasswordHasher } from '@infrastructure/security/argon2/argon2-password-hasher';

/**
 * argon2's minimum parameters (m = 8 KiB, t = 1, p = 1): the real adapter with the port's full semantics (PHC
 * strings, verify, needsRehash against these parameters, verifyDummy), a few microseconds per hash instead of
 * tens of milliseconds. For use-case tests that are not about hashing; tests about hashing, timing or the
 * configured parameters keep `new Argon2PasswordHasher()`.
 */
export const FAST_ARGON2_PARAMS = { memoryCost: 8, timeCost: 1, parallelism: 1 } as const;

export function fastPasswordHasher(): Argon2PasswordHasher {
  return new Argon2PasswordHasher(FAST_ARGON2_PARAMS);
}

/**
 * The real hasher at `FAST_ARGON2_PARAMS`; `during`, when set, commits its change inside the next verify (then is
 * cleared): a change landing while a request's password is being checked, between its first read and its lock.
 */
export class VerifyHook extends Argon2PasswordHasher {
  during: (() => Promise<void>) | null = null;

  constructor() {
    super(FAST_ARGON2_PARAMS);
  }

  override async verify(hash: string, plain: string, signal?: AbortSignal): Promise<boolean> {
    const during = this.during;
    this.during = null;
    const verdict = await super.verify(hash, plain, signal);
    if (during) await during();
    return verdict;
  }
}
