/**
 * Remembers which time steps of a user's one-time passwords were already used, in the store every instance
 * shares (Redis; process memory in embedded mode), so that a code accepted once is refused afterwards
 * (RFC 6238 section 5.2), also when replayed to another instance or raced against itself.
 */
export interface OtpReplayGuard {
  /**
   * Claims `step` (the code's RFC 6238 time step, from Totp.verify) of the secret `factor` for `userId`. Resolves to
   * true for exactly one call per (user, factor, step), however many run concurrently on however many instances;
   * false for every other: false means "this step of this secret was used already" (a replay), nothing else.
   * A claim is remembered for at least as long as a code of that step can be accepted (adapter setting, 120 s).
   *
   * `factor` names the secret the code was checked against: its sealed form, made anew by every set-up, so that the
   * step a code of the old secret spent is still fresh for a new secret set up within the same 30 s (until an
   * outside review on 2026-11-30 the claim was per (user, step), and enabling a new secret within the step of the
   * code that disabled the old one was refused). Adapters keep a digest of it, never the value.
   */
  claim(userId: string, factor: string, step: number): Promise<boolean>;

  /**
   * Gives back a step this caller claimed (claim resolved true) and then could not spend: the transaction that was to
   * record it failed, so the code was never accepted and the user may send it again within its window. Only the
   * holder of a claim calls this. The account's last accepted step, checked on the locked row, stays the authority:
   * a release after a transaction that did commit (its acknowledgement lost) lets nothing through twice.
   */
  release(userId: string, factor: string, step: number): Promise<void>;
}
