/**
 * Remembers which time steps of a user's one-time passwords were already used, in the store every instance
 * shares (Redis; process memory in embedded mode), so that a code accepted once is refused afterwards
 * (RFC 6238 section 5.2), also when replayed to another instance or raced against itself.
 */
export interface OtpReplayGuard {
  /**
   * Claims `step` (the code's RFC 6238 time step, from Totp.verify) for `userId`. Resolves to true for exactly
   * one call per (user, step), however many run concurrently on however many instances; false for every other.
   * A claim is remembered for at least as long as a code of that step can be accepted (adapter setting, 120 s).
   */
  claim(userId: string, step: number): Promise<boolean>;
}
