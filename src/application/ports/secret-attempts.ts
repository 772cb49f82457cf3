/**
 * Checks of a secret a signed-in user must re-enter (the current password), per subject (a user id under a
 * namespace), in the store every instance shares (Redis; process memory in embedded mode).
 * Not the login lockout: nothing is locked for a time here, the caller decides (revokes the asking session),
 * and the subject is an account id, not an identifier typed by anyone.
 * A check takes a place when it begins, before the secret is hashed, so that concurrent checks cannot exceed the
 * limit; only checks found wrong count as failures, so right ones sent at once are never taken for wrong ones.
 */
export type CheckOutcome = 'right' | 'wrong' | 'none';

export interface CheckPlace {
  /** false: the failures so far and the checks in flight already reach the limit; nothing was taken. */
  admitted: boolean;
  /** Consecutive failures counted so far (before this check). */
  failures: number;
}

export interface SecretAttempts {
  /**
   * Takes a place for one check about to be made, unless the failures and the checks in flight already reach
   * `limit` (atomic across instances: n concurrent calls on a fresh subject admit `limit` of them). A place not
   * ended frees itself after a while (a process that died mid-check). Failures are forgotten `memorySeconds`
   * (adapter setting, default 24 h) after the last one.
   */
  begin(subject: string, limit: number, now: Date): Promise<CheckPlace>;
  /**
   * Ends an admitted check: `right` starts the failures afresh, `wrong` adds one, `none` (no verdict: an error)
   * only frees the place. Resolves to the consecutive failures after it.
   */
  end(subject: string, outcome: CheckOutcome, now: Date): Promise<number>;
  /**
   * The caller acted on too many failures: the failures start afresh. The checks in flight keep their places until
   * they end (a reset never admits more checks at once than `limit`).
   */
  reset(subject: string): Promise<void>;
}
