/**
 * Consecutive checks of a secret a signed-in user must re-enter (the current password), per subject (a user id
 * under a namespace), in the store every instance shares (Redis; process memory in embedded mode).
 * Not the login lockout: nothing is locked for a time here, the caller decides (revokes the asking session),
 * and the subject is an account id, not an identifier typed by anyone.
 * A check is counted when it begins, before the secret is hashed, so that concurrent checks count too.
 */
export interface SecretAttempts {
  /**
   * Counts one check about to be made and resolves to the number of checks since the last reset, this one
   * included (atomic: n concurrent calls on a fresh subject resolve to 1..n). The count is forgotten
   * `memorySeconds` (adapter setting, default 24 h) after the last check.
   */
  begin(subject: string, now: Date): Promise<number>;
  /** The secret was right, or the caller acted on too many failures: counting starts afresh. */
  reset(subject: string): Promise<void>;
}
