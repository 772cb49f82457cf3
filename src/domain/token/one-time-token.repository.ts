import type { OneTimeToken, OneTimeTokenPurpose } from './one-time-token';

export interface OneTimeTokenRepository {
  add(token: OneTimeToken): Promise<void>;
  findByHash(purpose: OneTimeTokenPurpose, tokenHash: string): Promise<OneTimeToken | null>;
  /**
   * Marks the token consumed if nobody did yet and it has not expired at `now`; true only for the one caller that won.
   * Callers date `now` once their locks are held: a link that expired while the request waited on them is refused
   * (until stop 65 the expiry was judged only before the wait: a review of clocks).
   */
  consume(id: string, now: Date): Promise<boolean>;
  /** Voids every unconsumed token of this purpose for the user (a newer one replaces them). */
  consumeAllFor(userId: string, purpose: OneTimeTokenPurpose, now: Date): Promise<void>;
  /**
   * Voids every unconsumed token of the user, whatever its purpose (a password reset or change, a global
   * logout: no link mailed before it may still act on the account).
   */
  consumeAllOfUser(userId: string, now: Date): Promise<void>;
}
